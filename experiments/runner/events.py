"""The run's append-only event log, `events.jsonl`, written one ROUND at a time.

Exactly-once on top of at-least-once: a scenario's `record_round` node may run twice
for the same round (a run killed after writing but before LangGraph committed the
checkpoint re-runs the node on resume). The log therefore remembers which rounds are
complete on disk and skips them. A round is complete when its closing
`{"kind": "round_end"}` line is on disk; lines of a round cut short by a kill are
truncated when the log is opened, so a resume never duplicates or half-writes a round.

A kill can only tear the LAST line (no newline, or half a JSON object): that line is
repaired away. An unreadable line with readable lines after it is not a kill's doing
(someone edited or damaged the file): opening the log then refuses with one line
naming the line number, and nothing is truncated.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from recagora.item_space.errors import RecAgoraError

ROUND_END = "round_end"


class CorruptEventLog(RecAgoraError):
    """events.jsonl has an unreadable line before its end (not a torn last line)."""


class EventLog:
    """Append-only JSONL writer with per-round idempotency (see module docstring).

    Each event is a JSON object; the log adds `seq` (0-based position in the file).
    Every write is flushed and fsync'ed before the round counts as done.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.touch(exist_ok=True)
        self._complete_rounds, keep_bytes, self._seq = _scan(self.path)
        with self.path.open("r+b") as handle:
            handle.truncate(keep_bytes)

    @property
    def complete_rounds(self) -> set[int]:
        """Rounds whose events are fully on disk."""
        return set(self._complete_rounds)

    def write_round(self, round_index: int, events: Sequence[dict[str, Any]]) -> bool:
        """Append `events` of `round_index` and its closing marker; False if already on disk."""
        if round_index in self._complete_rounds:
            return False
        closing = {"kind": ROUND_END, "round": round_index, "n_events": len(events)}
        lines = [
            _ENCODER.encode({"seq": seq, **event}) + "\n"
            for seq, event in enumerate([*events, closing], start=self._seq)
        ]
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("".join(lines))  # one write: a kill tears at most the round's tail,
            handle.flush()  # which opening the log truncates (the round has no round_end)
            os.fsync(handle.fileno())
        self._seq += len(lines)
        self._complete_rounds.add(round_index)
        return True

    def write_once(self, event: dict[str, Any]) -> None:
        """Append one event outside the round structure (run start/end, pauses)."""
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"seq": self._seq, **event}, default=_jsonable) + "\n")
            handle.flush()
        self._seq += 1


def scan_event_log(path: Path) -> set[int]:
    """The complete rounds of a log, read only (a missing log has none); raises
    `CorruptEventLog` where opening it for writing would."""
    path = Path(path)
    if not path.exists():
        return set()
    try:
        return _scan(path)[0]
    except OSError as error:
        raise CorruptEventLog(f"{path} is unreadable ({error.strerror or error})") from None


def read_events(path: Path, containing: bytes | None = None) -> Iterator[dict[str, Any]]:
    """Events of a log in file order (use for replay and reports).

    A torn last line (a kill mid-write; the next resume repairs it) is skipped; an
    unreadable line before the end raises `CorruptEventLog`. With `containing`, lines
    without those bytes are skipped unparsed (the metrics rows of a million-event log
    without parsing the million); damage on a skipped line then goes unnoticed here.
    """
    torn_at = 0
    try:
        with Path(path).open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if torn_at:
                    raise CorruptEventLog(
                        f"{path}: line {torn_at} is not a valid event; the log is damaged"
                    )
                if not raw.strip() or (containing is not None and containing not in raw):
                    continue
                event = _parse(raw if raw.endswith(b"\n") else raw + b"\n")
                if event is None:
                    torn_at = number
                    continue
                yield event
    except OSError as error:
        raise CorruptEventLog(f"{path} is unreadable ({error.strerror or error})") from None


def round_events(path: Path, drop_seq: bool = True) -> list[dict[str, Any]]:
    """Events belonging to rounds (round markers included), optionally without `seq`."""
    rows = [e for e in read_events(path) if "round" in e]
    if drop_seq:
        rows = [{k: v for k, v in e.items() if k != "seq"} for e in rows]
    return rows


def _scan(path: Path) -> tuple[set[int], int, int]:
    """(complete rounds, bytes to keep, next seq): everything after the last closed round
    that is not a run-level event is an unfinished round and gets cut; a torn last line
    goes with it. An unreadable line that is not the last raises `CorruptEventLog`."""
    complete: set[int] = set()
    keep = 0
    kept_lines = 0
    offset = 0
    lines = 0
    torn_at = 0
    with path.open("rb") as handle:
        for raw in handle:
            if torn_at:
                raise CorruptEventLog(
                    f"{path}: line {torn_at} is not a valid event but later lines are; the log "
                    "was damaged (not by a kill). Repair or delete that line, then resume"
                )
            offset += len(raw)
            lines += 1
            event = _parse(raw)
            if event is None:
                torn_at = lines
                continue
            if event.get("kind") == ROUND_END:
                complete.add(int(event["round"]))
            if event.get("kind") == ROUND_END or "round" not in event:
                keep, kept_lines = offset, lines
    return complete, keep, kept_lines


def _parse(raw: bytes) -> dict[str, Any] | None:
    if not raw.endswith(b"\n"):
        return None
    try:
        event = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return event if isinstance(event, dict) else None


def _jsonable(value: Any) -> Any:
    """numpy scalars/arrays -> Python; anything else -> str."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


# json.dumps(obj, default=_jsonable) builds this encoder on every call; the same bytes.
_ENCODER = json.JSONEncoder(default=_jsonable)
