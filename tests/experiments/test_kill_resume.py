"""A run killed with SIGKILL at any instant resumes to the events and metrics of an
uninterrupted run; a second process cannot run the same folder; a renamed folder
resumes its own checkpoint.

Runs are real `start_run` / `resume_run` calls (real LangGraph checkpointer, real
surrogate agents) in processes forked from this one, so each starts in milliseconds
with the dataset and item space already loaded, and is killed by the kernel
(SIGKILL: no handler, no cleanup) at a seeded random instant of the run.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.runner.config import build_config
from recagora.experiments.runner.events import read_events
from recagora.experiments.runner.folder import RunFolder, RunLock, RunLocked
from recagora.experiments.runner.runner import resume_run, start_run

KILLS = 20
RUN_LEVEL = {"run_started", "run_resumed", "run_paused", "run_finished", "run_failed"}
FORK = multiprocessing.get_context("fork")


def _config() -> TrirecConfig:
    fields = {
        "agents": "user=surrogate,item=surrogate",
        "population": 400,
        "rounds": 3,
        "seed": 11,
        "user_fit.max_train_samples": 2000,
    }
    return build_config(TrirecConfig, fields)


def _start(runs: Path, space) -> None:
    start_run(_config(), runs_dir=runs, extras={"space": space})


def _episode_events(folder: Path) -> list[dict]:
    """Events without sequence numbers and run-level markers (they differ by design)."""
    return [
        {k: v for k, v in event.items() if k != "seq"}
        for event in read_events(folder / "events.jsonl")
        if event.get("kind") not in RUN_LEVEL
    ]


def _metrics(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "metrics.csv")


@pytest.fixture(scope="module")
def reference(hashing_space, tmp_path_factory):
    """An uninterrupted run and its wall time (the kill instants are drawn within it)."""
    runs = tmp_path_factory.mktemp("clean")
    started = time.perf_counter()
    process = FORK.Process(target=_start, args=(runs, hashing_space))
    process.start()
    process.join(timeout=900)  # a bound, not a speed check: a hung child must not hang CI
    if process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
    assert process.exitcode == 0
    (folder,) = runs.iterdir()
    return folder, time.perf_counter() - started


@pytest.mark.slow
def test_a_run_killed_at_any_instant_resumes_to_the_uninterrupted_result(
    reference, hashing_space, tmp_path
):
    clean, wall_s = reference
    instants = sorted(np.random.default_rng(2026).uniform(0.02, 1.05, KILLS) * wall_s)
    outcomes = []
    for number, instant in enumerate(instants):
        runs = tmp_path / f"kill{number}"
        process = FORK.Process(target=_start, args=(runs, hashing_space))
        process.start()
        process.join(timeout=instant)
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
        process.join()
        folders = list(runs.iterdir()) if runs.exists() else []
        if not folders or not (folders[0] / "manifest.json").is_file():
            outcomes.append("before the run existed")  # nothing to resume: start again
            continue
        (folder,) = folders
        resumed = resume_run(folder, extras={"space": hashing_space})
        assert resumed.status == "finished", f"kill at {instant:.2f}s"
        assert _episode_events(folder) == _episode_events(clean), f"kill at {instant:.2f}s"
        pd.testing.assert_frame_equal(_metrics(folder), _metrics(clean))
        assert RunFolder(folder).read_manifest()["status"] == "finished"
        outcomes.append("resumed")
    # The instants span the run: most kills land after setup, inside the episode.
    assert outcomes.count("resumed") >= KILLS // 2, outcomes


def _hold_lock(folder: Path, ready, release) -> None:
    with RunLock(RunFolder(folder)):
        ready.set()
        release.wait(30)


@pytest.mark.slow
def test_a_second_process_cannot_resume_a_running_run(reference, hashing_space, tmp_path):
    import shutil

    clean, _ = reference
    running = Path(shutil.copytree(clean, tmp_path / "running"))
    manifest = RunFolder(running).read_manifest()  # as a run still going: not finished
    RunFolder(running).write_json(running / "manifest.json", {**manifest, "status": "running"})
    ready, release = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold_lock, args=(running, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        before = (running / "events.jsonl").read_bytes()
        with pytest.raises(RunLocked, match=str(holder.pid)):
            resume_run(running, extras={"space": hashing_space})
        assert (running / "events.jsonl").read_bytes() == before
    finally:
        release.set()
        holder.join()
    # The lock dies with its holder: the run can be resumed (it is done: nothing is re-run).
    resumed = resume_run(running, extras={"space": hashing_space})
    assert resumed.status == "finished"
    assert _episode_events(running) == _episode_events(clean)


@pytest.mark.slow
def test_a_renamed_run_folder_resumes_its_own_checkpoint(reference, hashing_space, tmp_path):
    clean, wall_s = reference
    runs = tmp_path / "runs"
    process = FORK.Process(target=_start, args=(runs, hashing_space))
    process.start()
    deadline = time.monotonic() + 10 * wall_s
    while time.monotonic() < deadline:  # kill once the first round is on disk
        logs = list(runs.glob("*/events.jsonl"))
        if logs and b'"round_end"' in logs[0].read_bytes():
            break
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.join()
    (folder,) = runs.iterdir()
    renamed = folder.rename(tmp_path / "my-experiment")
    resumed = resume_run(renamed, extras={"space": hashing_space})
    assert resumed.status == "finished"
    started = [e for e in read_events(renamed / "events.jsonl") if e["kind"] == "run_resumed"]
    assert started and started[0]["rounds_on_disk"], "the resume must continue, not restart"
    assert _episode_events(renamed) == _episode_events(clean)


def test_resuming_a_finished_run_rewrites_nothing(reference, hashing_space):
    clean, _ = reference
    before = {p.name: p.stat().st_mtime_ns for p in clean.iterdir() if p.is_file()}
    again = resume_run(clean, extras={"space": hashing_space})
    assert again.status == "finished" and again.message == "already finished"
    after = {p.name: p.stat().st_mtime_ns for p in clean.iterdir() if p.is_file()}
    changed = {name for name in before if before[name] != after.get(name)}
    assert changed <= {"run.lock"}, changed


def test_a_damaged_checkpoint_is_one_error_and_rewrites_nothing(reference, hashing_space, tmp_path):
    import shutil

    from recagora.experiments.runner.folder import RunFolderError

    clean, _ = reference
    copy = Path(shutil.copytree(clean, tmp_path / "copy"))
    manifest = RunFolder(copy).read_manifest()
    RunFolder(copy).write_json(copy / "manifest.json", {**manifest, "status": "paused"})
    for name in ("checkpoint.sqlite-wal", "checkpoint.sqlite-shm"):
        (copy / name).unlink(missing_ok=True)
    (copy / "checkpoint.sqlite").write_bytes(b"this is not a database" * 100)
    before = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    with pytest.raises(RunFolderError, match="checkpoint.sqlite is unreadable"):
        resume_run(copy, extras={"space": hashing_space})
    after = {p.name: p.read_bytes() for p in copy.iterdir() if p.is_file()}
    assert {k: v for k, v in after.items() if k != "run.lock"} == {
        k: v for k, v in before.items() if k != "run.lock"
    }
