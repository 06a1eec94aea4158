"""LangGraph's async SQLite checkpointer, keeping only what a resume needs.

`AsyncSqliteSaver` stores the whole state in every checkpoint, one after every node:
a 1k-user TriRec run of 10 rounds left 80 full states (530 MB) behind, of which a
resume reads one. This saver deletes, after each new checkpoint, every older
checkpoint of the thread but the new one's parent (and their pending writes), so the
file holds about two states and SQLite reuses the freed pages. Checkpoint ids are
time-ordered (uuid6), so "older" is a string comparison.

With `round_boundaries=True` (a round-granular graph, `round_graph.per_round`: every
checkpoint falls on a round boundary) two things are not saved:
- the round's events: the state's `events` key and the `events` field of the round's
  outputs (`Scores`, `Responses`, ...). By then the round's last node has handed them to
  the run's sink (events.jsonl holds them) and the next round starts a fresh list, so a
  resume never reads them (at 10k users with per-user events, two thirds of a state);
- the round task's state writes, which LangGraph saves just before the checkpoint that
  holds the same values (the whole state pickled and stored twice a round). A kill
  between the two then resumes from the round's start, as any kill mid-round does (its
  own random streams replay it; the sink skips a round already on disk). LangGraph's
  own channels ("__error__", "__interrupt__", ...) are still saved.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

EVENTS = "events"
# SQLite page size of a new checkpoint file: a 10k-user state is a 35 MB blob, ~9k
# overflow pages of the default 4 KiB; 64 KiB pages store it with 40% less CPU (4
# checkpoints: 0.72 -> 0.43 s). Fixed at creation, so an existing file keeps its own.
PAGE_SIZE = 65536


class LatestSqliteSaver(AsyncSqliteSaver):
    """`AsyncSqliteSaver` that prunes each thread to its newest checkpoint and its parent
    (and, at round boundaries, saves no round events: see the module docstring)."""

    def __init__(self, *args: Any, round_boundaries: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.round_boundaries = round_boundaries

    async def setup(self) -> None:
        if not self.is_setup:
            await self.conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        await super().setup()

    async def aput(self, config, checkpoint, metadata, new_versions) -> Any:
        if self.round_boundaries:
            values = checkpoint["channel_values"]
            checkpoint = {
                **checkpoint,
                "channel_values": {k: without_events(k, v) for k, v in values.items()},
            }
        saved = await super().aput(config, checkpoint, metadata, new_versions)
        parent = config["configurable"].get("checkpoint_id")
        if parent:
            await self._prune_before(saved["configurable"], parent)
        return saved

    async def aput_writes(self, config, writes, task_id, task_path: str = "") -> None:
        if self.round_boundaries:  # LangGraph's own channels only (errors, interrupts, ...)
            writes = [(channel, value) for channel, value in writes if channel.startswith("__")]
            if not writes:
                return
        await super().aput_writes(config, writes, task_id, task_path)

    async def _prune_before(self, where: dict[str, Any], checkpoint_id: str) -> None:
        key = (str(where["thread_id"]), where["checkpoint_ns"], checkpoint_id)
        async with self.lock:
            for table in ("checkpoints", "writes"):
                await self.conn.execute(
                    f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_ns = ? "
                    "AND checkpoint_id < ?",
                    key,
                )
            await self.conn.commit()


def without_events(key: str, value: Any) -> Any:
    """`value` of state key `key` as a round-boundary checkpoint keeps it: the `events`
    list empty, a frozen dataclass with an `events` field copied with no events."""
    if key == EVENTS and isinstance(value, list):
        return []
    if _has_events_field(value) and getattr(value, EVENTS):
        return dataclasses.replace(value, events=[])
    return value


def _has_events_field(value: Any) -> bool:
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return False
    return any(f.name == EVENTS and f.init for f in dataclasses.fields(value))
