"""The grounded loop as a LangGraph `StateGraph` (MGFRec, Cai et al., KDD 2026).

begin_round -> reason -> ground -> feedback -> record_round
    --(someone still searching and rounds left)--> begin_round
    \\--(everyone answered or the max-rounds guard)--> END
"""

from __future__ import annotations

from langgraph.graph import StateGraph

from recagora.environments.grounded import nodes
from recagora.environments.grounded.state import GroundedContext, GroundedState
from recagora.environments.round_graph import build_round_cycle

ROUND_PIPELINE = (
    ("begin_round", nodes.begin_round),
    ("reason", nodes.reason),
    ("ground", nodes.ground),
    ("feedback", nodes.give_feedback),
    ("record_round", nodes.record_round),
)


def build_grounded_graph() -> StateGraph:
    """The uncompiled graph: a cycle closed by a conditional edge."""
    return build_round_cycle(GroundedState, GroundedContext, ROUND_PIPELINE, nodes.next_step)
