"""Ranking agreement between predicted and true paper scores (PaperEval's Table 1 metrics).

NDCG@K with graded gain 2^rel - 1 (Jarvelin & Kekalainen 2002) over the whole ranked
set, Spearman's rho and Kendall's tau (scipy).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def graded_ndcg_at_k(predicted: np.ndarray, relevance: np.ndarray, k: int) -> float:
    """NDCG@k of ranking papers by `predicted` (N,), gains 2^relevance - 1 (relevance (N,) in [0,1])."""
    relevance = np.asarray(relevance, dtype=np.float64)
    discounts = 1.0 / np.log2(np.arange(2, min(k, len(relevance)) + 2))
    ranked = relevance[np.argsort(-np.asarray(predicted), kind="stable")][: len(discounts)]
    ideal = np.sort(relevance)[::-1][: len(discounts)]
    best = float(((2.0**ideal - 1.0) * discounts).sum())
    return float(((2.0**ranked - 1.0) * discounts).sum() / best) if best > 0 else 0.0


def ranking_report(predicted: np.ndarray, relevance: np.ndarray) -> dict[str, float]:
    """{"ndcg@10", "ndcg@20", "spearman", "kendall", "n"} for one ranked set."""
    predicted, relevance = np.asarray(predicted, np.float64), np.asarray(relevance, np.float64)
    constant = np.ptp(predicted) == 0
    return {
        "ndcg@10": graded_ndcg_at_k(predicted, relevance, 10),
        "ndcg@20": graded_ndcg_at_k(predicted, relevance, 20),
        "spearman": 0.0 if constant else float(stats.spearmanr(predicted, relevance).statistic),
        "kendall": 0.0 if constant else float(stats.kendalltau(predicted, relevance).statistic),
        "n": float(len(relevance)),
    }


def normalise_labels(labels: np.ndarray, low: float, high: float) -> np.ndarray:
    """Labels mapped linearly from [low, high] onto [0, 1] (PaperEval normalises ICLR scores so)."""
    return np.clip((np.asarray(labels, np.float64) - low) / max(high - low, 1e-12), 0.0, 1.0)
