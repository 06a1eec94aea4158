"""Grounding: map free text (or a vector) an agent produced onto real catalog items.

Every place where an LLM names an item goes through here (MGFRec's grounding step:
the reasoner's free-text item is replaced by its nearest real items in the embedding
space). A query whose best match scores under `min_score` is *ungrounded*; the share
of ungrounded outputs is a reported metric (`ungrounded_rate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recagora.item_space.embedding import Embedder
from recagora.item_space.errors import IndexError_
from recagora.item_space.index import IndexFilter, ItemIndex
from recagora.item_space.types import Catalog, Item

Query = str | np.ndarray


@dataclass(frozen=True)
class GroundedItem:
    """A real catalog item and its cosine similarity to the query (higher is closer)."""

    item: Item
    score: float


class Grounding(list[GroundedItem]):
    """The grounded items of one query, best first (a plain list), plus the grounding signal.

    best_score: similarity of the closest item before the `min_score` cut (None: no item
    passed the filters). ungrounded: True when nothing scored at least `min_score`.
    """

    def __init__(
        self, items: Iterable[GroundedItem], best_score: float | None, min_score: float | None
    ):
        super().__init__(items)
        self.best_score = best_score
        self.min_score = min_score

    @property
    def ungrounded(self) -> bool:
        if self.best_score is None:
            return True
        return self.min_score is not None and self.best_score < self.min_score


def query_vectors(queries: Sequence[Query] | np.ndarray, embedder: Embedder) -> np.ndarray:
    """(q, d) float32 query vectors: texts are embedded in ONE batch, vectors pass through.

    Raises:
        IndexError_: an empty or blank query text, or no query at all.
    """
    if isinstance(queries, np.ndarray):
        return queries[None, :] if queries.ndim == 1 else queries
    if len(queries) == 0:
        raise IndexError_("no query given: pass at least one text or vector to ground")
    texts = [(row, query) for row, query in enumerate(queries) if isinstance(query, str)]
    for row, text in texts:
        if not text.strip():
            raise IndexError_(f"query {row} is empty: give a title or description to ground")
    vectors: list[np.ndarray | None] = [
        None if isinstance(query, str) else np.asarray(query, dtype=np.float32).reshape(-1)
        for query in queries
    ]
    if texts:
        embedded = embedder.embed([text for _, text in texts])
        for (row, _), vector in zip(texts, embedded, strict=True):
            vectors[row] = vector
    return np.stack(vectors).astype(np.float32, copy=False)


def ground_many(
    catalog: Catalog,
    embedder: Embedder,
    index: ItemIndex,
    queries: Sequence[Query] | np.ndarray,
    k: int = 10,
    filters: IndexFilter | Mapping[str, Any] | None = None,
    min_score: float | None = None,
) -> list[Grounding]:
    """Ground every query (texts batched through the embedder, one index search).

    Args:
        queries: texts and/or (d,) vectors, or a (q, d) array.
        k: items per query. filters: see `IndexFilter`.
        min_score: items scoring below it are dropped; a query left with none is ungrounded.

    Returns:
        One `Grounding` per query, in order.
    """
    ids, scores = index.search(query_vectors(queries, embedder), k, filters)
    return [
        _grounding(catalog, row_ids, row_scores, min_score)
        for row_ids, row_scores in zip(ids, scores, strict=True)
    ]


def _grounding(
    catalog: Catalog, ids: np.ndarray, scores: np.ndarray, min_score: float | None
) -> Grounding:
    found = ids >= 0
    best = float(scores[0]) if found.any() else None
    if min_score is not None:
        found &= scores >= min_score
    items = [
        GroundedItem(catalog[int(i)], float(s))
        for i, s in zip(ids[found], scores[found], strict=True)
    ]
    return Grounding(items, best_score=best, min_score=min_score)


def ungrounded_rate(groundings: Sequence[Grounding]) -> float:
    """Share of queries that found no real item at or above their min_score (0.0 when none)."""
    if not groundings:
        return 0.0
    return sum(g.ungrounded for g in groundings) / len(groundings)
