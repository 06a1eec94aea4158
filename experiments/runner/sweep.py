"""Compare arms of an experiment: one run per arm (same seed), one table and one plot.

Each arm is a list of `--set`-style overrides applied to a base config; every arm
becomes a normal run folder (so `recagora runs show` and `replay` work on it), and
the comparison table holds each arm's overall metrics plus its run folder name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recagora.environments.registry import get_scenario
from recagora.experiments.runner.config import with_overrides
from recagora.experiments.runner.runner import start_run


@dataclass
class SweepResult:
    """The comparison table (one row per arm) and where it was written."""

    table: pd.DataFrame
    table_csv: Path
    table_md: Path


def run_arms(
    base_config: Any,
    arms: Mapping[str, Sequence[str]],
    out_dir: Path,
    label: str = "arm",
    runs_dir: Path | None = None,
    extras: dict[str, Any] | None = None,
) -> SweepResult:
    """Run every arm, then write `<out_dir>/comparison.csv` and `comparison.md`.

    Args:
        base_config: the scenario config every arm starts from.
        arms: arm name -> overrides ("dotted.key=value" strings parsed like `--set`).
        label: name of the arm column in the table.
        runs_dir: where the arms' run folders go (default `<out_dir>/runs`).

    The table's metric columns are the scenario's `spec.sweep_metrics` (every overall
    metric when the spec lists none); a column no arm reported is dropped.
    """
    columns = get_scenario(base_config.scenario).sweep_metrics
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, overrides in arms.items():
        config = with_overrides(base_config, overrides)
        result = start_run(
            config,
            runs_dir=runs_dir or out_dir / "runs",
            argv=["sweep", name, *overrides],
            extras=extras,
        )
        overall = result.summary["overall"]
        picked = {c: overall.get(c) for c in columns} if columns else dict(overall)
        rows.append({label: name, **picked, "run": result.folder.name})
    table = pd.DataFrame(rows).dropna(axis=1, how="all")
    table.to_csv(out_dir / "comparison.csv", index=False)
    (out_dir / "comparison.md").write_text(markdown_table(table))
    return SweepResult(
        table=table, table_csv=out_dir / "comparison.csv", table_md=out_dir / "comparison.md"
    )


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub markdown table (floats to 4 decimals)."""
    cells = [
        [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]
        for row in table.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells]) + "\n"
