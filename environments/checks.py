"""`check_scenario`: the contract every registered scenario must pass (Gymnasium's check_env idea).

It builds the scenario's graph, checks that the declared node contracts match the
graph and the state schema and that its metric list names each column once, then
plays one short episode and checks that every node returned only keys it declared,
that every round reached the sink with numeric metrics and JSON-able events, and
that every metric the spec plots was reported.
"""

from __future__ import annotations

import asyncio
import json
import typing
from dataclasses import dataclass, field
from typing import Any

from recagora.environments.scenario import MemorySink, RunServices, ScenarioSpec


class ScenarioContractError(AssertionError):
    """A scenario breaks its declared contract."""


@dataclass
class ContractReport:
    """What the check saw: rounds played and the nodes that ran (in first-seen order)."""

    rounds: int = 0
    nodes_seen: list[str] = field(default_factory=list)


def check_scenario(
    spec: ScenarioSpec, config: Any, extras: dict[str, Any] | None = None
) -> ContractReport:
    """Check `spec` statically, then play `config` (keep it tiny) and check every node's output.

    Raises:
        ScenarioContractError: naming the node and the offending keys.
    """
    schema_keys = set(typing.get_type_hints(spec.state_schema, include_extras=True))
    graph = spec.build_graph()
    _check_static(spec, graph, schema_keys)
    sink = MemorySink()
    episode = spec.prepare(config, RunServices(sink=sink, extras=extras or {}))
    report = asyncio.run(_play(spec, graph.compile(), episode, schema_keys))
    _check_rounds(sink, report)
    _check_plotted(spec, sink)
    return report


def _check_static(spec: ScenarioSpec, graph: Any, schema_keys: set[str]) -> None:
    graph_nodes = set(graph.nodes)
    if graph_nodes != set(spec.nodes):
        raise ScenarioContractError(
            f"{spec.name}: graph nodes {sorted(graph_nodes)} != declared {sorted(spec.nodes)}"
        )
    for name, contract in spec.nodes.items():
        unknown = (set(contract.reads) | set(contract.writes)) - schema_keys
        if unknown:
            raise ScenarioContractError(
                f"{spec.name}.{name}: keys {sorted(unknown)} are not in the state schema"
            )
    if graph.context_schema is None:
        raise ScenarioContractError(f"{spec.name}: the graph declares no context_schema")
    columns = [metric.column for metric in spec.metrics]
    if len(set(columns)) != len(columns):
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        raise ScenarioContractError(f"{spec.name}: metrics {repeated} are listed twice")


async def _play(
    spec: ScenarioSpec, app: Any, episode: Any, schema_keys: set[str]
) -> ContractReport:
    report = ContractReport()
    config = {"recursion_limit": 10_000}
    async for update in app.astream(
        episode.initial_state, config, context=episode.context, stream_mode="updates"
    ):
        for node, written in update.items():
            _check_update(spec, node, written or {}, schema_keys)
            if node not in report.nodes_seen:
                report.nodes_seen.append(node)
    return report


def _check_update(
    spec: ScenarioSpec, node: str, written: dict[str, Any], schema_keys: set[str]
) -> None:
    undeclared = set(written) - set(spec.nodes[node].writes)
    if undeclared:
        raise ScenarioContractError(
            f"{spec.name}.{node} wrote undeclared keys {sorted(undeclared)}"
        )
    for event in written.get("events", []):
        json.dumps(event, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v))
        if "round" not in event:
            raise ScenarioContractError(
                f"{spec.name}.{node} emitted an event without a round: {event}"
            )


def _check_rounds(sink: MemorySink, report: ContractReport) -> None:
    rounds = sorted(sink.rounds)
    if rounds != list(range(len(rounds))) or not rounds:
        raise ScenarioContractError(f"rounds reaching the sink are {rounds}, expected 0..n-1")
    for index in rounds:
        events, metrics = sink.rounds[index]
        bad = {k: v for k, v in metrics.items() if not isinstance(v, int | float)}
        if bad:
            raise ScenarioContractError(f"round {index}: non-numeric metrics {bad}")
    report.rounds = len(rounds)


def _check_plotted(spec: ScenarioSpec, sink: MemorySink) -> None:
    reported = {key for _, metrics in sink.rounds.values() for key in metrics}
    missing = [column for column, _ in spec.round_plots if column not in reported]
    if missing:
        raise ScenarioContractError(f"{spec.name}: plotted metrics {missing} were never reported")
