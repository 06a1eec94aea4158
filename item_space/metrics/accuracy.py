"""Top-K accuracy of ranked lists: HR, Recall, NDCG and MRR at K.

Shapes used throughout:
    ranked:  (n, L) int64 dense item ids, best first; -1 pads a short list.
    targets: (n,) int64 (one target per row; -1 = no target, always a miss) or a
             sequence of n collections of ids (several targets per row).
Every metric has a `per_user_*` form returning (n,) float64 and a mean form returning a
float. An item counts at its FIRST position in a row; later duplicates earn nothing.

Single-target definitions follow the generative-recommender papers (Flower, Gao et al.,
SIGIR 2025, `code/calc.py`; D3/BIGRec): with 0-based rank r of the target,
HR@K = [r < K] and NDCG@K = [r < K] / log2(r + 2). MRR@K = [r < K] / (r + 1) as in TriRec
(Gong et al., arXiv 2603.10673). Multi-target NDCG uses binary gains and the ideal DCG of
min(|T|, K) relevant items (Jarvelin & Kekalainen, 2002).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

Targets = np.ndarray | Sequence[Collection[int]]

__all__ = [
    "hit_rate_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "mrr_at_k",
    "per_user_hit_rate_at_k",
    "per_user_recall_at_k",
    "per_user_ndcg_at_k",
    "per_user_mrr_at_k",
    "accuracy_report",
]


def _as_ranked(ranked: np.ndarray, k: int) -> np.ndarray:
    """(n, min(L, k)) int64 view of the top-k columns; rejects k < 1 and non-2-D input."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    array = np.asarray(ranked, dtype=np.int64)
    if array.ndim != 2:
        raise ValueError(f"ranked must be (n, L), got shape {array.shape}")
    return array[:, :k]


def _first_occurrence(top: np.ndarray) -> np.ndarray:
    """(n, k) bool: True where the id is not -1 and has not appeared earlier in its row."""
    repeated = np.zeros(top.shape, dtype=bool)
    for position in range(1, top.shape[1]):
        repeated[:, position] = (top[:, :position] == top[:, position : position + 1]).any(axis=1)
    return (top >= 0) & ~repeated


def _is_single_target(targets: Targets) -> bool:
    """True for one id per row: a 1-D int array or a sequence of plain ints."""
    if isinstance(targets, np.ndarray):
        return targets.ndim == 1 and targets.dtype != object
    return all(isinstance(t, int | np.integer) for t in targets)


def _relevance(ranked: np.ndarray, targets: Targets, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary gains (n, k) and the number of targets per row (n,) int64."""
    top = _as_ranked(ranked, k)
    if len(targets) != len(top):
        raise ValueError(f"{len(top)} ranked rows but {len(targets)} targets")
    if _is_single_target(targets):
        single = np.asarray(targets, dtype=np.int64)
        gains = top == single[:, None]
        n_targets = (single >= 0).astype(np.int64)
    else:
        sets = [np.fromiter({int(t) for t in row if int(t) >= 0}, np.int64) for row in targets]
        rows = [np.isin(row, wanted) for row, wanted in zip(top, sets, strict=True)]
        gains = np.array(rows, dtype=bool).reshape(top.shape)
        n_targets = np.array([len(wanted) for wanted in sets], dtype=np.int64)
    return gains & _first_occurrence(top), n_targets


def _first_hit_rank(gains: np.ndarray) -> np.ndarray:
    """(n,) 0-based position of the first relevant item, -1 when none is in the list."""
    has_hit = gains.any(axis=1)
    return np.where(has_hit, gains.argmax(axis=1), -1)


def per_user_hit_rate_at_k(ranked: np.ndarray, targets: Targets, k: int) -> np.ndarray:
    """(n,) 1.0 where at least one target is among the top-k, else 0.0."""
    gains, _ = _relevance(ranked, targets, k)
    return gains.any(axis=1).astype(np.float64)


def per_user_recall_at_k(ranked: np.ndarray, targets: Targets, k: int) -> np.ndarray:
    """(n,) |top-k ∩ T| / |T|; 0.0 for a row without targets. Equals HR for one target."""
    gains, n_targets = _relevance(ranked, targets, k)
    hits = gains.sum(axis=1).astype(np.float64)
    return np.divide(hits, n_targets, out=np.zeros_like(hits), where=n_targets > 0)


def per_user_ndcg_at_k(ranked: np.ndarray, targets: Targets, k: int) -> np.ndarray:
    """(n,) DCG@k / IDCG@k with binary gains; 1/log2(r+2) for one target at rank r."""
    gains, n_targets = _relevance(ranked, targets, k)
    discounts = 1.0 / np.log2(np.arange(gains.shape[1]) + 2.0)
    dcg = (gains * discounts).sum(axis=1)
    ideal_discounts = 1.0 / np.log2(np.arange(k) + 2.0)
    idcg = np.concatenate([[0.0], np.cumsum(ideal_discounts)])[np.minimum(n_targets, k)]
    return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)


def per_user_mrr_at_k(ranked: np.ndarray, targets: Targets, k: int) -> np.ndarray:
    """(n,) 1/(r+1) for the first relevant item at 0-based rank r < k, else 0.0."""
    gains, _ = _relevance(ranked, targets, k)
    first = _first_hit_rank(gains).astype(np.float64)
    return np.divide(1.0, first + 1.0, out=np.zeros_like(first), where=first >= 0)


def _mean(values: np.ndarray) -> float:
    if len(values) == 0:
        raise ValueError("no rows to evaluate: ranked is empty")
    return float(values.mean())


def hit_rate_at_k(ranked: np.ndarray, targets: Targets, k: int) -> float:
    """HR@k averaged over rows (Flower's `HR`)."""
    return _mean(per_user_hit_rate_at_k(ranked, targets, k))


def recall_at_k(ranked: np.ndarray, targets: Targets, k: int) -> float:
    """Recall@k averaged over rows; equals HR@k when every row has one target."""
    return _mean(per_user_recall_at_k(ranked, targets, k))


def ndcg_at_k(ranked: np.ndarray, targets: Targets, k: int) -> float:
    """NDCG@k averaged over rows (Flower's and TriRec's `NDCG`)."""
    return _mean(per_user_ndcg_at_k(ranked, targets, k))


def mrr_at_k(ranked: np.ndarray, targets: Targets, k: int) -> float:
    """MRR@k averaged over rows (TriRec's `MRR` with k = list length)."""
    return _mean(per_user_mrr_at_k(ranked, targets, k))


def accuracy_report(
    ranked: np.ndarray, targets: Targets, ks: Sequence[int] = (1, 3, 5, 10)
) -> dict[str, float]:
    """{"HR@k": ..., "NDCG@k": ...} for every k in ks (the papers' table columns)."""
    report: dict[str, float] = {}
    for k in ks:
        report[f"HR@{k}"] = hit_rate_at_k(ranked, targets, k)
        report[f"NDCG@{k}"] = ndcg_at_k(ranked, targets, k)
    return report
