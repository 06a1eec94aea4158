"""The PaperEval episode as a LangGraph `StateGraph` (Zheng et al., AAAI'26, with the PaperRec feed).

begin_day -> retrieve -> evaluate -> publish -> record_day --(days left)--> begin_day
                                                         \\--(last day)--> END
"""

from __future__ import annotations

from langgraph.graph import StateGraph

from recagora.environments.papereval import nodes
from recagora.environments.papereval.state import PaperEvalContext, PaperEvalState
from recagora.environments.round_graph import build_round_cycle

ROUND_PIPELINE = (
    ("begin_day", nodes.begin_day),
    ("retrieve", nodes.retrieve),
    ("evaluate", nodes.evaluate),
    ("publish", nodes.publish),
    ("record_day", nodes.record_day),
)


def build_papereval_graph() -> StateGraph:
    """The uncompiled graph: one cycle per day, closed by a conditional edge."""
    return build_round_cycle(PaperEvalState, PaperEvalContext, ROUND_PIPELINE, nodes.next_step)
