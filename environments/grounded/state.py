"""State and run-scoped context of a grounded-reasoning episode.

`events` appends within a round and restarts each round (earlier rounds are on disk);
every other key is "last write wins". Per-round arrays are aligned with `active`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from recagora.agents.reasoner import ReasonerMoves, Turn
from recagora.agents.reasoner_feedback import Feedback
from recagora.environments.grounded.config import GroundedConfig
from recagora.environments.reducers import RoundEvents
from recagora.environments.scenario import RoundSink


class GroundedState(TypedDict, total=False):
    """State of one grounded episode over n users."""

    round: int
    """0-based index of the round being played."""
    transcripts: tuple[tuple[Turn, ...], ...]
    """Per user, the finished turns (query, grounded ids, feedback) the reasoner sees."""
    open: np.ndarray
    """(n,) bool users still searching (False once they answered)."""
    final_lists: np.ndarray
    """(n, k) int64 grounded answer per user, -1 until the user answers."""
    final_round: np.ndarray
    """(n,) int64 round in which each user answered, -1 until then."""
    active: np.ndarray
    """(m,) int64 users playing this round."""
    moves: ReasonerMoves
    """The reasoner's queries / answers of this round."""
    grounded: np.ndarray
    """(m, k) int64 real items each query was grounded to (history excluded), -1 padded."""
    best_scores: np.ndarray
    """(m,) float32 cosine of each query's nearest real item."""
    target_ranks: np.ndarray
    """(m,) int64 1-based rank of the held-out item among all non-history items for the query."""
    feedback: Feedback
    """The critic's feedback for this round's searching users (aligned with them)."""
    events: RoundEvents
    """Events of the current round."""
    done: bool
    """True once every user answered or the max-rounds guard was reached."""


@dataclass
class GroundedContext:
    """Run-scoped dependencies (not checkpointed).

    histories: n tuples of dense ids; shortlists: (n, S) int64; targets: (n,) int64 held-out items.
    space: the shared `ItemSpace`; reasoner / critic: the two roles.
    """

    config: GroundedConfig
    space: Any
    reasoner: Any
    critic: Any
    users: tuple[str, ...]
    histories: tuple[tuple[int, ...], ...]
    shortlists: np.ndarray
    targets: np.ndarray
    sink: RoundSink
    llm: Any = None
