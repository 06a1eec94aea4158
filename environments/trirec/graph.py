"""The TriRec episode as a LangGraph `StateGraph` (one graph invocation per episode).

    begin_round -> candidates -> promotions -> scoring -> rerank -> response
        -> memory -> record_round --(rounds left and users left)--> begin_round
                                  \\--(horizon reached or everyone left)--> END

Every node handles the whole cohort of active users at once; per-round LLM work is
one concurrent batch through the LLM layer (never one graph step per user).
"""

from __future__ import annotations

from langgraph.graph import StateGraph

from recagora.environments.round_graph import build_round_cycle
from recagora.environments.trirec import nodes
from recagora.environments.trirec.state import TrirecState

# (node name, function) in execution order within a round.
ROUND_PIPELINE = (
    ("begin_round", nodes.begin_round),
    ("candidates", nodes.generate_candidates),
    ("promotions", nodes.promote_items),
    ("scoring", nodes.score_candidates),
    ("rerank", nodes.rerank),
    ("response", nodes.respond),
    ("memory", nodes.update_memories),
    ("record_round", nodes.record_round),
)


def build_trirec_graph() -> StateGraph:
    """The uncompiled graph; compile it with a checkpointer to make runs resumable."""
    return build_round_cycle(TrirecState, nodes.TrirecContext, ROUND_PIPELINE, nodes.next_step)
