"""One run to play, and how any executor plays it (an ordinary `start_run`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recagora.experiments.runner.runner import start_run


@dataclass(frozen=True)
class RunJob:
    """One run to play: its arm name, config, and the `--set` overrides it came from."""

    name: str
    config: Any
    overrides: tuple[str, ...]


def play_job(job: RunJob, runs_dir: str | Path, extras: dict[str, Any] | None) -> dict[str, Any]:
    """Run `job` into its own run folder under `runs_dir`; {"overall": metrics, "run": folder}."""
    result = start_run(
        job.config, runs_dir=runs_dir, argv=["sweep", job.name, *job.overrides], extras=extras
    )
    return {"overall": result.summary["overall"], "run": result.folder.name}
