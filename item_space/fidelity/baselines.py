"""The two baseline users every fidelity report carries, so a number is never read alone.

- `RandomUserModel`: picks uniformly among the candidates, says yes to an item by a fair
  coin (seeded), rates uniformly over the levels. Its choice metrics are the chance values
  (NDCG@5 at K=10: 0.2948; the suite breaks ties in expectation).
- `PopularityUserModel`: picks a candidate with probability proportional to its training
  count + 1 (the +1 keeps never-seen items possible); says yes when the item is above the
  median of training popularity (interest = the item's mid-rank percentile among all
  catalog items, so exactly half the catalog is >= 0.5); shown a list, picks one of its
  items in proportion to training count + 1, as it chooses (so at 1:1 it says yes to the
  more popular item); rates with the item's training
  rating histogram smoothed towards the global one (a Dirichlet prior of PRIOR_RATINGS
  pseudo-ratings), the usual item-mean baseline given as a distribution.
Both are fitted on the TRAINING interactions of the split they are built from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from recagora.item_space.types import Split

PRIOR_RATINGS = 5.0  # pseudo-ratings of the global histogram added to each item's own


class RandomUserModel:
    """A user who decides at random (the chance row of the leaderboard)."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self._rng = np.random.default_rng([seed, 7])

    def choice_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], candidates: np.ndarray
    ) -> np.ndarray:
        return np.full(np.shape(candidates), 1.0 / np.shape(candidates)[1])

    def interest_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], items: np.ndarray
    ) -> np.ndarray:
        # A coin per question: a constant 0.5 would say "yes" to everything at threshold 0.5.
        return self._rng.random(len(items))

    def rating_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], items, levels
    ) -> np.ndarray:
        return np.full((len(items), len(levels)), 1.0 / len(levels))


class PopularityUserModel:
    """A user who follows the crowd of the training split."""

    name = "popularity"

    def __init__(self, split: Split, n_items: int) -> None:
        frame = split.train_interactions.frame
        self.counts = np.bincount(frame["item"].to_numpy(np.int64), minlength=n_items)
        # mid-rank percentile in (0, 1): ties share a rank, the median item sits at 0.5
        self.percentile = (rankdata(self.counts) - 0.5) / n_items
        rated = frame.dropna(subset=["rating"])
        self._rated_items = rated["item"].to_numpy(np.int64)
        self._rated_values = rated["rating"].to_numpy(np.float64)
        self.n_items = n_items

    def choice_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], candidates: np.ndarray
    ) -> np.ndarray:
        weights = self.counts[np.asarray(candidates, np.int64)] + 1.0
        return weights / weights.sum(axis=1, keepdims=True)

    def interest_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], items: np.ndarray
    ) -> np.ndarray:
        return self.percentile[np.asarray(items, np.int64)]

    def list_interest_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], lists: np.ndarray
    ) -> np.ndarray:
        # Compares what is shown: a list protocol credits any model that can rank, this one too.
        return self.choice_probabilities(users, histories, lists)

    def rating_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], items, levels
    ) -> np.ndarray | None:
        if len(self._rated_values) == 0:
            return None
        table = self._item_histograms(np.asarray(levels, np.float64))
        return table[np.asarray(items, np.int64)]

    def _item_histograms(self, levels: np.ndarray) -> np.ndarray:
        """(N, L) each item's training rating shares, smoothed towards the global shares."""
        level = np.searchsorted(levels, self._rated_values)
        known = (level < len(levels)) & (
            levels[np.minimum(level, len(levels) - 1)] == self._rated_values
        )
        counts = np.zeros((self.n_items, len(levels)))
        np.add.at(counts, (self._rated_items[known], level[known]), 1.0)
        overall = counts.sum(axis=0) / max(counts.sum(), 1.0)
        smoothed = counts + PRIOR_RATINGS * overall[None, :]
        return smoothed / smoothed.sum(axis=1, keepdims=True)


def baseline_factories(n_items: int, seed: int) -> dict[str, object]:
    """{"random": split -> RandomUserModel, "popularity": split -> PopularityUserModel}."""
    return {
        "random": lambda split: RandomUserModel(seed),
        "popularity": lambda split: PopularityUserModel(split, n_items),
    }
