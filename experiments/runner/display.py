"""Terminal display of a run: a live panel while it runs, a summary table at the end."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# Metrics shown live and in the end table, in this order (absent ones are skipped).
SHOWN = (
    "active_users",
    "ndcg@1",
    "ndcg@5",
    "ndcg@10",
    "mrr",
    "stage1_ndcg@5",
    "eiu@10",
    "item_utility",
    "dgu",
    "mgu",
    "exposure_gini",
    "coverage",
    "satisfaction",
    "consumption_rate",
    "exit_rate",
    "incomplete_score_rate",
    "prompt_tokens",
    "completion_tokens",
    "llm_requests",
    "llm_cached",
    "llm_failures",
    "cost_usd",
)


class LiveDisplay:
    """Progress over rounds plus the latest round's metrics; use as a context manager.

    `on_round(round, metrics)` is the runner's per-round callback. With `enabled=False`
    (tests, `--quiet`) nothing is drawn.
    """

    def __init__(
        self, total_rounds: int, title: str, console: Console | None = None, enabled: bool = True
    ) -> None:
        self.console = console or Console()
        self.enabled = enabled
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
        for key in SHOWN:
            if key in self.latest:
                table.add_row(key, _fmt(self.latest[key]))
        return Group(self.progress, table)


def summary_table(summary: dict[str, Any], title: str) -> Table:
    """The end-of-run table: overall (active-user-weighted mean over rounds; counters summed)."""
    overall = summary.get("overall", {})
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("overall", justify="right")
    for key in (*SHOWN, "rounds_done"):
        if key in overall:
            table.add_row(key, _fmt(overall[key]))
    return table


def _fmt(value: float) -> str:
    if value != value:  # NaN: nothing to evaluate this round
        return "-"
    return f"{value:.4f}" if abs(value - round(value)) > 1e-9 else f"{int(round(value))}"
