"""Explanation targets for (user, item) pairs when no review text exists (ML-100K).

Templated from the item's metadata (genres, year) and the user's history (the genres
they watch most), the way explainable-recommendation work derives targets from
features when reviews are missing; no LLM teacher (the embedded SmolLM2 would be
slower than training and its text unreliable at 135M).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from recagora.item_space.types import Catalog


def history_genres(catalog: Catalog, history: Sequence[int], top: int = 2) -> list[str]:
    """The `top` genres most frequent in `history` (ties broken by recency, then name)."""
    counts: Counter[str] = Counter()
    last: dict[str, int] = {}
    for position, item in enumerate(history):
        for genre in catalog.items[item].categories:
            counts[genre] += 1
            last[genre] = position
    return sorted(counts, key=lambda g: (-counts[g], -last[g], g))[:top]


def explanation(catalog: Catalog, history: Sequence[int], item: int) -> str:
    """One sentence: why this user (history) would like this item."""
    facts = catalog.items[item]
    genres = [g for g in facts.categories if g != "unknown"] or ["film"]
    kind = " and ".join(g.lower() for g in genres[:2])
    year = facts.attributes.get("release_year") or "an unknown year"
    liked = history_genres(catalog, history)
    shared = [g for g in liked if g in genres]
    if shared:
        return f"You often watch {shared[0].lower()} movies, and this is a {kind} film from {year}."
    usual = liked[0].lower() if liked else "usual"
    return f"A change from your {usual} movies: a {kind} film from {year}."
