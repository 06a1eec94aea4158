"""The shape every scenario shares: one round as a linear pipeline of nodes, closed
into a cycle by a conditional edge after the round's last node.

    START -> first -> ... -> last --"next_round"--> first
                                  \\--"end"--> END
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langgraph.graph import END, START, StateGraph


def build_round_cycle(
    state_schema: type,
    context_schema: type,
    pipeline: Sequence[tuple[str, Callable[..., Any]]],
    next_step: Callable[..., str],
) -> StateGraph:
    """Uncompiled graph running `pipeline` (name, node) in order, round after round.

    next_step(state) returns "next_round" or "end"; it is called after the last node.
    """
    graph = StateGraph(state_schema, context_schema=context_schema)
    for name, function in pipeline:
        graph.add_node(name, function)
    first, last = pipeline[0][0], pipeline[-1][0]
    graph.add_edge(START, first)
    for (before, _), (after, _) in zip(pipeline, pipeline[1:], strict=False):
        graph.add_edge(before, after)
    graph.add_conditional_edges(last, next_step, {"next_round": first, "end": END})
    return graph
