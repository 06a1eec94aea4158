"""The state reducers every scenario shares (LangGraph merges a node's return with them).

A state key without a reducer is "last write wins". Keys written by several nodes, or
accumulated over the run, carry one of these in their type: `events: RoundEvents`,
`Annotated[np.ndarray, add_arrays]`, `Annotated[dict[str, float], add_counts]`.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np


def append_round_events(
    current: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Append `new` events; when they open a later round, drop the earlier round's events.

    The earlier round is on disk by then (its last node handed it to the run's sink), so
    the checkpointed state never grows with the number of rounds.
    """
    if not new:
        return current
    if current and new[0].get("round", -1) > current[-1].get("round", -1):
        return list(new)
    return [*current, *new]


def add_arrays(current: np.ndarray | None, increment: np.ndarray | None) -> np.ndarray | None:
    """Element-wise sum (None = nothing yet)."""
    if current is None:
        return increment
    if increment is None:
        return current
    return current + increment


def add_counts(current: dict[str, float], increment: dict[str, float]) -> dict[str, float]:
    """Key-wise sum of counters."""
    merged = dict(current or {})
    for key, value in (increment or {}).items():
        merged[key] = merged.get(key, 0) + value
    return merged


RoundEvents = Annotated[list[dict[str, Any]], append_round_events]
"""The `events` key of every scenario state: the current round's events (see above)."""
