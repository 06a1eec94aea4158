"""Terminal display of a run: a live panel while it runs, a summary table at the end."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class LiveDisplay:
    """Progress over rounds plus the latest round's metrics; use as a context manager.

    `on_round(round, metrics)` is the runner's per-round callback. With `enabled=False`
    (tests, `--quiet`) nothing is drawn. metrics: the columns shown, in order (the
    scenario's `spec.shown_metrics`); None = every metric of the round, as it comes.
    """

    def __init__(
        self,
        total_rounds: int,
        title: str,
        console: Console | None = None,
        enabled: bool = True,
        metrics: Sequence[str] | None = None,
    ) -> None:
        self.console = console or Console()
        self.enabled = enabled
        self.metrics = metrics
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} rounds"),
            TimeElapsedColumn(),
        )
        self.task = self.progress.add_task(title, total=total_rounds)
        self.latest: dict[str, float] = {}
        self.tokens = 0.0
        self.started = time.perf_counter()
        self._live: Live | None = None

    def __enter__(self) -> LiveDisplay:
        if self.enabled:
            self._live = Live(
                self._render(), console=self.console, refresh_per_second=4, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def on_round(self, round_index: int, metrics: dict[str, float]) -> None:
        self.latest = dict(metrics)
        self.tokens += metrics.get("prompt_tokens", 0.0) + metrics.get("completion_tokens", 0.0)
        self.progress.update(self.task, completed=round_index + 1)
        if self._live is not None:
            self._live.update(self._render())

    def _render(self) -> Group:
        table = Table(title=f"round metrics (tokens so far: {int(self.tokens)})", show_header=True)
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key in _shown(self.metrics, self.latest):
            table.add_row(key, _fmt(self.latest[key]))
        return Group(self.progress, table)


def summary_table(
    summary: dict[str, Any], title: str, metrics: Sequence[str] | None = None
) -> Table:
    """The end-of-run table: overall (active-user-weighted mean over rounds; counters summed).

    metrics: the rows, in order (the scenario's `spec.shown_metrics`); None = every
    overall metric. `rounds_done` closes the table.
    """
    overall = summary.get("overall", {})
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("overall", justify="right")
    listed = None if metrics is None else (*metrics, "rounds_done")
    for key in _shown(listed, overall):
        table.add_row(key, _fmt(overall[key]))
    return table


def _shown(metrics: Sequence[str] | None, values: dict[str, Any]) -> Iterable[str]:
    """The listed keys that `values` holds, in list order; every key when nothing is listed."""
    if metrics is None:  # rounds_done, when there, closes the list
        metrics = [*(key for key in values if key != "rounds_done"), "rounds_done"]
    return [key for key in metrics if key in values]


def _fmt(value: float) -> str:
    if value != value:  # NaN: nothing to evaluate this round
        return "-"
    return f"{value:.4f}" if abs(value - round(value)) > 1e-9 else f"{int(round(value))}"
