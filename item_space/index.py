"""`ItemIndex`: FAISS inner-product search over L2-normalised item vectors.

Exact search (`IndexFlatIP`) for small catalogs; HNSW graphs (Malkov & Yashunin,
"Efficient and robust approximate nearest neighbor search using Hierarchical Navigable
Small World graphs", TPAMI 2018) above a size threshold, both from FAISS (Douze et al.,
"The Faiss library", 2024). Row i of the index is dense catalog id i. Filters (categories,
an allowed id set, excluded ids) become a FAISS IDSelector; very selective filters are
answered exactly over the allowed rows instead, where HNSW would lose recall.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recagora.item_space.errors import ConfigError, IndexError_, did_you_mean
from recagora.item_space.types import Catalog

INDEX_KINDS = ("auto", "flat", "hnsw")
_FORMAT_VERSION = 1


@dataclass
class IndexConfig:
    """How the item index is built and searched."""

    kind: str = field(default="auto", metadata={"help": "'auto' | 'flat' (exact) | 'hnsw'."})
    hnsw_threshold: int = field(
        default=50_000, metadata={"help": "'auto' builds HNSW at or above this many items."}
    )
    hnsw_m: int = field(default=32, metadata={"help": "HNSW graph degree M."})
    ef_construction: int = field(default=80, metadata={"help": "HNSW build beam width."})
    ef_search: int = field(
        default=48, metadata={"help": "HNSW query beam width (raised to k when smaller)."}
    )
    exact_below: int = field(
        default=4096,
        metadata={"help": "A filter allowing at most this many items is searched exactly."},
    )

    def __post_init__(self) -> None:
        if self.kind not in INDEX_KINDS:
            raise ConfigError(
                f"unknown index kind {self.kind!r}: use one of {', '.join(INDEX_KINDS)}"
                + did_you_mean(self.kind, INDEX_KINDS)
            )
        for name in ("hnsw_m", "ef_construction", "ef_search"):
            if getattr(self, name) < 2:
                raise ConfigError(f"index {name} must be at least 2, got {getattr(self, name)}")

    def resolved_kind(self, n_items: int) -> str:
        """'flat' or 'hnsw' for a catalog of `n_items`."""
        if self.kind != "auto":
            return self.kind
        return "hnsw" if n_items >= self.hnsw_threshold else "flat"


@dataclass(frozen=True)
class CatalogIdentity:
    """What an index on disk must match: catalog name, item count and a hash of all titles."""

    name: str
    n_items: int
    titles_sha1: str

    @classmethod
    def of(cls, catalog: Catalog) -> CatalogIdentity:
        digest = hashlib.sha1("\n".join(catalog.titles).encode("utf-8")).hexdigest()
        return cls(name=catalog.name, n_items=len(catalog), titles_sha1=digest)

    def describe(self) -> str:
        return f"{self.name!r} ({self.n_items} items, titles {self.titles_sha1[:10]})"


@dataclass(frozen=True)
class IndexFilter:
    """Which items a search may return (every given condition must hold).

    categories: items carrying at least one of these category labels.
    allowed_ids: only these dense ids. exclude_ids: never these dense ids.
    """

    categories: frozenset[str] | None = None
    allowed_ids: tuple[int, ...] | None = None
    exclude_ids: tuple[int, ...] = ()

    @classmethod
    def parse(cls, spec: IndexFilter | Mapping[str, Any] | None) -> IndexFilter | None:
        """Accept an IndexFilter, a dict with keys categories/allowed_ids/exclude_ids, or None."""
        if spec is None or isinstance(spec, IndexFilter):
            return spec
        known = ("categories", "allowed_ids", "exclude_ids")
        for key in spec:
            if key not in known:
                raise IndexError_(
                    f"unknown filter {key!r}: use {', '.join(known)}" + did_you_mean(key, known)
                )
        categories = spec.get("categories")
        if isinstance(categories, str):  # one label, not its letters
            categories = [categories]
        allowed = spec.get("allowed_ids")
        return cls(
            categories=None if categories is None else frozenset(categories),
            allowed_ids=None if allowed is None else tuple(int(i) for i in allowed),
            exclude_ids=tuple(int(i) for i in spec.get("exclude_ids", ())),
        )


class ItemIndex:
    """Top-k inner-product search over (N, d) unit vectors; row i is dense catalog id i."""

    def __init__(
        self,
        faiss_index: Any,
        vectors: np.ndarray,
        config: IndexConfig,
        categories: Sequence[Iterable[str]] | None = None,
    ) -> None:
        self.faiss_index = faiss_index
        self.vectors = vectors
        self.config = config
        self.kind = "hnsw" if _is_hnsw(faiss_index) else "flat"
        self._category_members = _invert_categories(categories) if categories is not None else None

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        config: IndexConfig | None = None,
        categories: Sequence[Iterable[str]] | None = None,
    ) -> ItemIndex:
        """Index `vectors` (N, d) float32 unit rows; `categories[i]` are item i's labels."""
        import faiss

        config = config or IndexConfig()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise IndexError_(
                f"item vectors must be a 2-D (items, dim) array, got shape {vectors.shape}"
            )
        dim = vectors.shape[1]
        if config.resolved_kind(len(vectors)) == "hnsw":
            index = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = config.ef_construction
            index.hnsw.efSearch = config.ef_search
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return cls(index, vectors, config, categories)

    def __len__(self) -> int:
        return int(self.faiss_index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.faiss_index.d)

    def search(
        self, vectors: np.ndarray, k: int, filters: IndexFilter | Mapping[str, Any] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items for each query row.

        Args:
            vectors: (q, d) float32 queries (a single (d,) query is promoted to (1, d)).
            k: results per query (>= 1).
            filters: an IndexFilter or its dict form; None searches every item.

        Returns:
            ids (q, k) int64 dense ids best first, -1 where fewer than k items qualify;
            scores (q, k) float32 inner products, -inf at the -1 padding.

        Raises:
            IndexError_: empty index, wrong dimension, k < 1, unknown filter or category.
        """
        queries = self._check_queries(vectors, k)
        allowed = self._allowed_mask(IndexFilter.parse(filters))
        if allowed is None:
            scores, ids = self._faiss_search(queries, k, params=self._params(k, None))
        elif int(allowed.sum()) <= self.config.exact_below:
            scores, ids = _exact_subset_search(self.vectors, queries, k, np.flatnonzero(allowed))
        else:
            bitmap = np.packbits(allowed, bitorder="little")  # must outlive the search call
            scores, ids = self._faiss_search(queries, k, params=self._params(k, bitmap))
        return _pad(ids, scores, k)

    def _check_queries(self, vectors: np.ndarray, k: int) -> np.ndarray:
        if len(self) == 0:
            raise IndexError_(
                "the item index is empty: build it from a catalog with at least one item"
            )
        queries = np.asarray(vectors, dtype=np.float32)
        queries = queries[None, :] if queries.ndim == 1 else queries
        if queries.ndim != 2 or queries.shape[1] != self.dim:
            raise IndexError_(
                f"query vectors have shape {tuple(np.shape(vectors))} but the index holds "
                f"{self.dim}-d vectors: embed queries with the embedder that built the index"
            )
        if k < 1:
            raise IndexError_(f"k must be at least 1, got {k}")
        return np.ascontiguousarray(queries)

    def _faiss_search(
        self, queries: np.ndarray, k: int, params: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.faiss_index.search(queries, min(k, len(self)), params=params)

    def _params(self, k: int, bitmap: np.ndarray | None) -> Any:
        import faiss

        selector = (
            faiss.IDSelectorBitmap(len(self), faiss.swig_ptr(bitmap))
            if bitmap is not None
            else None
        )
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(self.config.ef_search, k))
        else:
            params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
            params._keep_alive = (selector, bitmap)  # the C++ side only borrows them
        return params

    def _allowed_mask(self, spec: IndexFilter | None) -> np.ndarray | None:
        """(N,) bool of the items the filter lets through, or None when unfiltered."""
        if spec is None:
            return None
        mask = np.ones(len(self), dtype=bool)
        if spec.categories is not None:
            mask &= self._category_mask(spec.categories)
        if spec.allowed_ids is not None:
            allowed = np.zeros(len(self), dtype=bool)
            allowed[self._valid_ids(spec.allowed_ids)] = True
            mask &= allowed
        mask[self._valid_ids(spec.exclude_ids)] = False
        return mask

    def _category_mask(self, wanted: frozenset[str]) -> np.ndarray:
        if self._category_members is None:
            raise IndexError_(
                "this index has no item categories: build it from a catalog to filter by category"
            )
        mask = np.zeros(len(self), dtype=bool)
        for category in wanted:
            if category not in self._category_members:
                raise IndexError_(
                    f"unknown category {category!r} in filter"
                    + did_you_mean(category, self._category_members)
                )
            mask[self._category_members[category]] = True
        return mask

    def _valid_ids(self, ids: Sequence[int]) -> np.ndarray:
        array = np.asarray(ids, dtype=np.int64).reshape(-1)
        bad = array[(array < 0) | (array >= len(self))]
        if len(bad):
            raise IndexError_(f"filter names item id {int(bad[0])}, outside 0..{len(self) - 1}")
        return array

    def save(self, directory: Path | str, identity: CatalogIdentity) -> None:
        """Write the FAISS index and `meta.json` (config + catalog identity) into `directory`."""
        import faiss

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.faiss_index, str(directory / "index.faiss"))
        meta = {
            "format": _FORMAT_VERSION,
            "config": asdict(self.config),
            "catalog": asdict(identity),
        }
        (directory / "meta.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: Path | str, catalog: Catalog) -> ItemIndex:
        """Read an index saved for `catalog`; its vectors are rebuilt from the index itself.

        Raises:
            IndexError_: missing/unreadable files, or an index saved for another catalog.
        """
        import faiss

        directory = Path(directory)
        meta = _read_meta(directory)
        saved, current = CatalogIdentity(**meta["catalog"]), CatalogIdentity.of(catalog)
        if saved != current:
            raise IndexError_(
                f"the index in {directory} was built for catalog {saved.describe()}, not "
                f"{current.describe()}: rebuild it (ItemSpace.build) or delete that folder"
            )
        index = faiss.read_index(str(directory / "index.faiss"))
        vectors = (
            index.reconstruct_n(0, index.ntotal)
            if index.ntotal
            else np.zeros((0, index.d), np.float32)
        )
        return cls(
            index, vectors, IndexConfig(**meta["config"]), [item.categories for item in catalog]
        )


def _read_meta(directory: Path) -> dict[str, Any]:
    try:
        meta = json.loads((directory / "meta.json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise IndexError_(
            f"no readable saved index in {directory} ({error.__class__.__name__}): save one first"
        ) from error
    if meta.get("format") != _FORMAT_VERSION or not (directory / "index.faiss").exists():
        raise IndexError_(
            f"the index in {directory} is incomplete or of another format: rebuild it"
        )
    return meta


def _is_hnsw(faiss_index: Any) -> bool:
    return hasattr(faiss_index, "hnsw")


def _invert_categories(categories: Sequence[Iterable[str]]) -> dict[str, np.ndarray]:
    members: dict[str, list[int]] = {}
    for item_id, labels in enumerate(categories):
        for label in labels:
            members.setdefault(label, []).append(item_id)
    return {label: np.asarray(ids, dtype=np.int64) for label, ids in members.items()}


def _exact_subset_search(
    vectors: np.ndarray, queries: np.ndarray, k: int, subset: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top-k restricted to `subset` ids; returns FAISS-style (scores, ids)."""
    take = min(k, len(subset))
    if take == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    scores = queries @ vectors[subset].T  # (q, |subset|)
    top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
    top_scores = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-top_scores, axis=1, kind="stable")
    return np.take_along_axis(top_scores, order, axis=1), subset[
        np.take_along_axis(top, order, axis=1)
    ]


def _pad(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """FAISS output to the public contract: (q, k) int64 ids padded with -1, -inf scores there."""
    out_ids = np.full((len(ids), k), -1, dtype=np.int64)
    out_scores = np.full((len(ids), k), -np.inf, dtype=np.float32)
    width = ids.shape[1]
    out_ids[:, :width] = ids
    out_scores[:, :width] = np.where(ids >= 0, scores, -np.inf)
    return out_ids, out_scores
