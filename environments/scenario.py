"""What every scenario provides to the runner, and what the runner provides back.

A scenario is a `ScenarioSpec`: a config dataclass, a builder returning an
uncompiled LangGraph `StateGraph`, and `prepare(config, services)` returning the
run-scoped context (given to `graph.ainvoke(..., context=...)`) and the initial
state. The runner (floor 4) compiles the graph with a checkpointer and supplies a
`RoundSink`; a scenario's last node of every round hands the round's events and
metrics to the sink, which makes the write idempotent per round.

Randomness: `stage_rng(seed, round, stage)` derives an independent generator per
(round, node) from the root seed, so a node re-run on resume draws exactly what it
drew the first time (one shared stateful generator would not survive a resume).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from recagora.item_space.errors import RecAgoraError, RunPaused


class UnknownScenario(RecAgoraError):
    """The scenario name is not registered."""


class EpisodePaused(RunPaused):
    """A node cannot go on (e.g. the LLM backend died); the run pauses at its checkpoint."""


class RoundSink(Protocol):
    """Where a scenario's finished rounds go (the run's event log and live display)."""

    def write_round(
        self, round_index: int, events: Sequence[dict[str, Any]], metrics: dict[str, float]
    ) -> bool:
        """Persist one round; return False when that round was already on disk."""
        ...


class MemorySink:
    """A `RoundSink` that keeps rounds in memory (tests, scripts without a run folder)."""

    def __init__(self) -> None:
        self.rounds: dict[int, tuple[list[dict[str, Any]], dict[str, float]]] = {}

    def write_round(
        self, round_index: int, events: Sequence[dict[str, Any]], metrics: dict[str, float]
    ) -> bool:
        if round_index in self.rounds:
            return False
        self.rounds[round_index] = (list(events), dict(metrics))
        return True

    def all_events(self) -> list[dict[str, Any]]:
        return [event for r in sorted(self.rounds) for event in self.rounds[r][0]]

    def metrics_rows(self) -> list[dict[str, float]]:
        return [{"round": r, **self.rounds[r][1]} for r in sorted(self.rounds)]


@dataclass
class RunServices:
    """What the runner hands a scenario's `prepare`.

    sink: receives each finished round.
    llm: an opened `LLMClient`, or None to let the scenario open `config.llm` itself.
    extras: scenario-specific injections for scripts and tests (e.g. a prebuilt item
        space, a roles factory); each scenario documents the keys it reads.
    ledger_path: where an LLM the scenario opens keeps its ledger (the run folder's
        llm_ledger.json, continued across resumes); None keeps it in memory.
    """

    sink: RoundSink
    llm: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    ledger_path: Any = None


@dataclass
class Episode:
    """A prepared run: the runtime context, the graph's initial state, setup facts for the
    summary (`info`) and what to close when the run ends (`closers`)."""

    context: Any
    initial_state: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)
    closers: list[Callable[[], Any]] = field(default_factory=list)

    def close(self) -> None:
        """Release what `prepare` opened (LLM servers, ...), last opened first."""
        for close in reversed(self.closers):
            close()


@dataclass(frozen=True)
class NodeContract:
    """Which state keys a node reads and which it may return (checked by `check_scenario`)."""

    reads: tuple[str, ...]
    writes: tuple[str, ...]


@dataclass(frozen=True)
class MetricSpec:
    """One per-round metric column a scenario reports, and where the runner shows it.

    column: the key in the round's metrics dict (and in metrics.csv).
    title: the plot title (and a reader's description); empty = the column name.
    plot: one PNG per run under plots/ (`round_<column>.png`).
    live: a row of the live panel and of the end-of-run summary table.
    sweep: a column of the comparison table of `experiments.runner.sweep.run_arms`.
    """

    column: str
    title: str = ""
    plot: bool = False
    live: bool = True
    sweep: bool = True


@dataclass(frozen=True)
class ScenarioSpec:
    """A registered scenario.

    name/version: the registry id; bump `version` when results change.
    config_cls: the scenario's config dataclass (includes the run-level fields).
    build_graph: () -> uncompiled `StateGraph` (state schema + context schema set).
    prepare: (config, RunServices) -> Episode.
    state_schema: the TypedDict of the graph state.
    nodes: node name -> NodeContract, for the contract test.
    metrics: the metric columns it reports per round, in display order, each saying
        whether it is plotted, shown live and compared by sweeps (a column not listed
        is still written to metrics.csv and the summary).
    """

    name: str
    version: str
    description: str
    config_cls: type
    build_graph: Callable[[], Any]
    prepare: Callable[[Any, RunServices], Episode]
    state_schema: type
    nodes: dict[str, NodeContract] = field(default_factory=dict)
    metrics: tuple[MetricSpec, ...] = ()

    @property
    def round_plots(self) -> tuple[tuple[str, str], ...]:
        """(column, title) of the metrics plotted per round."""
        return tuple((m.column, m.title or m.column) for m in self.metrics if m.plot)

    @property
    def shown_metrics(self) -> tuple[str, ...]:
        """Columns of the live panel and the end-of-run table, in order."""
        return tuple(m.column for m in self.metrics if m.live)

    @property
    def sweep_metrics(self) -> tuple[str, ...]:
        """Columns of a sweep's comparison table, in order."""
        return tuple(m.column for m in self.metrics if m.sweep)


def stage_rng(seed: int, round_index: int, stage: str) -> np.random.Generator:
    """Independent generator for one (round, stage) of a run; stable across processes."""
    stage_code = zlib.crc32(stage.encode())
    return np.random.default_rng(np.random.SeedSequence([seed, round_index, stage_code]))
