"""The TriRec episode state: every key the graph holds, with its merge rule.

Keys without a reducer are "last write wins". Three keys carry a reducer from
`recagora.environments.reducers` in their type:
  - `events`: each node appends its events; a new round starts a fresh list, because
    the round's events are on disk (events.jsonl) once `record_round` has run.
  - `item_exposure`: position-weighted exposure per item (n_items,), summed over
    users and rounds (nodes return the increment).
  - `usage`: LLM token/call counters summed over the run (nodes return increments).

Per-round arrays are aligned with `active` (m users this round, k candidates each).
"""

from __future__ import annotations

from typing import Annotated, TypedDict

import numpy as np

from recagora.agents.roles.base import (
    ExposureState,
    ItemMemoryState,
    Promotions,
    Responses,
    Scores,
    UserCohort,
)
from recagora.environments.reducers import RoundEvents, add_arrays, add_counts


class TrirecState(TypedDict, total=False):
    """State of one TriRec episode (see module docstring for the reducers)."""

    round: int
    """0-based index of the round being played."""
    cohort: UserCohort
    """All simulated users: histories (train + consumed), memories, satisfaction, who is active."""
    items: ItemMemoryState
    """Item agents' memories and their buffers of served promotions."""
    exposure: ExposureState
    """The platform's position-weighted exposure per popularity group (TriRec's c_g, N)."""
    active: np.ndarray
    """(m,) int64 cohort positions playing this round."""
    candidates: np.ndarray
    """(m, k) int64 candidate item ids (held-out item included while not consumed), shuffled."""
    promotions: Promotions
    """Item agents' texts for each (user, candidate) of this round."""
    scores: Scores
    """User agents' 0-10 scores of the candidates."""
    slates: np.ndarray
    """(m, k) int64 the platform's re-ranked lists, best first."""
    order: np.ndarray
    """(m, k) int64 candidate columns in slate order (slates = candidates taken by order)."""
    responses: Responses
    """What each active user consumed (-1 = nothing) and this round's satisfaction signal."""
    left: np.ndarray
    """(m,) bool users who left the platform at the end of this round."""
    item_exposure: Annotated[np.ndarray, add_arrays]
    """(n_items,) float64 position-weighted exposure per item, summed over the run."""
    usage: Annotated[dict[str, float], add_counts]
    """LLM counters summed over the run: prompt_tokens, completion_tokens, calls, cached, failures."""
    usage_at_round_start: dict[str, float]
    """`usage` as it stood when this round began (per-round deltas)."""
    events: RoundEvents
    """Events of the current round (earlier rounds are on disk)."""
    done: bool
    """True once the horizon is reached or every user left."""
