"""Per-item (TriRec) and per-paper (PaperEval) views, and PaperEval's ranking table."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from recagora.experiments.report.entities import entity, group_by, kv_block, sample_keys, short

PROMOTIONS_SHOWN = 5


def item_view(events: list[dict[str, Any]], limit: int) -> dict[str, Any] | None:
    """Items ranked by exposure (times in a final slate), each with its promotions and
    per-round exposure; None when the run logged no slates or ads (not TriRec)."""
    shown, consumed, ads = _tallies(events)
    if not shown and not ads:
        return None
    total = Counter({item: sum(c.values()) for item, c in shown.items()})
    for item in ads:
        total.setdefault(item, 0)
    ranked = [item for item, _ in total.most_common()]
    keys = ranked[:limit]
    note = (
        f"the {limit} most exposed of {len(ranked)} items (charts and totals use all)"
        if len(ranked) > limit
        else ""
    )
    rounds = sorted({e["round"] for e in events if isinstance(e.get("round"), int)})
    entities = [
        _item(item, shown[item], consumed[item], ads.get(item, []), rounds) for item in keys
    ]
    return {"title": "Items", "note": note, "total": len(ranked), "entities": entities}


def _tallies(events: list[dict]) -> tuple[dict, dict, dict]:
    """item -> round -> times shown / consumed, and item -> [(round, user, promotion)]."""
    shown: dict[Any, Counter] = defaultdict(Counter)
    consumed: dict[Any, Counter] = defaultdict(Counter)
    ads: dict[Any, list] = defaultdict(list)
    for e in events:
        kind, r = e.get("kind"), e.get("round")
        if kind == "rerank":
            for item in e.get("slate") or []:
                shown[item][r] += 1
        elif kind == "respond" and e.get("chosen", -1) != -1:
            consumed[e["chosen"]][r] += 1
        elif kind == "ads":
            for item, text in zip(e.get("item") or [], e.get("text") or [], strict=False):
                if len(ads[item]) < PROMOTIONS_SHOWN:
                    ads[item].append((r, e.get("user"), text))
    return shown, consumed, ads


def _item(item, shown: Counter, consumed: Counter, ads: list, rounds: list[int]) -> dict:
    series = [{"round": r + 1, "shown": shown[r], "consumed": consumed[r]} for r in rounds]
    blocks = {
        -1: [
            {
                "title": f"promotions written (first {PROMOTIONS_SHOWN})",
                "columns": ["round", "to user", "promotion"],
                "rows": [[r + 1, user, short(text, 400)] for r, user, text in ads],
            }
        ]
    }
    summary = f"shown {sum(shown.values())} · consumed {sum(consumed.values())}"
    return entity(str(item), summary, blocks, series=series)


def paper_view(events: list[dict[str, Any]], limit: int, seed: int) -> dict[str, Any] | None:
    """Each paper's judgement (keyphrase, retrieved references, score) and its post."""
    grouped = group_by(events, "paper")
    if not grouped:
        return None
    keys, note = sample_keys(list(grouped), limit, seed)
    entities = []
    for key in keys:
        blocks = {r: [_paper_block(e) for e in es] for r, es in grouped[key].items()}
        judged = [e for es in grouped[key].values() for e in es if e.get("kind") == "paper_judged"]
        summary = f"score {judged[-1].get('score')}" if judged else ""
        entities.append(entity(key, summary, blocks))
    return {"title": "Papers", "note": note, "total": len(grouped), "entities": entities}


def _paper_block(event: dict) -> dict[str, Any]:
    if event.get("kind") == "paper_judged":
        block = kv_block("judgement", event, skip=("llm",))
        reply = (event.get("llm") or {}).get("reply")
        if reply:
            block["kv"].append(["judge's reply", short(reply)])
        return block
    return kv_block(str(event.get("kind", "event")), event)


def paper_ranking(events: list[dict[str, Any]], limit: int) -> dict[str, Any] | None:
    """The evaluator's ranking: every judged paper by score, best first (top `limit`)."""
    judged = [e for e in events if e.get("kind") == "paper_judged"]
    if not judged:
        return None
    ordered = sorted(judged, key=lambda e: -(e.get("score") or 0.0))
    rows = [
        [
            n + 1,
            e.get("paper"),
            (e.get("round") or 0) + 1,
            e.get("score"),
            short(e.get("keyphrase"), 120),
            len(e.get("references") or []),
        ]
        for n, e in enumerate(ordered[:limit])
    ]
    columns = ["rank", "paper", "day", "score", "keyphrase", "retrieved references"]
    title = f"Ranking by the evaluator's score (top {min(limit, len(ordered))} of {len(ordered)})"
    return {"title": title, "columns": columns, "rows": rows}
