"""LangGraph's async SQLite checkpointer, keeping only what a resume needs.

`AsyncSqliteSaver` stores the whole state in every checkpoint, one after every node:
a 1k-user TriRec run of 10 rounds left 80 full states (530 MB) behind, of which a
resume reads one. This saver deletes, after each new checkpoint, every older
checkpoint of the thread but the new one's parent (and their pending writes), so the
file holds about two states and SQLite reuses the freed pages. Checkpoint ids are
time-ordered (uuid6), so "older" is a string comparison.

With `round_boundaries=True` (a round-granular graph, `round_graph.per_round`: every
checkpoint and every saved write falls on a round boundary) the round's events are
left out: the state's `events` key and the `events` field of the round's outputs
(`Scores`, `Responses`, ...). By then the round's last node has handed them to the
run's sink (events.jsonl holds them), and the next round starts a fresh list, so a
resume never reads them; at 10k users with per-user events they were two thirds of
what every checkpoint pickled, twice a round (the task's writes, then the checkpoint).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

EVENTS = "events"


class LatestSqliteSaver(AsyncSqliteSaver):
    """`AsyncSqliteSaver` that prunes each thread to its newest checkpoint and its parent
    (and, at round boundaries, saves no round events: see the module docstring)."""

    def __init__(self, *args: Any, round_boundaries: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.round_boundaries = round_boundaries

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
        if self.round_boundaries:
            writes = [(channel, without_events(channel, value)) for channel, value in writes]
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
