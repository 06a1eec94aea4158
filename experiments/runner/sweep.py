"""Compare arms of an experiment: one run per arm (same seed), one table and one plot.

Each arm is a list of `--set`-style overrides applied to a base config; every arm
becomes a normal run folder (so `recagora runs show` and `replay` work on it), and
the comparison table holds each arm's overall metrics plus its run folder name.
`seed_repeats` turns arms into arm x seed runs. `executor="ray"` plays the runs as
Ray tasks in parallel (`experiments.executors.ray_runs`); the table is the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recagora.environments.registry import get_scenario
from recagora.experiments.executors.jobs import RunJob, play_job
from recagora.experiments.executors.ray_runs import connect, run_on_ray
from recagora.experiments.runner.config import with_overrides
from recagora.item_space.errors import ConfigError


@dataclass
class SweepResult:
    """The comparison table (one row per arm) and where it was written."""

    table: pd.DataFrame
    table_csv: Path
    table_md: Path


EXECUTORS = ("local", "ray")


def run_arms(
    base_config: Any,
    arms: Mapping[str, Sequence[str]],
    out_dir: Path,
    label: str = "arm",
    runs_dir: Path | None = None,
    extras: dict[str, Any] | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    workers: int = 2,
) -> SweepResult:
    """Run every arm, then write `<out_dir>/comparison.csv` and `comparison.md`.

    Args:
        base_config: the scenario config every arm starts from.
        arms: arm name -> overrides ("dotted.key=value" strings parsed like `--set`).
        label: name of the arm column in the table.
        runs_dir: where the arms' run folders go (default `<out_dir>/runs`).

        executor: "local" (one run after another here) or "ray" (Ray tasks);
        ray_address: the Ray cluster to join (None = a local one of `workers` CPUs).

    The table's metric columns are the scenario's `spec.sweep_metrics` (every overall
    metric when the spec lists none); a column no arm reported is dropped. Bad
    overrides and an unreachable Ray cluster fail before anything is written.
    """
    if executor not in EXECUTORS:
        raise ConfigError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    columns = get_scenario(base_config.scenario).sweep_metrics
    jobs = [RunJob(n, with_overrides(base_config, o), tuple(o)) for n, o in arms.items()]
    if executor == "ray":
        connect(ray_address, workers)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = Path(runs_dir or out_dir / "runs")
    played = (
        run_on_ray(jobs, runs, extras)
        if executor == "ray"
        else [play_job(job, runs, extras) for job in jobs]
    )
    rows = []
    for job, outcome in zip(jobs, played, strict=True):
        overall = outcome["overall"]
        picked = {c: overall.get(c) for c in columns} if columns else dict(overall)
        rows.append({label: job.name, **picked, "run": outcome["run"]})
    table = pd.DataFrame(rows).dropna(axis=1, how="all")
    table.to_csv(out_dir / "comparison.csv", index=False)
    (out_dir / "comparison.md").write_text(markdown_table(table))
    return SweepResult(
        table=table, table_csv=out_dir / "comparison.csv", table_md=out_dir / "comparison.md"
    )


def seed_repeats(arms: Mapping[str, Sequence[str]], seeds: Sequence[int]) -> dict[str, list[str]]:
    """Every arm once per seed: "<arm>/seed=<s>" -> the arm's overrides + "seed=<s>"."""
    return {
        f"{name}/seed={seed}": [*overrides, f"seed={seed}"]
        for name, overrides in arms.items()
        for seed in seeds
    }


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub markdown table (floats to 4 decimals)."""
    cells = [
        [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        for row in table.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells]) + "\n"
