"""Fidelity metrics: how closely simulated users' decisions match real held-out behaviour.

Plain functions over numpy arrays, used by `recagora.item_space.fidelity` (the suite).

Choice (one held-out item among K candidates; Agent4Rec / TriRec-style ranking):
    probs: (n, K) probabilities of each candidate, rows may sum to < 1 (an outside
        option); every choice metric first RENORMALISES each row (the choice is
        conditioned on one being made; an all-zero row becomes uniform).
    positives: (n,) int64 column of the held-out item in each row.
    Ties are broken uniformly at random, IN EXPECTATION: a positive tied with t-1 other
    candidates at the top counts 1/t of a hit, and its NDCG gain is averaged over the t
    positions the tie spans. So a model that answers a constant gets exactly the chance
    value (NDCG@5 at K=10: (1/10) sum_{p=1..5} 1/log2(p+1) = 0.2948), never a lucky one.
Calibration (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017): the
    reliability diagram bins the TOP-1 CONFIDENCE (largest renormalised probability of a
    row) into 10 equal-width bins over [0, 1] and compares each bin's mean confidence with
    its accuracy (the share of rows whose top-1 candidate is the held-out item);
    ECE = sum_b (n_b / n) |acc_b - conf_b|. The same bins serve a yes/no probability
    (confidence = P(yes), accuracy = share of true yes).
Ratings: RMSE / MAE of a point prediction (the expectation of a rating distribution).
Distributions: Jensen-Shannon DIVERGENCE in bits (base 2, in [0, 1]); scipy's
    `jensenshannon` returns the DISTANCE, the square root of it, which we square. The
    issue's target "rating JSD <= 0.02" is this divergence.
Population bias: the share of chosen items per popularity group (groups from
    `recagora.item_space.popularity`), and the Gini coefficient of how often each catalog
    item is chosen (`exposure_gini`, zeros included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import pearsonr

from recagora.item_space.metrics.fairness import exposure_gini

N_BINS = 10
LOG_FLOOR = 1e-12  # log-likelihood of a zero probability is clipped here, not -inf


def renormalise(probs: np.ndarray) -> np.ndarray:
    """(n, K) rows scaled to sum to 1; an all-zero (or negative-sum) row becomes uniform."""
    array = np.clip(np.asarray(probs, np.float64), 0.0, None)
    if array.ndim != 2:
        raise ValueError(f"probabilities must be (n, K), got shape {array.shape}")
    totals = array.sum(axis=1, keepdims=True)
    uniform = np.full_like(array, 1.0 / max(array.shape[1], 1))
    return np.where(totals > 0, array / np.where(totals > 0, totals, 1.0), uniform)


def _positive_probability(probs: np.ndarray, positives: np.ndarray) -> np.ndarray:
    rows = np.arange(len(probs))
    return probs[rows, np.asarray(positives, np.int64)]


def _tie_span(probs: np.ndarray, positives: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(higher, tied): per row, candidates strictly above the positive and tied with it
    (the positive included, so tied >= 1)."""
    mine = _positive_probability(probs, positives)[:, None]
    return (probs > mine).sum(axis=1), (probs == mine).sum(axis=1)


def top1_accuracy(probs: np.ndarray, positives: np.ndarray) -> float:
    """Expected share of rows whose top-1 candidate is the positive (ties: 1/t each)."""
    return float(per_row_top1(renormalise(probs), positives).mean())


def per_row_top1(probs: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """(n,) expected top-1 hit of each row under random tie-breaking."""
    higher, tied = _tie_span(probs, positives)
    return np.where(higher == 0, 1.0 / tied, 0.0)


def ndcg_of_positive(probs: np.ndarray, positives: np.ndarray, k: int = 5) -> float:
    """Mean NDCG@k of the single positive when candidates are ranked by probability.

    With one relevant item the ideal DCG is 1, so NDCG@k = [r < k] / log2(r + 2) for the
    positive's 0-based rank r; a tie spanning ranks h..h+t-1 averages that gain.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    higher, tied = _tie_span(renormalise(probs), positives)
    width = int(tied.max()) if len(tied) else 1
    ranks = higher[:, None] + np.arange(width)[None, :]
    inside = (np.arange(width)[None, :] < tied[:, None]) & (ranks < k)
    gains = np.where(inside, 1.0 / np.log2(ranks + 2.0), 0.0)
    return float((gains.sum(axis=1) / tied).mean()) if len(tied) else 0.0


def mean_log_likelihood(probs: np.ndarray, positives: np.ndarray) -> float:
    """Mean natural log of the renormalised probability of the true choice (<= 0;
    uniform over K gives -log K). Zero probabilities are clipped at 1e-12."""
    chosen = _positive_probability(renormalise(probs), positives)
    return float(np.log(np.clip(chosen, LOG_FLOOR, 1.0)).mean())


@dataclass(frozen=True)
class ReliabilityBins:
    """Equal-width reliability bins over [0, 1].

    edges: (B+1,); confidence, accuracy: (B,) means per bin (NaN where empty); count: (B,).
    """

    edges: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    count: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: count-weighted mean |accuracy - confidence|."""
        full = self.count > 0
        total = self.count.sum()
        if total == 0:
            return 0.0
        gaps = np.abs(self.accuracy[full] - self.confidence[full])
        return float((gaps * self.count[full]).sum() / total)

    def as_dict(self) -> dict[str, list]:
        return {
            "edges": self.edges.tolist(),
            "confidence": _nan_to_none(self.confidence),
            "accuracy": _nan_to_none(self.accuracy),
            "count": self.count.astype(int).tolist(),
        }


def _nan_to_none(values: np.ndarray) -> list[float | None]:
    """JSON has no NaN: empty bins become null."""
    return [None if np.isnan(value) else float(value) for value in values]


def reliability_bins(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS
) -> ReliabilityBins:
    """Bin (n,) confidences in [0, 1] into n_bins equal-width bins (a confidence of exactly
    1 goes to the last bin); `correct` is (n,) in [0, 1] (a fraction for expected hits)."""
    confidence = np.clip(np.asarray(confidence, np.float64), 0.0, 1.0)
    correct = np.asarray(correct, np.float64)
    which = np.minimum((confidence * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(which, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, confidence, n_bins) / count
        accuracy = np.bincount(which, correct, n_bins) / count
    return ReliabilityBins(np.linspace(0.0, 1.0, n_bins + 1), mean_confidence, accuracy, count)


def choice_reliability(
    probs: np.ndarray, positives: np.ndarray, n_bins: int = N_BINS
) -> ReliabilityBins:
    """Reliability of the top-1 confidence: bins of max renormalised probability vs the
    (expected) top-1 hit of each row."""
    normalised = renormalise(probs)
    return reliability_bins(normalised.max(axis=1), per_row_top1(normalised, positives), n_bins)


def expected_calibration_error(
    probs: np.ndarray, positives: np.ndarray, n_bins: int = N_BINS
) -> float:
    """ECE of the top-1 confidence of choice probabilities (10 equal-width bins)."""
    return choice_reliability(probs, positives, n_bins).ece


def binary_report(
    probability: np.ndarray, labels: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 of the yes/no decision `probability >= threshold`
    against (n,) bool labels (True = the user did interact); precision is 0 with no yes."""
    says_yes = np.asarray(probability, np.float64) >= threshold
    truth = np.asarray(labels, bool)
    true_pos = float((says_yes & truth).sum())
    precision = true_pos / says_yes.sum() if says_yes.any() else 0.0
    recall = true_pos / truth.sum() if truth.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    accuracy = float((says_yes == truth).mean()) if len(truth) else 0.0
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}


def rmse(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Root mean squared error of (n,) predictions."""
    errors = np.asarray(predicted, np.float64) - np.asarray(truth, np.float64)
    return float(np.sqrt(np.mean(errors**2)))


def mae(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean absolute error of (n,) predictions."""
    errors = np.asarray(predicted, np.float64) - np.asarray(truth, np.float64)
    return float(np.mean(np.abs(errors)))


def expected_ratings(probs: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """(n,) expectation of (n, L) rating distributions over `levels` (L,), rows renormalised."""
    return renormalise(probs) @ np.asarray(levels, np.float64)


def level_distribution(ratings: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """(L,) share of the ratings at each level (ratings not among the levels are ignored)."""
    levels = np.asarray(levels, np.float64)
    counts = (np.asarray(ratings, np.float64)[:, None] == levels[None, :]).sum(axis=0)
    return counts / counts.sum() if counts.sum() > 0 else counts.astype(np.float64)


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (base 2), in [0, 1]: the SQUARE of scipy's
    Jensen-Shannon distance. Inputs are non-negative weights, normalised here."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("both distributions need positive mass")
    return float(jensenshannon(p, q, base=2.0) ** 2)


def low_rating_share(ratings: np.ndarray, highest_low: float = 2.0) -> float:
    """Share of ratings <= highest_low (default: the 1-2 star share on a 1..5 scale)."""
    values = np.asarray(ratings, np.float64)
    return float((values <= highest_low).mean()) if len(values) else 0.0


def user_mean_correlation(users: np.ndarray, simulated: np.ndarray, real: np.ndarray) -> float:
    """Pearson correlation, across users, of each user's mean simulated rating with their
    mean real rating (users: (n,) key of each rating pair). NaN when fewer than 2 users or
    either side is constant."""
    frame = {"user": np.asarray(users), "sim": simulated, "real": real}
    means = pd.DataFrame(frame).groupby("user")[["sim", "real"]].mean()
    if len(means) < 2 or means["sim"].nunique() < 2 or means["real"].nunique() < 2:
        return float("nan")
    return float(pearsonr(means["sim"], means["real"]).statistic)


def group_distribution(items: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """(G,) share of `items` (dense ids) in each popularity group (ungrouped -1 ignored)."""
    groups = np.asarray(group)[np.asarray(items, np.int64)]
    counts = np.bincount(groups[groups >= 0], minlength=n_groups).astype(np.float64)
    return counts / counts.sum() if counts.sum() > 0 else counts


def popularity_group_jsd(
    simulated: np.ndarray, real: np.ndarray, group: np.ndarray, n_groups: int = 8
) -> float:
    """JSD (bits) between the popularity-group distributions of simulated and real choices."""
    return js_divergence(
        group_distribution(simulated, group, n_groups), group_distribution(real, group, n_groups)
    )


def choice_gini(items: np.ndarray, n_items: int) -> float:
    """Gini coefficient of how often each of the n_items catalog items is chosen."""
    counts = np.bincount(np.asarray(items, np.int64), minlength=n_items)
    return exposure_gini(counts)
