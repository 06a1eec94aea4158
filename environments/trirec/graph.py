"""The TriRec episode as a LangGraph `StateGraph` (one graph invocation per episode).

    begin_round -> candidates -> promotions -> scoring -> rerank -> response
        -> memory -> record_round --(rounds left and users left)--> begin_round
                                  \\--(horizon reached or everyone left)--> END

Every node handles the whole cohort of active users at once; per-round LLM work is
one concurrent batch through the LLM layer (never one graph step per user).

The runner checkpoints the round-granular twin (`round_graph.per_round`): one node per
round, which plays the pipeline above, or, when `execution.shards` is set, the round of a
sharded episode (`shards.play_sharded_round`: the same nodes per shard, merged at the
round boundary).
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from recagora.environments.round_graph import ROUND_NODE, build_round_cycle, round_node
from recagora.environments.trirec import nodes
from recagora.environments.trirec.shards import play_sharded_round
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
    graph = build_round_cycle(TrirecState, nodes.TrirecContext, ROUND_PIPELINE, nodes.next_step)
    graph.round_cycle = build_round_graph  # what `per_round` (the runner) compiles
    return graph


def build_round_graph() -> StateGraph:
    """One node per round: the unsharded pipeline, or a sharded round (`execution.shards`)."""
    play_round = round_node(TrirecState, ROUND_PIPELINE)

    async def round_or_shards(state: TrirecState, runtime: Any) -> dict[str, Any]:
        if getattr(getattr(runtime.context.config, "execution", None), "shards", 0):
            return await play_sharded_round(state, runtime)
        return await play_round(state, runtime)

    graph = StateGraph(TrirecState, context_schema=nodes.TrirecContext)
    graph.add_node(ROUND_NODE, round_or_shards)
    graph.add_edge(START, ROUND_NODE)
    graph.add_conditional_edges(ROUND_NODE, nodes.next_step, {"next_round": ROUND_NODE, "end": END})
    return graph
