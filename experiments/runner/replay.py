"""Render a run's event log in the terminal, one (round, stage) block at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import groupby
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from recagora.experiments.runner.events import ROUND_END, read_events
from recagora.experiments.runner.folder import RunFolder

# Fields shown as columns when a stage's events carry them (others go in "details").
COLUMNS = ("user", "item", "role", "kind", "score", "chosen", "slate", "text", "reason")
MAX_CELL = 120


def replay_events(
    folder: RunFolder,
    console: Console,
    only_round: int | None = None,
    only_user: str | None = None,
    wait: Callable[[], bool] | None = None,
) -> int:
    """Print the events block by block; `wait()` between blocks returns False to stop.

    Returns the number of events shown.
    """
    shown = 0
    for (round_index, stage), events in _blocks(folder, only_round, only_user):
        console.print(_block(round_index, stage, events))
        shown += len(events)
        if wait is not None and not wait():
            break
    return shown


def _blocks(
    folder: RunFolder, only_round: int | None, only_user: str | None
) -> Iterator[tuple[tuple[Any, str], list[dict]]]:
    events = (e for e in read_events(folder.events_path) if e.get("kind") != ROUND_END)
    if only_round is not None:
        events = (e for e in events if e.get("round") == only_round)
    if only_user is not None:
        events = (e for e in events if str(e.get("user")) == only_user)
    for key, group in groupby(
        events, key=lambda e: (e.get("round"), e.get("stage") or e.get("kind", "run"))
    ):
        yield key, list(group)


def _block(round_index: Any, stage: str, events: list[dict]) -> Panel:
    title = f"round {round_index + 1} - {stage}" if isinstance(round_index, int) else stage
    if (
        len(events) == 1
        and events[0].get("kind") in ("round_metrics", "round_start")
        or round_index is None
    ):
        return Panel(_fields(events), title=title)
    return Panel(_table(events), title=f"{title} ({len(events)} events)")


def _table(events: list[dict]) -> Table:
    present = [c for c in COLUMNS if any(c in e for e in events)]
    table = Table(show_header=True, expand=True)
    for column in [*present, "details"]:
        table.add_column(column, overflow="fold")
    for event in events:
        rest = {k: v for k, v in event.items() if k not in (*present, "seq", "round", "stage")}
        table.add_row(*[_cell(event.get(c, "")) for c in present], _cell(rest) if rest else "")
    return table


def _fields(events: list[dict]) -> Table:
    """Single events (run start, round metrics) as a field / value table, one row per field."""
    table = Table(show_header=False, box=None, expand=True)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for number, event in enumerate(events):
        if number:
            table.add_row("", "")
        for key, value in event.items():
            if key != "seq":
                table.add_row(str(key), _cell(value, limit=400))
    return table


def _cell(value: Any, limit: int = MAX_CELL) -> str:
    text = _readable(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _readable(value: Any) -> str:
    """A value as a person reads it: 0.123, 'a, b, c', 'key=value, ...' (never raw JSON)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_nested(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        inner = "; " if any(isinstance(v, dict | list | tuple) for v in value) else ", "
        return "[" + inner.join(_readable(v) for v in value) + "]"
    return str(value)


def _nested(value: Any) -> str:
    return f"({_readable(value)})" if isinstance(value, dict) else _readable(value)
