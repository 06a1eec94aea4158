"""What every medication recommender here shares: the visit's context, and a list from scores.

- `context_tokens`: what is known when a visit's list is written (its diagnosis and
  procedure codes, the previous visit's drugs), the input of the co-occurrence clinician,
  the flame-cls classifier and the flame-list editor alike;
- `threshold_list`: the drugs scoring at least a threshold (the best one when none does);
- `best_threshold`: the threshold of a grid with the best mean Jaccard on given visits
  (callers pass VALIDATION visits).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recagora.item_space.metrics.medication import jaccard

THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)


def context_tokens(data, index: int) -> list[str]:
    visit = data.visits[index]
    tokens = [f"dx:{c}" for c in visit.diagnoses] + [f"px:{c}" for c in visit.procedures]
    if visit.previous is not None:
        tokens += [f"rx:{d}" for d in data.visits[visit.previous].drugs]
    return tokens


def threshold_list(scores: np.ndarray, threshold: float) -> tuple[int, ...]:
    chosen = np.flatnonzero(scores >= threshold)
    return tuple(int(d) for d in (chosen if len(chosen) else [int(np.argmax(scores))]))


def best_threshold(scores: Sequence[np.ndarray], truths: Sequence[set[int]]) -> tuple[float, float]:
    """(threshold, its mean Jaccard) over THRESHOLDS for per-visit `scores` against `truths`."""
    means = [
        np.mean(
            [jaccard(threshold_list(s, t), truth) for s, truth in zip(scores, truths, strict=True)]
        )
        for t in THRESHOLDS
    ]
    best = int(np.argmax(means))
    return float(THRESHOLDS[best]), float(means[best])
