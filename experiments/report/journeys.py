"""Per-user journeys: what each user saw, scored, was shown, consumed, and whether they left.

TriRec (candidates, each item agent's promotion, the user's scores and reasons, the
platform's final slate, the consumed item, satisfaction, leaving); grounded (each round's
reasoning, groundings and feedback); any other per-user event as a definition list.
"""

from __future__ import annotations

from typing import Any

from recagora.experiments.report.entities import entity, group_by, kv_block, sample_keys, short

TRIREC_KINDS = ("ads", "score", "rerank", "respond", "reflect", "leave")


def user_journeys(events: list[dict[str, Any]], limit: int, seed: int) -> dict[str, Any]:
    """The "Users" view: {"title", "note", "total", "entities"} (see entities.py)."""
    grouped = group_by(events, "user")
    keys, note = sample_keys(list(grouped), limit, seed)
    entities = [_journey(key, grouped[key]) for key in keys]
    return {"title": "Users", "note": note, "total": len(grouped), "entities": entities}


def _journey(key: str, by_round: dict[int, list[dict]]) -> dict[str, Any]:
    blocks = {r: _round_blocks(events) for r, events in by_round.items()}
    return entity(key, _summary(by_round), blocks)


def _round_blocks(events: list[dict]) -> list[dict]:
    by_kind = {e.get("kind"): e for e in events}
    blocks = []
    if {"ads", "score", "rerank"} & set(by_kind):
        blocks.append(_candidate_table(by_kind))
        blocks.append(_outcome(by_kind))
    for event in events:
        if event.get("kind") == "grounded_turn":
            blocks.append(_grounded_turn(event))
        elif event.get("kind") not in TRIREC_KINDS:
            blocks.append(kv_block(str(event.get("kind", "event")), event))
    return blocks


def _candidate_table(by_kind: dict[str, dict]) -> dict[str, Any]:
    """One row per candidate in the order the user saw them."""
    ads, score, rerank = by_kind.get("ads", {}), by_kind.get("score", {}), by_kind.get("rerank", {})
    items = list(ads.get("item") or score.get("candidates") or [])
    scores = list(score.get("scores") or [])
    if not items:
        items = [f"#{n + 1}" for n in range(len(scores))]
    texts = list(ads.get("text") or [])
    slate = list(rerank.get("slate") or [])
    chosen = by_kind.get("respond", {}).get("chosen")
    rows = [
        [
            item,
            short(texts[n], 300) if n < len(texts) else "",
            scores[n] if n < len(scores) else None,
            slate.index(item) + 1 if item in slate else None,
            "yes" if item == chosen else "",
        ]
        for n, item in enumerate(items)
    ]
    columns = ["item", "item agent's promotion", "user score (0-10)", "final rank", "consumed"]
    return {"title": "candidates", "columns": columns, "rows": rows}


def _outcome(by_kind: dict[str, dict]) -> dict[str, Any]:
    score, respond = by_kind.get("score", {}), by_kind.get("respond", {})
    kv = [
        ["final slate", short(by_kind.get("rerank", {}).get("slate"))],
        ["consumed", respond.get("chosen") if respond.get("chosen", -1) != -1 else "nothing"],
        ["satisfaction", respond.get("q")],
        ["left", bool(by_kind.get("reflect", {}).get("left")) or "leave" in by_kind],
    ]
    if score.get("reason"):
        kv.append(["user's reason", short(score["reason"])])
    for field in ("attempts", "invalid_replies", "complete"):
        if field in score:
            kv.append([f"scoring {field}", score[field]])
    return {"title": "outcome", "kv": kv}


def _grounded_turn(event: dict) -> dict[str, Any]:
    return kv_block(f"{event.get('action', 'turn')}", event, skip=("llm",))


def _summary(by_round: dict[int, list[dict]]) -> str:
    """`3 rounds · consumed 2 · left in round 3` (what fits a list row)."""
    rounds = sorted(by_round)
    consumed = sum(
        1
        for events in by_round.values()
        for e in events
        if e.get("kind") == "respond" and e.get("chosen", -1) != -1
    )
    left = [
        r
        for r in rounds
        for e in by_round[r]
        if e.get("kind") == "leave" or (e.get("kind") == "reflect" and e.get("left"))
    ]
    answered = [
        r
        for r in rounds
        for e in by_round[r]
        if e.get("kind") == "grounded_turn" and e.get("action") == "answer"
    ]
    parts = [f"{len(rounds)} round(s)"]
    if any(e.get("kind") == "respond" for events in by_round.values() for e in events):
        parts.append(f"consumed {consumed}")
    if left:
        parts.append(f"left in round {left[0] + 1}")
    if answered:
        parts.append(f"answered in round {answered[0] + 1}")
    return " · ".join(parts)
