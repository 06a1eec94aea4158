"""The `Recommender` protocol: what the platform agent asks of any recommender.

Declared here (floor 1) so that agents/ and training/ both depend on it without
depending on each other; experiments/ wires a trained policy into the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from recagora.item_space.types import UserHistory


@dataclass(frozen=True)
class Ranking:
    """Ranked dense item ids (best first) with their scores (higher is better)."""

    items: np.ndarray  # (k,) int64
    scores: np.ndarray  # (k,) float32

    def __len__(self) -> int:
        return len(self.items)


@runtime_checkable
class Recommender(Protocol):
    """Anything that ranks items for a user history."""

    name: str

    def recommend(
        self, history: UserHistory, k: int, candidates: Sequence[int] | None = None
    ) -> Ranking:
        """Top-k items for `history`; restricted to `candidates` when given."""
        ...
