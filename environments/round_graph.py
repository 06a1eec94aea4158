"""The shape every scenario shares: one round as a linear pipeline of nodes, closed
into a cycle by a conditional edge after the round's last node.

    granularity="node" (default): START -> first -> ... -> last --"next_round"--> first
                                                                \\--"end"--> END
    granularity="round":          START -> round --"next_round"--> round
                                                  \\--"end"--> END

With "round" the whole pipeline runs inside ONE graph node, so a checkpointer saves
one state per round instead of one per pipeline node (a 100k-user state pickles to
hundreds of MB; TriRec has 8 nodes a round). Inside the round node the pipeline's
updates are merged with the state schema's own reducers, in the same order LangGraph
applies them between nodes, so both granularities give the same states and events.
A run killed mid-round resumes at the round's start: every node draws from its own
`stage_rng(seed, round, node)` and the sink skips a round already on disk, so the
replayed round equals the lost one. The node graph is what a scenario declares (its
node contracts are checked per node); `per_round(graph)` gives the round graph the
runner checkpoints.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from functools import partial
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from langgraph.graph import END, START, StateGraph

GRANULARITIES = ("round", "node")
ROUND_NODE = "round"


def build_round_cycle(
    state_schema: type,
    context_schema: type,
    pipeline: Sequence[tuple[str, Callable[..., Any]]],
    next_step: Callable[..., str],
    granularity: str = "node",
) -> StateGraph:
    """Uncompiled graph running `pipeline` (name, node) in order, round after round.

    next_step(state) returns "next_round" or "end"; it is called after the last node.
    granularity: "round" = one graph node (and one checkpoint) per round; "node" = one
    graph node per pipeline step (see the module docstring).
    """
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")
    graph = StateGraph(state_schema, context_schema=context_schema)
    nodes = pipeline
    if granularity == "round":
        nodes = ((ROUND_NODE, round_node(state_schema, pipeline)),)
    for name, function in nodes:
        graph.add_node(name, function)
    first, last = nodes[0][0], nodes[-1][0]
    graph.add_edge(START, first)
    for (before, _), (after, _) in zip(nodes, nodes[1:], strict=False):
        graph.add_edge(before, after)
    graph.add_conditional_edges(last, next_step, {"next_round": first, "end": END})
    graph.round_cycle = partial(  # how `per_round` rebuilds this cycle as one node
        build_round_cycle, state_schema, context_schema, pipeline, next_step, "round"
    )
    return graph


def per_round(graph: StateGraph) -> StateGraph:
    """The round-granular twin of a graph from `build_round_cycle` (any other graph as is)."""
    rebuild = getattr(graph, "round_cycle", None)
    return rebuild() if rebuild is not None else graph


def round_node(
    state_schema: type, pipeline: Sequence[tuple[str, Callable[..., Any]]]
) -> Callable[..., Any]:
    """One async node that runs `pipeline` in order and returns the round's merged update.

    Each step sees the state as LangGraph would show it (earlier updates merged with the
    schema's reducers). The returned update holds, for a reducer key, the steps' updates
    folded together with that reducer (so LangGraph applies it once to the same effect:
    the reducers of `environments.reducers` are associative), else the last write.
    """
    reducers = state_reducers(state_schema)

    async def play_round(state: dict[str, Any], runtime: Any) -> dict[str, Any]:
        view, update = dict(state), {}
        for _, step in pipeline:
            changes = step(view, runtime)
            if inspect.isawaitable(changes):
                changes = await changes
            for key, value in (changes or {}).items():
                merge = reducers.get(key)
                view[key] = merge(view[key], value) if merge and key in view else value
                update[key] = merge(update[key], value) if merge and key in update else value
        return update

    return play_round


def state_reducers(state_schema: type) -> dict[str, Callable[[Any, Any], Any]]:
    """key -> reducer for the keys of a TypedDict state annotated `Annotated[T, reducer]`."""
    hints = get_type_hints(state_schema, include_extras=True)
    reducers = {}
    for key, hint in hints.items():
        if get_origin(hint) is Annotated:
            found = [meta for meta in get_args(hint)[1:] if callable(meta)]
            if found:
                reducers[key] = found[-1]
    return reducers
