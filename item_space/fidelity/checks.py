"""What a user model hands back is checked before it is scored (strict at the boundary).

A wrong shape, a NaN or a probability outside [0, 1] (a row above 1 beyond rounding) is
a one-line FidelityError naming the model, never a silently wrong metric.
"""

from __future__ import annotations

import numpy as np

from recagora.item_space.fidelity.heldout import FidelityError
from recagora.item_space.user_model import UserModel

TOLERANCE = 1e-6


def checked_model(name: str, model: object) -> UserModel:
    """`model` if it implements the UserModel protocol, else a FidelityError."""
    if not isinstance(model, UserModel):
        raise FidelityError(
            f"user model {name!r} does not implement UserModel (choice_probabilities, "
            "interest_probabilities, rating_probabilities and a name)"
        )
    return model


def checked_probabilities(name: str, what: str, values, shape: tuple[int, ...]) -> np.ndarray:
    """`values` as a float64 array of `shape` with entries in [0, 1]."""
    array = np.asarray(values, np.float64)
    if array.shape != shape:
        raise FidelityError(
            f"user model {name!r}: {what} has shape {array.shape}, expected {shape}"
        )
    if not np.isfinite(array).all():
        raise FidelityError(f"user model {name!r}: {what} contains NaN or infinity")
    if array.size and (array.min() < -TOLERANCE or array.max() > 1 + TOLERANCE):
        raise FidelityError(f"user model {name!r}: {what} has values outside [0, 1]")
    if array.ndim == 2 and array.size and array.sum(axis=1).max() > 1 + 1e-4:
        raise FidelityError(f"user model {name!r}: {what} has rows summing to more than 1")
    return np.clip(array, 0.0, 1.0)


def checked_ratings(name: str, values, n: int, n_levels: int) -> np.ndarray:
    """(n, L) rating distribution of a model (rows summing to at most 1)."""
    return checked_probabilities(name, "rating_probabilities", values, (n, n_levels))
