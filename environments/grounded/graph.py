"""The grounded loop as a LangGraph `StateGraph` (MGFRec, Cai et al., KDD 2026).

begin_round -> reason -> ground -> feedback -> record_round
    --(someone still searching and rounds left)--> begin_round
    \\--(everyone answered or the max-rounds guard)--> END
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from recagora.environments.grounded import nodes
from recagora.environments.grounded.state import GroundedContext, GroundedState

ROUND_PIPELINE = (
    ("begin_round", nodes.begin_round),
    ("reason", nodes.reason),
    ("ground", nodes.ground),
    ("feedback", nodes.give_feedback),
    ("record_round", nodes.record_round),
)


def build_grounded_graph() -> StateGraph:
    """The uncompiled graph: a cycle closed by a conditional edge."""
    graph = StateGraph(GroundedState, context_schema=GroundedContext)
    for name, function in ROUND_PIPELINE:
        graph.add_node(name, function)
    graph.add_edge(START, ROUND_PIPELINE[0][0])
    for (before, _), (after, _) in zip(ROUND_PIPELINE, ROUND_PIPELINE[1:], strict=False):
        graph.add_edge(before, after)
    graph.add_conditional_edges(
        "record_round", nodes.next_step, {"next_round": "begin_round", "end": END}
    )
    return graph
