"""The PaperEval episode as a LangGraph `StateGraph` (Zheng et al., AAAI'26, with the PaperRec feed).

begin_day -> retrieve -> evaluate -> publish -> record_day --(days left)--> begin_day
                                                         \\--(last day)--> END
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from recagora.environments.papereval import nodes
from recagora.environments.papereval.state import PaperEvalContext, PaperEvalState

ROUND_PIPELINE = (
    ("begin_day", nodes.begin_day),
    ("retrieve", nodes.retrieve),
    ("evaluate", nodes.evaluate),
    ("publish", nodes.publish),
    ("record_day", nodes.record_day),
)


def build_papereval_graph() -> StateGraph:
    """The uncompiled graph: one cycle per day, closed by a conditional edge."""
    graph = StateGraph(PaperEvalState, context_schema=PaperEvalContext)
    for name, function in ROUND_PIPELINE:
        graph.add_node(name, function)
    graph.add_edge(START, ROUND_PIPELINE[0][0])
    for (before, _), (after, _) in zip(ROUND_PIPELINE, ROUND_PIPELINE[1:], strict=False):
        graph.add_edge(before, after)
    graph.add_conditional_edges(
        "record_day", nodes.next_step, {"next_round": "begin_day", "end": END}
    )
    return graph
