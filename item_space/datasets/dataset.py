"""The `Dataset` bundle a loader returns: catalog, interactions, optional given split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Catalog, Interactions, Split

PROTOCOLS = ("auto", "loo", "random_loo", "global_time", "given")


@dataclass
class Dataset:
    """One loaded dataset.

    name: registry name or the folder/file stem of a path.
    catalog: every item, dense ids 0..N-1.
    interactions: user-item events (None when the source has no user events).
    given_split: the split the files define (e.g. the Flower CSVs), else None.
    meta: source facts: {"format", "source", "protocol" (the default split), ...}.
    users: optional per-user attributes, index = user key (ML-100K: age, gender, ...).
    """

    name: str
    catalog: Catalog
    interactions: Interactions | None = None
    given_split: Split | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    users: pd.DataFrame | None = None

    def default_protocol(self) -> str:
        """'given' when the files define a split, else the source's protocol (default 'loo')."""
        if self.given_split is not None:
            return "given"
        return str(self.meta.get("protocol", "loo"))

    def split(
        self,
        protocol: str = "auto",
        *,
        max_history: int | None = None,
        min_history: int = 1,
        fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
        seed: int = 0,
    ) -> Split:
        """Next-item samples under `protocol` ("auto" | "loo" | "random_loo" | "global_time" |
        "given").

        Args:
            max_history: keep at most this many most recent items per history (None = all).
            min_history: a sample needs at least this many history items.
            fractions: train/valid/test shares of samples for "global_time".
            seed: the draw of each user's held-out events for "random_loo".
        Raises:
            DatasetError: unknown protocol, or no interactions / no given split for it.
        """
        from recagora.item_space import splits

        protocol = self.default_protocol() if protocol == "auto" else protocol
        if protocol == "given":
            if self.given_split is None:
                raise DatasetError(
                    f"dataset {self.name!r} ships no split (use protocol 'loo' or 'global_time')"
                )
            return splits.truncate_histories(self.given_split, max_history)
        if protocol not in ("loo", "random_loo", "global_time"):
            raise DatasetError(
                f"unknown split protocol {protocol!r} (choose one of {', '.join(PROTOCOLS)})"
            )
        if self.interactions is None or len(self.interactions) == 0:
            raise DatasetError(
                f"dataset {self.name!r} has no interactions to split (use protocol 'given')"
            )
        if protocol == "loo":
            return splits.leave_one_out(
                self.interactions, max_history=max_history, min_history=min_history
            )
        if protocol == "random_loo":
            return splits.random_leave_one_out(
                self.interactions, seed=seed, max_history=max_history, min_history=min_history
            )
        return splits.global_time_split(
            self.interactions, fractions=fractions, max_history=max_history, min_history=min_history
        )

    def summary(self) -> dict[str, Any]:
        """Counts: items, users, interactions, sparsity (1 - events / (users*items))."""
        n_items = len(self.catalog)
        n_users = self.interactions.n_users if self.interactions is not None else 0
        n_events = len(self.interactions) if self.interactions is not None else 0
        density = n_events / (n_users * n_items) if n_users and n_items else 0.0
        return {
            "name": self.name,
            "items": n_items,
            "users": n_users,
            "interactions": n_events,
            "sparsity": 1.0 - density,
            "protocol": self.default_protocol(),
        }
