"""Most-popular recommender: every user gets the items with the most training interactions.

The classic non-personalised baseline of the generative-recommendation papers (e.g. the
Pop baseline of SASRec, Kang & McAuley, ICDM 2018; the popularity prior of Flower, Gao
et al., SIGIR 2025). Scores are training interaction counts; ties go to the smaller id.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recagora.item_space.errors import DatasetError
from recagora.item_space.recommender import Ranking
from recagora.item_space.types import Interactions, Sample
from recagora.training.baselines.ranking import (
    History,
    mask_histories,
    ranking_from_row,
    restrict_to,
    top_k,
)


class PopularityRecommender:
    """Ranks items by training interaction count (a `Recommender`).

    counts: (N,) non-negative interactions per catalog item.
    exclude_history: never recommend an item the user already has.
    """

    name = "popularity"

    def __init__(self, counts: np.ndarray, exclude_history: bool = False) -> None:
        values = np.asarray(counts, dtype=np.float64)
        if values.ndim != 1 or len(values) == 0 or (values < 0).any():
            raise DatasetError("popularity counts must be a non-empty 1-D array of counts >= 0")
        self.counts = values
        self.exclude_history = exclude_history

    @property
    def n_items(self) -> int:
        return len(self.counts)

    @classmethod
    def from_interactions(
        cls, interactions: Interactions, n_items: int, exclude_history: bool = False
    ) -> PopularityRecommender:
        """Count each item's rows in `interactions` (dense ids below n_items)."""
        return cls(_checked_counts(interactions.frame["item"].to_numpy(), n_items), exclude_history)

    @classmethod
    def from_samples(
        cls, samples: Sequence[Sample], n_items: int, exclude_history: bool = False
    ) -> PopularityRecommender:
        """Count each item's appearances as a sample TARGET.

        With sliding-window samples every interaction but a user's first is the target of
        exactly one sample, so target counts are the training interaction counts.
        """
        if not samples:
            raise DatasetError("no training samples: pass a non-empty split")
        targets = np.fromiter((sample.target for sample in samples), np.int64, len(samples))
        return cls(_checked_counts(targets, n_items), exclude_history)

    def score_batch(self, histories: Sequence[History]) -> np.ndarray:
        """(U, N) float32 scores: the counts for every user (history items -inf if excluded)."""
        scores = np.tile(self.counts.astype(np.float32), (len(histories), 1))
        return mask_histories(scores, histories) if self.exclude_history else scores

    def rank_batch(self, histories: Sequence[History], k: int) -> np.ndarray:
        """(U, k) int64 top-k ids per history over the full catalog, -1 where excluded."""
        return top_k(self.score_batch(histories), k)[0]

    def recommend(
        self, history: History, k: int, candidates: Sequence[int] | None = None
    ) -> Ranking:
        """Top-k items for one history, restricted to `candidates` when given."""
        scores = self.score_batch([history])
        if candidates is not None:
            scores = restrict_to(scores, candidates)
        return ranking_from_row(scores[0], k)


def _checked_counts(item_ids: np.ndarray, n_items: int) -> np.ndarray:
    """(n_items,) counts of `item_ids`; rejects ids outside the catalog."""
    ids = np.asarray(item_ids, dtype=np.int64)
    if len(ids) and (ids.min() < 0 or ids.max() >= n_items):
        bad = int(ids[(ids < 0) | (ids >= n_items)][0])
        raise DatasetError(
            f"item id {bad} is outside the catalog of {n_items} items; check the dataset"
        )
    return np.bincount(ids, minlength=n_items)
