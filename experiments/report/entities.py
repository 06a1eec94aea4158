"""Shared shapes of the report's browsable views (users, items, papers).

An entity is what one row of a searchable list opens: a key, a one-line summary and,
per round, blocks the page renders without knowing the scenario:

    {"title": str, "kv": [[label, value], ...]}                  a definition list
    {"title": str, "columns": [str, ...], "rows": [[...], ...]}  a table

Values are JSON scalars or short lists; long text is cut at `MAX_TEXT` characters.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np

MAX_TEXT = 600
HIDDEN_FIELDS = ("seq", "round", "stage", "kind", "role", "impl", "user", "paper")


def short(value: Any, limit: int = MAX_TEXT) -> Any:
    """Cut long strings (and strings inside lists) to `limit` characters."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, list):
        return [short(v, limit) for v in value[:50]]
    if isinstance(value, dict):
        return short(str(value), limit)
    return value


def kv_block(title: str, event: dict[str, Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """Every field of `event` but the bookkeeping ones, as a definition list."""
    hidden = set(HIDDEN_FIELDS) | set(skip)
    return {"title": title, "kv": [[k, short(v)] for k, v in event.items() if k not in hidden]}


def group_by(events: Iterable[dict[str, Any]], field: str) -> dict[str, dict[int, list[dict]]]:
    """key -> round -> events with that key (keys in order of first appearance)."""
    grouped: dict[str, dict[int, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        if field in event and isinstance(event.get("round"), int):
            grouped[str(event[field])][event["round"]].append(event)
    return grouped


def sample_keys(keys: list[str], limit: int, seed: int) -> tuple[list[str], str]:
    """At most `limit` keys, a seeded sample in their original order, and a note saying so."""
    if len(keys) <= limit:
        return keys, ""
    rng = np.random.default_rng(seed)
    picked = sorted(rng.choice(len(keys), size=limit, replace=False).tolist())
    note = (
        f"showing a seeded sample of {limit} of {len(keys)} (seed {seed}; "
        "`recagora report --max-entities N` shows more; the charts use every one)"
    )
    return [keys[i] for i in picked], note


def entity(key: str, summary: str, rounds: dict[int, list[dict]], **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "summary": summary,
        "rounds": [{"round": r, "blocks": blocks} for r, blocks in sorted(rounds.items())],
        **extra,
    }
