"""Turning score matrices into top-k lists, shared by the classic baselines.

Ties are broken by the smaller item id, so rankings are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recagora.item_space.recommender import Ranking
from recagora.item_space.types import UserHistory

History = UserHistory | Sequence[int]


def history_items(history: History) -> list[int]:
    """The dense item ids of a history (a `UserHistory` or a plain id sequence)."""
    return list(history.items) if isinstance(history, UserHistory) else [int(i) for i in history]


def mask_histories(scores: np.ndarray, histories: Sequence[History]) -> np.ndarray:
    """Set the score of every item already in row u's history to -inf, in place; (U, N)."""
    for row, history in enumerate(histories):
        seen = history_items(history)
        if seen:
            scores[row, seen] = -np.inf
    return scores


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(U, k) ids and scores of the k best items per row, best first, ties by smaller id.

    Rows may hold -inf (excluded items); those slots come back as id -1, score -inf.
    """
    k = min(k, scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    best = np.take_along_axis(scores, order, axis=1)
    return np.where(np.isneginf(best), -1, order).astype(np.int64), best.astype(np.float32)


def restrict_to(scores: np.ndarray, candidates: Sequence[int]) -> np.ndarray:
    """(U, N) copy of scores with every item outside `candidates` set to -inf."""
    allowed = np.zeros(scores.shape[1], dtype=bool)
    allowed[np.asarray(candidates, dtype=np.int64)] = True
    return np.where(allowed, scores, -np.inf)


def ranking_from_row(scores: np.ndarray, k: int) -> Ranking:
    """One `Ranking` from a (N,) score row; excluded (-inf) items are dropped."""
    ids, best = top_k(scores[None, :], k)
    keep = ids[0] >= 0
    return Ranking(items=ids[0][keep], scores=best[0][keep])
