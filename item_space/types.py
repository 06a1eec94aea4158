"""Core types of the shared item space (floor 1).

Items are addressed everywhere by a DENSE integer id: the item's position in its
`Catalog` (0..N-1). The id the source dataset used is kept as `Item.key`.
Users are addressed by their dataset key (a string).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from recagora.item_space.errors import DatasetError


class Item(BaseModel):
    """One catalog entry, as agents and the CLI see it."""

    model_config = ConfigDict(frozen=True)

    id: int = Field(description="Dense position in the catalog, 0..N-1.")
    key: str = Field(description="The item's id in the source dataset.")
    title: str = Field(description="Human-readable title (unique within a catalog).")
    text: str = Field(default="", description="Longer description used for embeddings.")
    categories: tuple[str, ...] = Field(default=(), description="Category labels, coarse first.")
    attributes: dict[str, Any] = Field(default_factory=dict, description="Other metadata.")

    def embedding_text(self) -> str:
        """The text the embedder sees: title, categories, then description."""
        parts = [self.title]
        if self.categories:
            parts.append("Categories: " + ", ".join(self.categories))
        if self.text:
            parts.append(self.text)
        return ". ".join(parts)


@dataclass
class Catalog:
    """All items of a dataset plus what is computed over them.

    vectors: (N, d) float32, L2-normalised, row i is item i (None until embedded).
    popularity: (N,) int64 count of TRAINING interactions per item (None until known).
    tree: category tree (networkx DiGraph, root "ROOT") or None.
    """

    name: str
    items: list[Item]
    vectors: np.ndarray | None = None
    popularity: np.ndarray | None = None
    tree: nx.DiGraph | None = None
    _by_key: dict[str, int] = field(default_factory=dict, repr=False)
    _by_title: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for position, item in enumerate(self.items):
            if item.id != position:
                raise DatasetError(f"catalog {self.name!r}: item {item.key!r} has id {item.id}, expected {position}")
        self._by_key = {item.key: item.id for item in self.items}
        self._by_title = {item.title: item.id for item in self.items}

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item_id: int) -> Item:
        return self.items[item_id]

    @property
    def titles(self) -> list[str]:
        return [item.title for item in self.items]

    def id_of_key(self, key: str) -> int:
        """Dense id of the item whose dataset key is `key` (KeyError if absent)."""
        return self._by_key[str(key)]

    def id_of_title(self, title: str) -> int | None:
        """Dense id of the item with exactly this title, or None."""
        return self._by_title.get(title)


@dataclass
class Interactions:
    """User-item events. `frame` columns: user (str), item (int dense id),
    rating (float, NaN when implicit), timestamp (int64 seconds, 0 when unknown)."""

    frame: pd.DataFrame

    COLUMNS = ("user", "item", "rating", "timestamp")

    def __post_init__(self) -> None:
        missing = [c for c in self.COLUMNS if c not in self.frame.columns]
        if missing:
            raise DatasetError(f"interactions are missing columns {missing}")

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def n_users(self) -> int:
        return int(self.frame["user"].nunique())

    def item_counts(self, n_items: int) -> np.ndarray:
        """(n_items,) int64 number of interactions per item."""
        return np.bincount(self.frame["item"].to_numpy(), minlength=n_items).astype(np.int64)

    def histories(self) -> dict[str, UserHistory]:
        """Chronological history of every user."""
        ordered = self.frame.sort_values(["user", "timestamp"], kind="stable")
        return {
            str(user): UserHistory(
                user=str(user),
                items=group["item"].tolist(),
                timestamps=group["timestamp"].tolist(),
                ratings=group["rating"].tolist(),
            )
            for user, group in ordered.groupby("user", sort=False)
        }


class UserHistory(BaseModel):
    """One user's chronological interactions (oldest first)."""

    user: str = Field(description="The user's dataset key.")
    items: list[int] = Field(description="Dense item ids, oldest first.")
    timestamps: list[int] = Field(default_factory=list, description="Seconds, aligned with items.")
    ratings: list[float] = Field(default_factory=list, description="Ratings aligned with items (may be NaN).")

    def last(self, n: int) -> list[int]:
        """The n most recent item ids, oldest first."""
        return self.items[-n:] if n > 0 else []


@dataclass(frozen=True)
class Sample:
    """One next-item prediction case: the history (dense ids, oldest first) and the target."""

    user: str
    history: tuple[int, ...]
    target: int
    timestamp: int = 0


@dataclass
class Split:
    """A train/valid/test split of next-item samples.

    train_interactions: what popularity, surrogates and classic baselines may see.
    """

    train: list[Sample]
    valid: list[Sample]
    test: list[Sample]
    train_interactions: Interactions
    protocol: str = "loo"

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def as_id_array(ids: Sequence[int]) -> np.ndarray:
    """Dense ids as an int64 array."""
    return np.asarray(ids, dtype=np.int64)
