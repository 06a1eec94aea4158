"""Render a run's event log in the terminal, one (round, stage) block at a time."""

from __future__ import annotations

import json
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
        body = "\n".join(_one_line(e) for e in events)
        return Panel(body, title=title)
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


def _one_line(event: dict) -> str:
    return _cell({k: v for k, v in event.items() if k != "seq"}, limit=400)


def _cell(value: Any, limit: int = MAX_CELL) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
