"""Per-step metrics of a run: a CSV row per optimizer step, PNG curves, a rich progress bar."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

METRICS_CSV, CURVES_PNG, TENSORBOARD_DIR = "metrics.csv", "curves.png", "tensorboard"


class MetricsLog:
    """Appends step metrics to ``<run>/metrics.csv`` (rows of later steps are dropped on resume).

    With `tensorboard`, the same scalars also go to TensorBoard event files under
    ``<run>/tensorboard/`` (torch's `SummaryWriter`; a resume purges the events after the
    checkpoint's step, as the CSV drops its rows): `tensorboard --logdir <run>`.
    """

    def __init__(self, run_dir: Path, start_step: int = 0, tensorboard: bool = False):
        self.path = Path(run_dir) / METRICS_CSV
        self.rows: list[dict[str, Any]] = []
        if self.path.is_file():
            with self.path.open() as handle:
                self.rows = [r for r in csv.DictReader(handle) if int(r["step"]) <= start_step]
        self._write()
        self.board = (
            _summary_writer(Path(run_dir) / TENSORBOARD_DIR, start_step) if tensorboard else None
        )

    def append(self, step: int, metrics: dict[str, Any]) -> None:
        self.rows.append({"step": step, **{k: _round(v) for k, v in metrics.items()}})
        self._write()  # whole file each step: a few hundred rows, and a new column just works
        if self.board is not None:
            for key, value in metrics.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    self.board.add_scalar(key, value, step)
            self.board.flush()  # a killed run keeps every step it logged

    def _write(self) -> None:
        columns = list(dict.fromkeys(k for row in self.rows for k in row)) or ["step"]
        with self.path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, restval="")
            writer.writeheader()
            writer.writerows(self.rows)

    def plot(self) -> Path | None:
        """One panel per numeric column against the step, saved as ``curves.png``."""
        if not self.rows:
            return None
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        columns = [c for c in dict.fromkeys(k for row in self.rows for k in row) if c != "step"]
        figure, axes = plt.subplots(len(columns), 1, figsize=(7, 2.0 * len(columns)), sharex=True)
        for axis, column in zip(axes if len(columns) > 1 else [axes], columns, strict=True):
            points = [
                (int(r["step"]), float(r[column]))
                for r in self.rows
                if r.get(column) not in ("", None)
            ]
            axis.plot([p[0] for p in points], [p[1] for p in points], lw=1)
            axis.set_ylabel(column, fontsize=8)
        axes_list = axes if len(columns) > 1 else [axes]
        axes_list[-1].set_xlabel("optimizer step")
        figure.tight_layout()
        out = self.path.with_name(CURVES_PNG)
        figure.savefig(out, dpi=80)
        plt.close(figure)
        return out

    @contextlib.contextmanager
    def progress(self, total: int, done: int, label: str, enabled: bool) -> Iterator[Callable]:
        """Context yielding `advance(metrics)`; a rich bar when enabled."""
        if not enabled:
            yield lambda metrics: None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
        )
        with Progress(*columns, transient=False) as bar:
            task = bar.add_task(label, total=total, completed=done, info="")

            def advance(metrics: dict[str, Any]) -> None:
                bar.update(task, advance=1, info=f"loss {metrics.get('loss', float('nan')):.4f}")

            yield advance


def _round(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def _summary_writer(log_dir: Path, start_step: int):
    from recagora.item_space.errors import ConfigError

    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(
            "tensorboard=true needs the tensorboard package: pip install 'recagora[track]'"
        ) from None
    return SummaryWriter(log_dir=str(log_dir), purge_step=start_step + 1 if start_step else None)
