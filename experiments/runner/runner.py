"""Run any registered scenario into a run folder; resume a paused or killed run.

`start_run` creates the folder (config, manifest), prepares the scenario's episode,
compiles its graph with LangGraph's SQLite checkpointer (`checkpoint.sqlite` in the
folder, one thread per run) and drives it to the end. Every finished round reaches
`FolderSink`, which appends it to `events.jsonl` exactly once (see events.py). At the
end, or when the run pauses, the metrics tables, plots, LLM ledger and summary are
(re)written from the event log, so they always agree with it.

`resume_run` rebuilds the episode from the saved config and continues the same
checkpoint thread: LangGraph re-runs only the node that did not finish.
"""

from __future__ import annotations

import asyncio
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recagora.environments.registry import get_scenario
from recagora.environments.scenario import Episode, EpisodePaused, RunServices, ScenarioSpec
from recagora.experiments.runner.config import (
    build_config,
    config_to_dict,
    flatten_mapping,
    save_config,
)
from recagora.experiments.runner.events import EventLog
from recagora.experiments.runner.folder import RunFolder, runs_root
from recagora.experiments.runner.manifest import build_manifest
from recagora.experiments.runner.outputs import (
    METRICS_KIND,
    ROUND_PLOTS,
    metrics_frame,
    overall_metrics,
    plot_rounds,
    write_metrics_tables,
)
from recagora.experiments.wiring import scenario_extras

RoundCallback = Callable[[int, dict[str, float]], None]
# LangGraph counts every node step; a 1000-round episode of ~8 nodes stays far below.
RECURSION_LIMIT = 100_000


@dataclass
class RunResult:
    """What a finished or paused run left behind."""

    folder: RunFolder
    status: str  # "finished" | "paused"
    summary: dict[str, Any] = field(default_factory=dict)
    message: str = ""


class FolderSink:
    """`RoundSink` writing into a run folder's event log; tells the display about each round."""

    def __init__(self, log: EventLog, on_round: RoundCallback | None = None) -> None:
        self.log = log
        self.on_round = on_round

    def write_round(self, round_index: int, events, metrics: dict[str, float]) -> bool:
        row = {"kind": METRICS_KIND, "round": round_index, **metrics}
        written = self.log.write_round(round_index, [*events, row])
        if self.on_round is not None:
            self.on_round(round_index, metrics)
        return written


def start_run(
    config: Any,
    *,
    runs_dir: str | Path | None = None,
    argv: list[str] | None = None,
    llm: Any = None,
    on_round: RoundCallback | None = None,
    extras: dict[str, Any] | None = None,
) -> RunResult:
    """Create a run folder for `config` (a scenario config with `scenario` and `seed`) and run it."""
    spec = get_scenario(config.scenario)
    folder = RunFolder.create(runs_root(runs_dir), spec.name, config_to_dict(config))
    save_config(config, folder.config_path)
    manifest = build_manifest(spec.name, config.seed, argv)
    manifest["scenario_version"] = spec.version
    folder.write_json(folder.manifest_path, manifest)
    services = RunServices(sink=None, llm=llm, extras=scenario_extras(config, extras or {}))
    return asyncio.run(
        _execute(spec, config, folder, resume=False, services=services, on_round=on_round)
    )


def resume_run(
    run: str | Path,
    *,
    runs_dir: str | Path | None = None,
    llm: Any = None,
    on_round: RoundCallback | None = None,
    extras: dict[str, Any] | None = None,
) -> RunResult:
    """Continue a paused or killed run from its last checkpoint (same folder, same events file)."""
    folder = RunFolder.open(run, runs_root(runs_dir))
    saved = folder.read_config()
    spec = get_scenario(saved["scenario"])
    config = build_config(spec.config_cls, flatten_mapping(saved))
    services = RunServices(sink=None, llm=llm, extras=scenario_extras(config, extras or {}))
    return asyncio.run(
        _execute(spec, config, folder, resume=True, services=services, on_round=on_round)
    )


def load_scenario_config(scenario: str) -> type:
    """The config class of a registered scenario (for CLI option parsing)."""
    return get_scenario(scenario).config_cls


async def _execute(
    spec: ScenarioSpec,
    config: Any,
    folder: RunFolder,
    *,
    resume: bool,
    services: RunServices,
    on_round,
) -> RunResult:
    log = EventLog(folder.events_path)
    services.sink = FolderSink(log, on_round)
    try:
        episode = spec.prepare(config, services)
    except BaseException:
        if not resume:  # bad input found while preparing: leave no half-made run folder behind
            shutil.rmtree(folder.path, ignore_errors=True)
        raise
    log.write_once(
        {
            "kind": "run_resumed" if resume else "run_started",
            "rounds_on_disk": sorted(log.complete_rounds),
        }
    )
    status, message = "running", ""
    try:
        await _drive(spec, folder, episode, resume)
        status = "finished"
    except (EpisodePaused, KeyboardInterrupt, asyncio.CancelledError) as pause:
        status = "paused"
        message = f"{pause or 'interrupted'}; resume with: recagora run --resume {folder.name}"
        log.write_once({"kind": "run_paused", "reason": str(pause) or "interrupted"})
    except Exception as error:
        status = "failed"
        log.write_once({"kind": "run_failed", "error": f"{type(error).__name__}: {error}"})
        raise
    finally:
        episode.close()
        summary = _finalize(folder, episode, status, spec.round_plots or ROUND_PLOTS)
    log.write_once({"kind": f"run_{status}"})
    return RunResult(folder=folder, status=status, summary=summary, message=message)


async def _drive(spec: ScenarioSpec, folder: RunFolder, episode: Episode, resume: bool) -> None:
    """Run (or continue) the episode's checkpoint thread to its end."""
    import aiosqlite

    from recagora.experiments.runner.checkpoints import LatestSqliteSaver

    thread = {"configurable": {"thread_id": folder.name}, "recursion_limit": RECURSION_LIMIT}
    async with aiosqlite.connect(str(folder.checkpoint_path)) as connection:
        # pickle, not msgpack: the state holds frozen dataclasses of tuples and numpy
        # arrays that must come back with their exact types after a resume (msgpack
        # turns tuples into lists). The file is written and read only by this run.
        saver = LatestSqliteSaver(connection, serde=pickle)
        graph = spec.build_graph().compile(checkpointer=saver)
        start = await _graph_input(graph, thread, episode.initial_state, resume)
        if start is not _ALREADY_DONE:
            await graph.ainvoke(start, thread, context=episode.context)


_ALREADY_DONE = object()


async def _graph_input(graph: Any, thread: dict, initial_state: dict, resume: bool) -> Any:
    """None continues the checkpoint; the initial state starts fresh (also when a resumed
    run was killed before its first checkpoint)."""
    if not resume:
        return initial_state
    snapshot = await graph.aget_state(thread)
    if not snapshot.values:
        return initial_state
    return None if snapshot.next else _ALREADY_DONE


def _finalize(
    folder: RunFolder, episode: Episode, status: str, plots=ROUND_PLOTS
) -> dict[str, Any]:
    """Rewrite metrics tables, plots, ledger, summary and manifest status from the event log."""
    frame = metrics_frame(folder)
    if not frame.empty:
        write_metrics_tables(folder, frame)
        plot_rounds(folder, frame, plots)
    ledger = _ledger(episode.context)
    folder.write_json(folder.ledger_path, ledger)
    summary = {
        "run": folder.name,
        "status": status,
        "overall": overall_metrics(frame),
        "setup": episode.info,
        "llm": ledger,
    }
    folder.write_json(folder.summary_path, summary)
    manifest = folder.read_manifest()
    manifest["status"] = status
    folder.write_json(folder.manifest_path, manifest)
    return summary


def _ledger(context: Any) -> dict[str, Any]:
    llm = getattr(context, "llm", None)
    if llm is None or not hasattr(llm, "ledger_summary"):
        return {}
    return llm.ledger_summary()
