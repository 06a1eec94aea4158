"""Ranking agreement between predicted and true paper scores (PaperEval's Table 1 metrics).

NDCG@K with graded gain 2^rel - 1 (Jarvelin & Kekalainen 2002) over the whole ranked
set, Spearman's rho and Kendall's tau (scipy); with accept/reject labels (relevance 0 or
1) also AUROC (scikit-learn), and NDCG is then NDCG by decision (gain 1 per accepted paper).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score


def graded_ndcg_at_k(predicted: np.ndarray, relevance: np.ndarray, k: int) -> float:
    """NDCG@k of ranking papers by `predicted` (N,), gains 2^relevance - 1 (relevance (N,) in [0,1])."""
    relevance = np.asarray(relevance, dtype=np.float64)
    discounts = 1.0 / np.log2(np.arange(2, min(k, len(relevance)) + 2))
    ranked = relevance[np.argsort(-np.asarray(predicted), kind="stable")][: len(discounts)]
    ideal = np.sort(relevance)[::-1][: len(discounts)]
    best = float(((2.0**ideal - 1.0) * discounts).sum())
    return float(((2.0**ranked - 1.0) * discounts).sum() / best) if best > 0 else 0.0


def ranking_report(predicted: np.ndarray, relevance: np.ndarray) -> dict[str, float]:
    """{"ndcg@10", "ndcg@20", "spearman", "kendall", "n"} for one ranked set, plus "auroc"
    when every relevance is 0 or 1 (decision labels)."""
    predicted, relevance = np.asarray(predicted, np.float64), np.asarray(relevance, np.float64)
    constant = np.ptp(predicted) == 0
    report = {
        "ndcg@10": graded_ndcg_at_k(predicted, relevance, 10),
        "ndcg@20": graded_ndcg_at_k(predicted, relevance, 20),
        "spearman": 0.0 if constant else float(stats.spearmanr(predicted, relevance).statistic),
        "kendall": 0.0 if constant else float(stats.kendalltau(predicted, relevance).statistic),
        "n": float(len(relevance)),
    }
    if is_binary(relevance):
        report["auroc"] = auroc(predicted, relevance)
    return report


def is_binary(relevance: np.ndarray) -> bool:
    """True when every label is 0 or 1 (accept/reject), so AUROC is defined per paper."""
    return len(relevance) > 0 and bool(np.isin(relevance, (0.0, 1.0)).all())


def auroc(predicted: np.ndarray, accepted: np.ndarray) -> float:
    """Area under the ROC curve of `predicted` (N,) for labels `accepted` (N,) in {0, 1};
    NaN when only one class is present (e.g. a day with no rejected paper)."""
    accepted = np.asarray(accepted, np.float64)
    if len(np.unique(accepted)) < 2:
        return float("nan")
    return float(roc_auc_score(accepted, np.asarray(predicted, np.float64)))


def decision_report(predicted: np.ndarray, accepted: np.ndarray) -> dict[str, float]:
    """AUROC and NDCG@10/@20 by decision (accepted = relevance 1) of papers with a decision."""
    predicted, accepted = np.asarray(predicted, np.float64), np.asarray(accepted, np.float64)
    known = np.isfinite(accepted)
    predicted, accepted = predicted[known], accepted[known]
    return {
        "auroc": auroc(predicted, accepted),
        "ndcg@10": graded_ndcg_at_k(predicted, accepted, 10),
        "ndcg@20": graded_ndcg_at_k(predicted, accepted, 20),
        "n": float(len(accepted)),
    }


def random_order_baseline(relevance: np.ndarray, orders: int, seed: int = 0) -> dict[str, dict]:
    """Mean and sd of `ranking_report` over `orders` seeded random orders of the same papers.

    Order i ranks the papers by a permutation drawn from `default_rng((seed, i))`, so the
    figure is reproducible and does not depend on `orders` for the first orders.

    Returns:
        {metric: {"mean": float, "sd": float}} for every metric of `ranking_report` but "n".
    """
    relevance = np.asarray(relevance, np.float64)
    rows = [
        ranking_report(np.random.default_rng((seed, i)).permutation(len(relevance)), relevance)
        for i in range(orders)
    ]
    return {
        name: {"mean": float(np.mean([r[name] for r in rows])), "sd": float(np.std([r[name] for r in rows]))}
        for name in rows[0] if name != "n"
    }  # fmt: skip


def normalise_labels(labels: np.ndarray, low: float, high: float) -> np.ndarray:
    """Labels mapped linearly from [low, high] onto [0, 1] (PaperEval normalises ICLR scores so)."""
    return np.clip((np.asarray(labels, np.float64) - low) / max(high - low, 1e-12), 0.0, 1.0)
