"""The `UserModel` protocol: what the fidelity suite asks of any simulated user.

Declared here (floor 1), like `Recommender`, so that the fidelity suite (floor 1
metrics, floor 4 command) can judge user models from `agents/` (v0 surrogate,
learned, LLM, hybrid) and plain baselines (random, popularity) through one contract,
without importing them. `experiments/` builds the models by name and hands them in.

Every method works on a whole batch of users at once (arrays, never one call per
user). Histories are built from the TRAINING part of a user's interactions only:
the suite never shows a model a held-out item as history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class UserModel(Protocol):
    """A simulated user's decisions, as probabilities the suite can score and calibrate.

    name: shown in the leaderboard (e.g. "learned", "surrogate-v0", "random").
    A model may also have `fit_summary() -> dict` (JSON-ready: what its fit chose, e.g. the
    hybrid's validation-picked weight); the suite reports it under "fitted" when present.
    """

    name: str

    def choice_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], candidates: np.ndarray
    ) -> np.ndarray:
        """(n, K) probability that user r picks candidate j of row r (dense item ids).

        Rows sum to at most 1: a model with an outside option ("none of these") keeps
        the rest for it. The suite conditions on a choice being made when it scores
        the held-out item (it renormalises each row).
        """
        ...

    def interest_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], items: np.ndarray
    ) -> np.ndarray:
        """(n,) probability that user r would watch / buy `items[r]` if shown it alone
        (Agent4Rec's yes/no question); the suite thresholds it at 0.5."""
        ...

    def rating_probabilities(
        self,
        users: Sequence[int],
        histories: Sequence[Sequence[int]],
        items: np.ndarray,
        levels: np.ndarray,
    ) -> np.ndarray | None:
        """(n, L) probability of each rating level (`levels`, e.g. 1..5) user r would give
        `items[r]`, or None when the model does not rate. The suite scores RMSE and MAE on
        the expectation and samples (seeded) the simulated rating distribution from it, so
        a model that always answers the mean rating cannot pass the distribution checks."""
        ...


@runtime_checkable
class ListUserModel(UserModel, Protocol):
    """A user model that also answers for a list of items shown together (optional)."""

    def list_interest_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], lists: np.ndarray
    ) -> np.ndarray:
        """(n, L) probability that user r picks each item of `lists[r]`, the L items it is
        shown together in this order (the suite shuffles it, seeded: the held-out item is at
        a uniform random position). Each entry is its own yes/no (rows may sum to more than 1:
        a user may pick several); the suite thresholds each at 0.5, as the alone answers.
        Dense item ids, histories from training only, as every method here."""
        ...
