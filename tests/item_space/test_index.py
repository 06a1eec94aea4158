"""ItemIndex: exact vs HNSW recall on clustered vectors, filters, padding, save/load, errors."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.item_space.errors import ConfigError, IndexError_
from recagora.item_space.index import CatalogIdentity, IndexConfig, IndexFilter, ItemIndex
from recagora.item_space.types import Catalog, Item

CATEGORIES = ("Action", "Puzzle", "Sports")


def clustered(n: int, dim: int, n_centres: int, rng: np.random.Generator) -> np.ndarray:
    """(n, dim) unit vectors shaped like text embeddings: shared direction + centre + noise."""
    shared = _unit(rng.standard_normal((1, dim)))
    centres = _unit(rng.standard_normal((n_centres, dim)))
    noise = _unit(rng.standard_normal((n, dim)))
    return _unit(
        0.27**0.5 * shared + 0.40**0.5 * centres[rng.integers(0, n_centres, n)] + 0.33**0.5 * noise
    )


def _unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def brute_force(
    vectors: np.ndarray, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> np.ndarray:
    scores = queries @ vectors.T
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def item_categories(n: int) -> list[tuple[str, ...]]:
    return [(CATEGORIES[i % 3],) if i % 5 else (CATEGORIES[i % 3], "Sale") for i in range(n)]


def small_catalog(n: int, name: str = "toy") -> Catalog:
    return Catalog(
        name,
        [
            Item(id=i, key=str(i), title=f"title {i}", categories=item_categories(n)[i])
            for i in range(n)
        ],
    )


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    points = clustered(6200, 64, 300, np.random.default_rng(7))
    return points[:6000], points[6000:]  # queries: held-out draws from the same clusters


def test_auto_picks_flat_below_threshold_and_hnsw_at_it(data):
    vectors, _ = data
    assert ItemIndex.build(vectors[:999], IndexConfig(hnsw_threshold=1000)).kind == "flat"
    assert ItemIndex.build(vectors[:1000], IndexConfig(hnsw_threshold=1000)).kind == "hnsw"
    assert ItemIndex.build(vectors[:10], IndexConfig(kind="hnsw")).kind == "hnsw"


def test_flat_is_exact(data):
    vectors, queries = data
    ids, scores = ItemIndex.build(vectors, IndexConfig(kind="flat")).search(queries, 10)
    assert (
        ids.shape == scores.shape == (200, 10)
        and ids.dtype == np.int64
        and scores.dtype == np.float32
    )
    np.testing.assert_array_equal(ids[:, 0], brute_force(vectors, queries, 1)[:, 0])
    np.testing.assert_allclose(
        scores, np.take_along_axis(queries @ vectors.T, ids, axis=1), rtol=1e-5
    )
    assert np.all(np.diff(scores, axis=1) <= 1e-6)


def test_hnsw_recall_against_flat_on_clustered_data(data):
    vectors, queries = data
    exact, _ = ItemIndex.build(vectors, IndexConfig(kind="flat")).search(queries, 10)
    approx, _ = ItemIndex.build(vectors, IndexConfig(kind="hnsw")).search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= 0.95


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
@pytest.mark.parametrize("exact_below", [0, 10_000])  # FAISS IDSelector path / exact subset path
def test_filters_match_brute_force(data, kind, exact_below):
    vectors, queries = data
    categories = item_categories(len(vectors))
    index = ItemIndex.build(vectors, IndexConfig(kind=kind, exact_below=exact_below), categories)
    spec = IndexFilter(
        categories=frozenset({"Puzzle", "Sale"}), exclude_ids=tuple(range(0, 6000, 7))
    )
    allowed = np.array([bool({"Puzzle", "Sale"} & set(c)) for c in categories])
    allowed[::7] = False
    ids, _ = index.search(queries, 10, spec)
    assert allowed[ids].all()
    expected = brute_force(vectors, queries, 10, allowed)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(ids, expected, strict=True)])
    assert recall >= (1.0 if kind == "flat" else 0.9)


def test_allowed_ids_and_dict_form(data):
    vectors, queries = data
    index = ItemIndex.build(vectors, IndexConfig(kind="hnsw"))
    ids, scores = index.search(queries[:3], 5, {"allowed_ids": [4, 9, 11], "categories": None})
    assert set(ids[0, :3]) == {4, 9, 11} and (ids[:, 3:] == -1).all()
    assert np.isneginf(scores[:, 3:]).all() and np.isfinite(scores[:, :3]).all()


def test_padding_when_k_exceeds_items_or_filter_allows_nothing(data):
    vectors, queries = data
    index = ItemIndex.build(vectors[:4], IndexConfig(kind="flat"))
    ids, scores = index.search(queries[0], 6)
    assert ids.shape == (1, 6) and sorted(ids[0, :4]) == [0, 1, 2, 3] and (ids[0, 4:] == -1).all()
    ids, _ = index.search(queries[:2], 3, IndexFilter(exclude_ids=(0, 1, 2, 3)))
    assert (ids == -1).all()


def test_bad_filters_are_one_line_errors(data):
    vectors, queries = data
    index = ItemIndex.build(vectors[:30], categories=item_categories(30))
    cases = [
        ({"categorys": ["Puzzle"]}, "did you mean 'categories'"),
        ({"categories": ["Puzle"]}, "did you mean 'Puzzle'"),
        ({"exclude_ids": [30]}, "outside 0..29"),
    ]
    one_label, _ = index.search(queries[:1], 30, {"categories": "Puzzle"})  # a str is one label
    assert sorted(one_label[0][one_label[0] >= 0]) == [i for i in range(30) if i % 3 == 1]
    for spec, expected in cases:
        with pytest.raises(IndexError_, match=expected) as caught:
            index.search(queries[:1], 3, spec)
        assert "\n" not in str(caught.value)
    with pytest.raises(IndexError_, match="no item categories"):
        ItemIndex.build(vectors[:30]).search(queries[:1], 3, {"categories": ["Puzzle"]})


def test_empty_index_wrong_dimension_and_bad_k(data):
    vectors, queries = data
    with pytest.raises(IndexError_, match="empty"):
        ItemIndex.build(np.zeros((0, 64), np.float32)).search(queries[:1], 5)
    index = ItemIndex.build(vectors[:50])
    with pytest.raises(IndexError_, match="64-d"):
        index.search(np.ones((2, 32), np.float32), 5)
    with pytest.raises(IndexError_, match="k must be at least 1"):
        index.search(queries[:1], 0)
    with pytest.raises(ConfigError, match="did you mean 'hnsw'"):
        IndexConfig(kind="hsnw")
    with pytest.raises(ConfigError, match="ef_search must be at least 2"):
        IndexConfig(ef_search=0)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_save_load_round_trip(tmp_path, data, kind):
    vectors, queries = data
    catalog = small_catalog(2000)
    index = ItemIndex.build(
        vectors[:2000], IndexConfig(kind=kind), [i.categories for i in catalog.items]
    )
    index.save(tmp_path / "ix", CatalogIdentity.of(catalog))
    loaded = ItemIndex.load(tmp_path / "ix", catalog)
    assert loaded.kind == kind and len(loaded) == 2000
    np.testing.assert_array_equal(loaded.vectors, vectors[:2000])
    spec = {"categories": ["Sports"]}
    for got, want in zip(
        loaded.search(queries, 10, spec), index.search(queries, 10, spec), strict=True
    ):
        np.testing.assert_array_equal(got, want)


def test_load_against_another_catalog_is_a_clear_error(tmp_path, data):
    vectors, _ = data
    catalog = small_catalog(100, name="games")
    ItemIndex.build(vectors[:100]).save(tmp_path / "ix", CatalogIdentity.of(catalog))
    renamed = Catalog(
        "games", [item.model_copy(update={"title": item.title + "!"}) for item in catalog.items]
    )
    for other in (small_catalog(101, name="games"), small_catalog(100, name="cds"), renamed):
        with pytest.raises(IndexError_, match="was built for catalog 'games'") as caught:
            ItemIndex.load(tmp_path / "ix", other)
        assert "\n" not in str(caught.value)
    with pytest.raises(IndexError_, match="no readable saved index"):
        ItemIndex.load(tmp_path / "nothing-here", catalog)
