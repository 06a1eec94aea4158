"""File 2 of 5: the roles' implementations, registered in the one agent registry.

`register_agent(role, impl, class)` makes "shelf=random" a valid `agents` spec: the
config parses it with `parse_agent_spec` (an unknown name is a one-line error with a
suggestion) and `prepare` builds the class with `resolve`. Each role is a plain class
over numpy arrays; randomness comes in as a generator (`stage_rng`), never kept.
"""

from __future__ import annotations

import numpy as np

from recagora.agents.registry import register_agent


class PopularShelf:
    """Ranks items by their training popularity (ties by id)."""

    def __init__(self, popularity: np.ndarray) -> None:
        self.popularity = np.asarray(popularity, np.float64)

    def scores(self, n_users: int, rng: np.random.Generator) -> np.ndarray:
        """(n_users, N) higher = shown first; the same order for everyone."""
        return np.broadcast_to(self.popularity, (n_users, len(self.popularity)))


class RandomShelf:
    """Ranks items uniformly at random per user and round (the baseline)."""

    def __init__(self, popularity: np.ndarray) -> None:
        self.n_items = len(popularity)

    def scores(self, n_users: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random((n_users, self.n_items))


class SurrogateShopper:
    """Looks down the shelf, one slot further with probability `patience`, and buys the
    first item it likes (its real rating >= like_rating); at most one item per round."""

    def __init__(self, patience: float) -> None:
        self.patience = patience

    def choose(self, slates: np.ndarray, liked: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(U,) bought item per user, -1 = nothing. slates: (U, k) ids, -1 = empty slot."""
        seen = np.cumprod(rng.random(slates.shape) < self.patience, axis=1)
        seen = np.concatenate([np.ones((len(slates), 1), bool), seen[:, :-1] > 0], axis=1)
        rows = np.arange(len(slates))[:, None]
        wanted = (slates >= 0) & seen & liked[rows, np.clip(slates, 0, None)]
        first = wanted.argmax(axis=1)
        return np.where(wanted.any(axis=1), slates[np.arange(len(slates)), first], -1)


register_agent("shelf", "popular", PopularShelf)
register_agent("shelf", "random", RandomShelf)
register_agent("shopper", "surrogate", SurrogateShopper)
