"""(user, next item) pairs with the timed history before them, from a dataset's interactions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from recagora.item_space.errors import DatasetError


@dataclass
class Pair:
    """history: item ids oldest first; gaps: seconds from each event to the next (last: to the target)."""

    user: str
    history: list[int]
    gaps: list[int]
    target: int


def user_sequences(dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """user -> (items, timestamps), chronological."""
    if dataset.interactions is None or len(dataset.interactions) == 0:
        raise DatasetError(f"dataset {dataset.name!r} has no interactions; SELLER explains next items")
    frame = dataset.interactions.frame.sort_values(["user", "timestamp", "item"], kind="stable")
    return {u: (g["item"].to_numpy(), g["timestamp"].to_numpy()) for u, g in frame.groupby("user", sort=True)}


def make_pairs(sequences, n_train: int, n_test: int, max_history: int, rng) -> tuple[list[Pair], list[Pair]]:
    """Test: n_test users' last event. Train: n_train (user, position) draws before the last event."""
    users = sorted(sequences)
    test_users = set(rng.choice(users, size=min(n_test, len(users)), replace=False).tolist())
    test = [_pair(u, *sequences[u], len(sequences[u][0]) - 1, max_history) for u in sorted(test_users)]
    train = []
    for u in rng.choice(users, size=n_train, replace=True):
        items, times = sequences[u]
        if len(items) > 2:
            train.append(_pair(u, items, times, int(rng.integers(1, len(items) - 1)), max_history))
    return train, test


def _pair(user, items, times, position, max_history) -> Pair:
    start = max(0, position - max_history)
    history = items[start:position].tolist()
    gaps = np.diff(times[start : position + 1]).tolist()
    return Pair(str(user), history, [int(g) for g in gaps], int(items[position]))


def collate(pairs: list[Pair], max_history: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(B, L) left-padded ids shifted by 1 (0 = pad), (B, L) gaps, (B,) targets."""
    items = torch.zeros(len(pairs), max_history, dtype=torch.long)
    gaps = torch.zeros_like(items)
    for b, pair in enumerate(pairs):
        n = len(pair.history)
        if n:
            items[b, -n:] = torch.tensor(pair.history) + 1
            gaps[b, -n:] = torch.tensor(pair.gaps)
    return items, gaps, torch.tensor([p.target for p in pairs])
