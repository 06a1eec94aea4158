"""Run any registered scenario into a run folder; resume a paused or killed run.

`start_run` creates the folder (config, manifest), prepares the scenario's episode,
compiles its graph with LangGraph's SQLite checkpointer (`checkpoint.sqlite` in the
folder, one thread per run) and drives it to the end. Every finished round reaches
`FolderSink`, which appends it to `events.jsonl` exactly once (see events.py). At the
end, or when the run pauses, the metrics tables, plots, LLM ledger and summary are
(re)written from the event log, so they always agree with it.

`resume_run` rebuilds the episode from the saved config and continues the same
checkpoint thread: LangGraph re-runs only the node that did not finish.

What a resume may trust (each rule closes a way a killed run used to come back
"finished" but short):
- "done" is the episode's own `done` flag in the graph state, never an empty `next`
  of a snapshot: LangGraph leaves out of `next` the tasks whose writes it already
  saved, so a run killed between a step's writes and its checkpoint looked ended.
  A resume therefore always continues the thread (`ainvoke(None)`, which applies
  saved writes and runs what is left) and a run whose graph stops without `done` is
  reported failed, not finished.
- Checkpoints are written with `durability="sync"`, one per ROUND (the round's
  pipeline runs as one graph node, `round_graph.per_round`): a round's checkpoint is
  on disk before the next round starts, so what a kill loses is at most the round in
  flight, which is re-run with its own (round, stage) random streams and gives the
  same events (the sink skips a round already on disk).
- The thread is keyed by the `run_id` in the manifest, so a renamed folder resumes
  its own checkpoint; the folder is locked (`run.lock`) while a process runs it.
- A finished run is never re-finalized: resuming it reports it and writes nothing.
"""

from __future__ import annotations

import asyncio
import pickle
import shutil
from collections.abc import Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recagora.environments.registry import get_scenario
from recagora.environments.round_graph import ROUND_NODE, per_round
from recagora.environments.scenario import Episode, RunServices, ScenarioSpec
from recagora.experiments.runner.config import (
    build_config,
    config_to_dict,
    flatten_mapping,
    save_config,
)
from recagora.experiments.runner.events import EventLog, scan_event_log
from recagora.experiments.runner.folder import (
    RunFolder,
    RunFolderError,
    RunLock,
    new_run_id,
    runs_root,
)
from recagora.experiments.runner.manifest import build_manifest
from recagora.experiments.runner.outputs import (
    METRICS_KIND,
    metrics_frame,
    overall_metrics,
    plot_rounds,
    write_metrics_tables,
)
from recagora.experiments.wiring import scenario_extras
from recagora.item_space.errors import RecAgoraError, RunPaused

RoundCallback = Callable[[int, dict[str, float]], None]
# LangGraph counts every node step; a 1000-round episode of ~8 nodes stays far below.
RECURSION_LIMIT = 100_000
# A step's checkpoint is saved before the next step starts (see the module docstring).
DURABILITY = "sync"
INTERRUPTED = "interrupted (Ctrl-C or a stop signal)"


class EpisodeIncomplete(RecAgoraError):
    """The graph stopped although the episode had not reached its end."""


@dataclass
class RunResult:
    """What a finished or paused run left behind."""

    folder: RunFolder
    status: str  # "finished" | "paused"
    summary: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    exit_code: int = 0  # what the CLI exits with (a pause: the cause's code, 3 by default)


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
    root = runs_root(runs_dir)
    discard = _discarder(root)
    folder = RunFolder.create(root, spec.name, config_to_dict(config))
    lock = RunLock(folder)
    try:
        lock.acquire()
        save_config(config, folder.config_path)
        manifest = build_manifest(spec.name, config.seed, argv)
        manifest.update(run_id=new_run_id(), scenario_version=spec.version)
        folder.write_json(folder.manifest_path, manifest)
        services = _services(config, folder, llm, extras)
        return asyncio.run(
            _execute(spec, config, folder, services=services, on_round=on_round, discard=discard)
        )
    except BaseException:
        if not folder.manifest_path.is_file():  # failed before the run existed
            discard(folder)
        raise
    finally:
        lock.release()


def resume_run(
    run: str | Path,
    *,
    runs_dir: str | Path | None = None,
    llm: Any = None,
    on_round: RoundCallback | None = None,
    extras: dict[str, Any] | None = None,
) -> RunResult:
    """Continue a paused or killed run from its last checkpoint (same folder, same events file).

    A finished run is reported as it stands; nothing in its folder is rewritten.
    """
    folder = RunFolder.open(run, runs_root(runs_dir))
    # Everything that can refuse the resume is checked read-only before the lock is
    # taken: a refused resume leaves the folder exactly as it was.
    saved, manifest = folder.read_config(), folder.read_manifest()
    spec = get_scenario(_saved_scenario(folder, saved))
    config = build_config(spec.config_cls, flatten_mapping(saved))
    rounds_on_disk = scan_event_log(folder.events_path)
    saved_state = asyncio.run(_checkpoint_state(spec, folder))
    if manifest.get("status") == "finished" and saved_state.get("done"):
        return RunResult(folder, "finished", folder.read_summary(), message="already finished")
    if not saved_state and rounds_on_disk:  # a fresh start would redo the rounds on disk
        raise RunFolderError(
            f"run {folder.name!r} has {len(rounds_on_disk)} rounds on disk but no "
            "checkpoint for its run id; it cannot be resumed"
        )
    with RunLock(folder):
        services = _services(config, folder, llm, extras)
        return asyncio.run(
            _execute(spec, config, folder, services=services, on_round=on_round, discard=None)
        )


def load_scenario_config(scenario: str) -> type:
    """The config class of a registered scenario (for CLI option parsing)."""
    return get_scenario(scenario).config_cls


def _services(config: Any, folder: RunFolder, llm: Any, extras: dict | None) -> RunServices:
    return RunServices(
        sink=None,
        llm=llm,
        extras=scenario_extras(config, extras or {}),
        ledger_path=folder.ledger_path,
    )


def _discarder(root: Path) -> Callable[[RunFolder], None]:
    """Removes a run folder made for input that turned out bad, and the runs root too
    when this call created it (bad input leaves nothing behind)."""
    root_existed = root.exists()

    def discard(folder: RunFolder) -> None:
        shutil.rmtree(folder.path, ignore_errors=True)
        if not root_existed:
            with suppress(OSError):  # not empty: another run appeared meanwhile
                root.rmdir()

    return discard


def _saved_scenario(folder: RunFolder, saved: dict[str, Any]) -> str:
    scenario = saved.get("scenario")
    if not isinstance(scenario, str):
        raise RunFolderError(f"{folder.config_path} names no scenario; the run cannot be resumed")
    return scenario


async def _execute(
    spec: ScenarioSpec,
    config: Any,
    folder: RunFolder,
    *,
    services: RunServices,
    on_round,
    discard: Callable[[RunFolder], None] | None,
) -> RunResult:
    """Prepare the episode and drive it; `discard` is set for a new run (bad input found
    while preparing removes the half-made folder), None for a resume."""
    resume = discard is None
    log = EventLog(folder.events_path)
    services.sink = FolderSink(log, on_round)
    try:
        episode = spec.prepare(config, services)
    except BaseException:
        if discard is not None:
            discard(folder)
        raise
    log.write_once(
        {
            "kind": "run_resumed" if resume else "run_started",
            "rounds_on_disk": sorted(log.complete_rounds),
        }
    )
    status, message, exit_code = "running", "", 0
    try:
        await _drive(spec, folder, episode, resume)
        status = "finished"
    except (RunPaused, KeyboardInterrupt, asyncio.CancelledError) as pause:
        reason = str(pause) if isinstance(pause, RunPaused) else INTERRUPTED
        exit_code = pause.exit_code if isinstance(pause, RunPaused) else 3
        status = "paused"
        message = f"{reason}; resume with: recagora run --resume {folder.name}"
        log.write_once({"kind": "run_paused", "reason": reason})
    except Exception as error:
        status = "failed"
        log.write_once({"kind": "run_failed", "error": f"{type(error).__name__}: {error}"})
        raise
    finally:
        episode.close()
        summary = _finalize(folder, episode, status, spec.round_plots)
    log.write_once({"kind": f"run_{status}"})
    return RunResult(folder, status, summary, message, exit_code)


def _thread(folder: RunFolder) -> dict[str, Any]:
    return {"configurable": {"thread_id": folder.run_id()}, "recursion_limit": RECURSION_LIMIT}


@asynccontextmanager
async def _compiled(spec: ScenarioSpec, folder: RunFolder):
    """The scenario's graph compiled with the run's checkpointer (open for the block)."""
    import aiosqlite

    from recagora.experiments.runner.checkpoints import LatestSqliteSaver

    async with aiosqlite.connect(str(folder.checkpoint_path)) as connection:
        # pickle, not msgpack: the state holds frozen dataclasses of tuples and numpy
        # arrays that must come back with their exact types after a resume (msgpack
        # turns tuples into lists). The file is written and read only by this run.
        # One node per round: one checkpoint per round, not per pipeline step (round_graph.py).
        graph = per_round(spec.build_graph())
        round_granular = set(graph.nodes) == {ROUND_NODE}  # every checkpoint at a round's end
        saver = LatestSqliteSaver(connection, serde=pickle, round_boundaries=round_granular)
        yield graph.compile(checkpointer=saver)


async def _drive(spec: ScenarioSpec, folder: RunFolder, episode: Episode, resume: bool) -> None:
    """Run (or continue) the episode's checkpoint thread until the episode says it is done."""
    thread = _thread(folder)
    async with _compiled(spec, folder) as graph:
        start = episode.initial_state
        if resume and (await graph.aget_state(thread)).values:
            start = None  # continue the thread: saved writes are applied, the rest runs
        # The final state as the run left it, without reading the checkpoint back (a whole
        # state unpickled: 0.8 s at 10k users); read when the call returned none (nothing ran).
        values = await graph.ainvoke(start, thread, context=episode.context, durability=DURABILITY)
        if not isinstance(values, dict) or "done" not in values:
            values = (await graph.aget_state(thread)).values
    if not values.get("done"):
        raise EpisodeIncomplete(
            f"the episode of run {folder.name!r} stopped at round {values.get('round')} "
            "before its end (a bug: please report it with the run folder)"
        )


async def _checkpoint_state(spec: ScenarioSpec, folder: RunFolder) -> dict[str, Any]:
    """The graph state the run's checkpoint holds ({} when there is none: a run killed
    before its first checkpoint); a damaged checkpoint is one line, nothing rewritten."""
    if not folder.checkpoint_path.is_file():
        return {}
    try:
        async with _compiled(spec, folder) as graph:
            return dict((await graph.aget_state(_thread(folder))).values)
    except Exception as error:
        raise RunFolderError(
            f"{folder.checkpoint_path} is unreadable ({type(error).__name__}); "
            "the run cannot be resumed"
        ) from None


def _finalize(folder: RunFolder, episode: Episode, status: str, plots=()) -> dict[str, Any]:
    """Rewrite metrics tables, plots, ledger, summary and manifest status from the event log."""
    frame = metrics_frame(folder, trusted=True)
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
