"""Read a run folder for a report, tolerating what a killed or older run lacks.

Every file is optional here: what cannot be read becomes a line in `RunData.problems`
(shown at the top of the report) and the rest is rendered. Only a path that is not a
run folder at all is an error (`RunNotFound`, raised by `RunFolder.open`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from recagora.experiments.runner.events import ROUND_END, CorruptEventLog, read_events
from recagora.experiments.runner.folder import RunFolder

METRICS_KIND = "round_metrics"


@dataclass
class RunData:
    """What a report shows of one run; `problems` says what was missing or damaged."""

    name: str
    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def scenario(self) -> str:
        return str(self.config.get("scenario") or self.manifest.get("scenario") or "unknown")

    @property
    def status(self) -> str:
        return str(self.summary.get("status") or self.manifest.get("status") or "unknown")

    def metric_rows(self) -> list[dict[str, Any]]:
        """One dict per round with metrics, in round order (from the event log)."""
        rows = [
            {k: v for k, v in e.items() if k not in ("seq", "kind")}
            for e in self.events
            if e.get("kind") == METRICS_KIND and isinstance(e.get("round"), int)
        ]
        return sorted(rows, key=lambda row: row["round"])

    def complete_rounds(self) -> list[int]:
        return sorted({int(e["round"]) for e in self.events if e.get("kind") == ROUND_END})


def load_run(folder: RunFolder) -> RunData:
    """Everything a report needs from `folder`; never raises for a missing or bad file."""
    data = RunData(name=folder.name, path=folder.path)
    data.manifest = _mapping(folder.manifest_path, json.loads, data.problems)
    data.config = _mapping(folder.config_path, yaml.safe_load, data.problems)
    data.summary = _mapping(folder.summary_path, json.loads, data.problems)
    data.ledger = _mapping(folder.ledger_path, json.loads, data.problems)
    data.events = _events(folder.events_path, data.problems)
    data.problems += _unfinished(data)
    return data


def _mapping(path: Path, parse, problems: list[str]) -> dict[str, Any]:
    try:
        value = parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path.name} is missing")
        return {}
    except (OSError, ValueError, yaml.YAMLError):
        problems.append(f"{path.name} is unreadable or not valid")
        return {}
    if not isinstance(value, dict):
        problems.append(f"{path.name} is not a mapping")
        return {}
    return value


def _events(path: Path, problems: list[str]) -> list[dict[str, Any]]:
    """The log's events up to the first damaged line (a torn last line is skipped)."""
    if not path.is_file():
        problems.append(f"{path.name} is missing: no rounds to show")
        return []
    events: list[dict[str, Any]] = []
    try:
        for event in read_events(path):
            events.append(event)
    except CorruptEventLog as error:
        problems.append(f"{error}; events after it are not shown")
    return events


def _unfinished(data: RunData) -> list[str]:
    """Rounds begun but never closed, and a run that stopped before its horizon."""
    notes = []
    closed = set(data.complete_rounds())
    begun = {int(e["round"]) for e in data.events if isinstance(e.get("round"), int)}
    for round_index in sorted(begun - closed):
        notes.append(
            f"round {round_index + 1} was cut short (no round_end): shown as far as it was written"
        )
    if data.status in ("running", "paused", "failed") and data.events:
        notes.append(
            f"the run is {data.status!r} with {len(closed)} complete round(s); "
            "a killed run stays 'running' until `recagora run --resume` finishes it"
        )
    return notes
