"""Text the LLM roles read: a user's persona from the training history, an item's catalog facts.

TriRec (Gong et al., arXiv 2603.10673) starts every user from "I enjoy {domain} very
much." and lets offline reflection fill it in; we start from what the training history
already says (liked and disliked titles, favourite categories), so the first round is
informed without an offline LLM pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from recagora.agents.prompts import render
from recagora.agents.roles.base import ItemFacts
from recagora.item_space.types import Item

# How prompts name consuming an item, by domain (present, past); anything else: "buy".
CONSUME_VERBS = {
    "movies": ("watch", "watched"),
    "video games": ("play", "played"),
    "cds and vinyl records": ("listen to", "listened to"),
    "music": ("listen to", "listened to"),
    "books": ("read", "read"),
}
LIKED_RATING = 4.0  # ratings at or above: liked (implicit data, NaN, counts as liked)
DISLIKED_RATING = 2.0  # ratings at or below: disliked


def persona_memory(
    facts: ItemFacts,
    items: Sequence[int],
    ratings: Sequence[float] | None = None,
    domain: str = "movies",
    n_liked: int = 10,
    n_disliked: int = 5,
    n_categories: int = 3,
) -> str:
    """A first-person memory: the most recent liked/disliked titles and top categories.

    Args:
        items: the user's TRAINING history, oldest first; ratings: aligned, NaN = implicit.
    """
    ratings = (
        list(ratings)
        if ratings is not None and len(ratings) == len(items)
        else [math.nan] * len(items)
    )
    liked = [i for i, r in zip(items, ratings, strict=True) if math.isnan(r) or r >= LIKED_RATING]
    disliked = [
        i for i, r in zip(items, ratings, strict=True) if not math.isnan(r) and r <= DISLIKED_RATING
    ]
    counts = (
        facts.categories[np.asarray(items, np.int64)].sum(axis=0) if len(items) else np.zeros(0)
    )
    return render(
        "user_persona",
        domain=domain,
        liked=[facts.catalog[i].title for i in liked[-n_liked:]],
        disliked=[facts.catalog[i].title for i in disliked[-n_disliked:]],
        categories=_top_labels(counts, facts.category_labels, n_categories),
    )


def consume_verbs(domain: str) -> tuple[str, str]:
    """("watch", "watched") for movies, ("play", "played") for video games, ...; else "buy"."""
    return CONSUME_VERBS.get(domain.strip().lower(), ("buy", "bought"))


def top_category_indices(counts: np.ndarray, n: int) -> np.ndarray:
    """(m, min(n, C)) int64 the n most frequent categories of each row of counts (m, C),
    most frequent first, ties in label order; -1 where a row has fewer than n non-zero counts."""
    top = np.argsort(-counts, axis=1, kind="stable")[:, :n]
    return np.where(np.take_along_axis(counts, top, axis=1) > 0, top, -1)


def _top_labels(counts: np.ndarray, labels: Sequence[str], n: int) -> list[str]:
    if len(counts) == 0:
        return []
    return [labels[j] for j in top_category_indices(counts[None, :], n)[0].tolist() if j >= 0]


def item_facts_text(item: Item) -> str:
    """The item's catalog facts as one line: title, categories and scalar attributes."""
    parts = [item.title]
    if item.categories:
        parts.append("Categories: " + ", ".join(item.categories))
    for name, value in sorted(item.attributes.items()):
        if name != "url" and isinstance(value, str | int | float) and str(value).strip():
            parts.append(f"{name.replace('_', ' ')}: {value}")
    return ". ".join(parts)


def clip_words(text: str, max_words: int) -> str:
    """The first `max_words` words of `text`."""
    return " ".join(text.split()[:max_words])
