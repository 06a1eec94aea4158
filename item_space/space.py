"""`ItemSpace`: one catalog, its embedder and its FAISS index, shared by every agent.

Build once (`ItemSpace.build`), then ground texts, search vectors, or find the items
near a user's history (the content-based neighbourhood of Lops et al., "Content-based
Recommender Systems", 2011: the mean of the consumed items' vectors as the profile).
The built index is cached on disk per catalog + embedder + index settings, and the
embeddings per model + text, so a second build is a file read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recagora.item_space.embedding import Embedder, cache_dir, default_embedder, l2_normalise
from recagora.item_space.errors import IndexError_
from recagora.item_space.grounding import Grounding, Query, ground_many
from recagora.item_space.index import CatalogIdentity, IndexConfig, IndexFilter, ItemIndex
from recagora.item_space.recommender import Ranking
from recagora.item_space.types import Catalog

Filters = IndexFilter | Mapping[str, Any] | None


@dataclass
class ItemSpace:
    """A catalog with its vectors (also stored in `catalog.vectors`) and their index."""

    catalog: Catalog
    embedder: Embedder
    index: ItemIndex

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        embedder: Embedder | None = None,
        index_kind: str = "auto",
        index_config: IndexConfig | None = None,
        use_cache: bool = True,
    ) -> ItemSpace:
        """Embed every item (`Item.embedding_text`) and index the vectors.

        Args:
            embedder: default MiniLM behind the embedding cache.
            index_kind: 'auto' | 'flat' | 'hnsw' (ignored when `index_config` is given).
            use_cache: read/write the built index under `<cache dir>/indexes/`.
        """
        embedder = embedder or default_embedder()
        config = index_config or IndexConfig(kind=index_kind)
        folder = index_cache_folder(catalog, embedder, config)
        index = _load_cached(folder, catalog) if use_cache else None
        if index is None:
            vectors = embedder.embed([item.embedding_text() for item in catalog.items])
            index = ItemIndex.build(vectors, config, [item.categories for item in catalog.items])
            if use_cache and len(catalog):
                _save_atomically(index, folder, CatalogIdentity.of(catalog))
        catalog.vectors = index.vectors
        return cls(catalog=catalog, embedder=embedder, index=index)

    def ground(
        self, query: Query, k: int = 10, filters: Filters = None, min_score: float | None = None
    ) -> Grounding:
        """Real items closest to a text or a (d,) vector, best first (see `ground_many`)."""
        return ground_many(self.catalog, self.embedder, self.index, [query], k, filters, min_score)[
            0
        ]

    def ground_batch(
        self,
        queries: Sequence[Query] | np.ndarray,
        k: int = 10,
        filters: Filters = None,
        min_score: float | None = None,
    ) -> list[Grounding]:
        """Ground many texts/vectors at once: one embedder batch, one index search."""
        return ground_many(self.catalog, self.embedder, self.index, queries, k, filters, min_score)

    def neighbours(
        self, item_ids: Sequence[int], k: int, exclude: Sequence[int] | None = None
    ) -> Ranking:
        """Top-k items nearest the mean vector of `item_ids`.

        Args:
            exclude: ids never returned; None excludes `item_ids` themselves.

        Returns:
            Ranking of up to k ids (-1 padded) with cosine scores.
        """
        if len(item_ids) == 0:
            raise IndexError_("neighbours of no items: pass at least one item id")
        profile = self._profiles([list(item_ids)])
        excluded = list(item_ids) if exclude is None else list(exclude)
        ids, scores = self.index.search(profile, k, IndexFilter(exclude_ids=tuple(excluded)))
        return Ranking(items=ids[0], scores=scores[0])

    def neighbours_batch(
        self, histories: Sequence[Sequence[int]], k: int, exclude_history: bool = True
    ) -> np.ndarray:
        """Top-k items near each history's mean vector, for many users in one search.

        Args:
            histories: U lists of dense item ids.
            exclude_history: never return an item of the same user's history.

        Returns:
            (U, k) int64 ids, best first; -1 pads rows (an empty history gives a row of -1).
        """
        profiles = self._profiles(histories)  # (U, d)
        longest = max((len(h) for h in histories), default=0) if exclude_history else 0
        ids, _ = self.index.search(profiles, min(k + longest, len(self.index)))
        if exclude_history:
            ids = np.where(_in_own_history(ids, histories, len(self.index)), -1, ids)
        ids[np.array([len(h) == 0 for h in histories], dtype=bool)] = -1
        return _first_valid(ids, k)

    def _profiles(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """(U, d) unit mean vectors of each history (zero rows for empty histories)."""
        import scipy.sparse

        rows, flat = _flatten(histories, len(self.index))
        lengths = np.bincount(rows, minlength=len(histories)).astype(np.float32)
        weights = 1.0 / lengths[rows]
        averaging = scipy.sparse.csr_matrix(
            (weights, (rows, flat)), shape=(len(histories), len(self.index))
        )
        return l2_normalise(averaging @ self.index.vectors)


def index_cache_folder(catalog: Catalog, embedder: Embedder, config: IndexConfig) -> Path:
    """`<cache dir>/indexes/<catalog>-<embedder>-<hash of texts, titles and index settings>`."""
    identity = CatalogIdentity.of(catalog)
    settings = {
        **asdict(config),
        "kind": config.resolved_kind(len(catalog)),
        "identity": asdict(identity),
    }
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True).encode("utf-8"))
    for item in catalog.items:
        digest.update(item.embedding_text().encode("utf-8") + b"\n")
    name = f"{_slug(catalog.name)}-{_slug(embedder.name)}-{digest.hexdigest()[:16]}"
    return cache_dir() / "indexes" / name


def _load_cached(folder: Path, catalog: Catalog) -> ItemIndex | None:
    if not (folder / "meta.json").exists():
        return None
    return ItemIndex.load(folder, catalog)


def _save_atomically(index: ItemIndex, folder: Path, identity: CatalogIdentity) -> None:
    """Write into a temporary sibling, then rename: readers never see half an index."""
    staging = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    index.save(staging, identity)
    try:
        staging.rename(folder)
    except OSError:  # another process saved the same index first: keep theirs
        shutil.rmtree(staging, ignore_errors=True)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "_", name).strip("_")[:60] or "unnamed"


def _flatten(histories: Sequence[Sequence[int]], n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Row index and item id of every history entry, each (total,) int64; ids are checked."""
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    flat = np.fromiter((i for h in histories for i in h), dtype=np.int64, count=int(lengths.sum()))
    bad = flat[(flat < 0) | (flat >= n_items)]
    if len(bad):
        raise IndexError_(f"history names item id {int(bad[0])}, outside 0..{n_items - 1}")
    return np.repeat(np.arange(len(histories)), lengths), flat


def _in_own_history(
    ids: np.ndarray, histories: Sequence[Sequence[int]], n_items: int
) -> np.ndarray:
    """(U, m) bool: ids[u, j] is in histories[u]. Pairs are encoded as u * n_items + id."""
    rows, flat = _flatten(histories, n_items)
    fetched = np.arange(len(ids))[:, None] * n_items + ids
    return np.isin(fetched, rows * n_items + flat) & (ids >= 0)


def _first_valid(ids: np.ndarray, k: int) -> np.ndarray:
    """Per row, the first k ids that are not -1 (order kept), -1 padded; (U, k) int64."""
    valid = ids >= 0
    order = np.argsort(~valid, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(ids, order, axis=1)
    out = np.full((len(ids), k), -1, dtype=np.int64)
    out[:, : picked.shape[1]] = picked
    return out
