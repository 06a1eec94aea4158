"""Grounding and the ItemSpace facade: texts/vectors to real items, neighbours, disk cache."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.embedding import HashingEmbedder, MiniLMEmbedder
from recagora.item_space.errors import IndexError_
from recagora.item_space.grounding import ungrounded_rate
from recagora.item_space.space import ItemSpace, index_cache_folder
from recagora.item_space.types import Catalog, Item

TITLES = [
    "Star Wars Battlefront",
    "Star Wars Jedi Fallen Order",
    "Cooking Mama Cook Off",
    "FIFA 17 Soccer",
    "Madden NFL 17 Football",
    "Super Mario Galaxy space adventure",
    "Tetris Puzzle Classic",
    "Portal 2 Puzzle",
]
CATEGORIES = [
    ("Action",),
    ("Action",),
    ("Kids",),
    ("Sports",),
    ("Sports",),
    ("Kids", "Action"),
    ("Puzzle",),
    ("Puzzle",),
]


class CountingEmbedder(HashingEmbedder):
    """A real hashing embedder that counts the texts it embedded."""

    def __init__(self) -> None:
        super().__init__(dim=256)
        self.calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return super().embed(texts)


def toy_catalog() -> Catalog:
    items = [
        Item(id=i, key=f"g{i}", title=t, categories=c)
        for i, (t, c) in enumerate(zip(TITLES, CATEGORIES, strict=True))
    ]
    return Catalog("toy-games", items)


@pytest.fixture
def space(tmp_path, monkeypatch) -> ItemSpace:
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    return ItemSpace.build(toy_catalog(), embedder=HashingEmbedder(dim=256))


def test_build_stores_vectors_in_the_catalog(space):
    assert space.catalog.vectors.shape == (8, 256)
    np.testing.assert_array_equal(space.catalog.vectors, space.index.vectors)
    np.testing.assert_allclose(np.linalg.norm(space.catalog.vectors, axis=1), 1.0, rtol=1e-5)


def test_ground_text_and_vector(space):
    found = space.ground("Portal 2 Puzzle", k=3)
    assert found[0].item.title == "Portal 2 Puzzle" and found[0].score > 0.7  # text adds categories
    assert len(found) == 3 and [g.score for g in found] == sorted(
        (g.score for g in found), reverse=True
    )
    by_vector = space.ground(space.catalog.vectors[3], k=1)
    assert by_vector[0].item.id == 3 and by_vector[0].score == pytest.approx(1.0, abs=1e-5)


def test_ground_batch_matches_single_queries(space):
    queries = ["star wars", "puzzle game", "football"]
    batch = space.ground_batch(queries, k=4)
    for query, grounded in zip(queries, batch, strict=True):
        single = space.ground(query, k=4)
        assert [g.item.id for g in grounded] == [g.item.id for g in single]


def test_min_score_marks_ungrounded(space):
    strict = space.ground("completely unrelated knitting patterns", k=5, min_score=0.5)
    assert strict.ungrounded and list(strict) == [] and strict.best_score < 0.5
    loose = space.ground("Star Wars", k=5, min_score=0.1)
    assert not loose.ungrounded and all(g.score >= 0.1 for g in loose)
    assert ungrounded_rate([strict, loose]) == 0.5


def test_filters_pass_through(space):
    found = space.ground("Star Wars", k=8, filters={"categories": ["Puzzle", "Sports"]})
    assert {g.item.id for g in found} == {3, 4, 6, 7}
    nothing = space.ground("Star Wars", k=3, filters={"allowed_ids": []})
    assert list(nothing) == [] and nothing.ungrounded and nothing.best_score is None


def test_bad_queries_are_one_line_errors(space):
    for bad in ("", "   "):
        with pytest.raises(IndexError_, match="empty"):
            space.ground(bad)
    with pytest.raises(IndexError_, match="256-d"):
        space.ground(np.ones(10, np.float32))
    with pytest.raises(IndexError_, match="no query"):
        space.ground_batch([])


def test_neighbours_exclude_the_given_items(space):
    ranking = space.neighbours([0], k=3)
    assert ranking.items[0] == 1 and 0 not in ranking.items  # the other Star Wars game
    assert space.neighbours([0], k=1, exclude=[]).items[0] == 0


def test_neighbours_batch_agrees_with_single_calls(space):
    histories = [[0], [6, 7], [], [3, 4, 0]]
    batch = space.neighbours_batch(histories, k=3)
    assert batch.shape == (4, 3) and batch.dtype == np.int64
    assert (batch[2] == -1).all()
    vectors = space.catalog.vectors
    for history, row in zip(histories, batch, strict=True):
        if history:
            single = space.neighbours(history, k=3)
            profile = vectors[history].mean(axis=0) / np.linalg.norm(vectors[history].mean(axis=0))
            np.testing.assert_allclose(
                vectors[row] @ profile, single.scores, atol=1e-5
            )  # ties may swap
            assert not set(row) & set(history)
    with pytest.raises(IndexError_, match="outside 0..7"):
        space.neighbours_batch([[8]], k=2)


def test_neighbours_batch_pads_when_history_covers_the_catalog(space):
    row = space.neighbours_batch([list(range(7))], k=3)[0]
    assert row[0] == 7 and (row[1:] == -1).all()


def test_second_build_loads_the_index_from_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    first_embedder, second_embedder = CountingEmbedder(), CountingEmbedder()
    first = ItemSpace.build(toy_catalog(), embedder=first_embedder)
    second = ItemSpace.build(toy_catalog(), embedder=second_embedder)
    assert first_embedder.calls == 8 and second_embedder.calls == 0
    np.testing.assert_array_equal(second.catalog.vectors, first.catalog.vectors)
    folder = index_cache_folder(toy_catalog(), second_embedder, first.index.config)
    assert (folder / "index.faiss").exists() and not list(tmp_path.glob("indexes/*.tmp-*"))
    changed = toy_catalog()
    changed.items[0] = changed.items[0].model_copy(update={"text": "now with a description"})
    assert index_cache_folder(changed, second_embedder, first.index.config) != folder


def test_empty_catalog_gives_an_empty_index_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    space = ItemSpace.build(Catalog("empty", []), embedder=HashingEmbedder(dim=16))
    with pytest.raises(IndexError_, match="the item index is empty"):
        space.ground("anything")


@pytest.mark.slow
def test_known_titles_ground_to_themselves_on_video_games(tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    catalog = load_dataset("video-games").catalog  # ../shared/data/amazon2018-Video_Games
    space = ItemSpace.build(catalog, embedder=MiniLMEmbedder())
    lowered = [t.lower() for t in catalog.titles]
    unique = [
        i for i, t in enumerate(lowered) if lowered.count(t) == 1
    ]  # the uncased model ties duplicates
    probe = [unique[j] for j in np.random.default_rng(0).choice(len(unique), 25, replace=False)]
    grounded = space.ground_batch([catalog[i].title for i in probe], k=3)
    assert [g[0].item.id for g in grounded] == probe
    assert all(g[0].score > 0.99 for g in grounded)
    space_opera = space.ground("a space adventure shooter in the stars", k=10)
    assert any(
        word in g.item.title.lower() for g in space_opera for word in ("star", "space", "galaxy")
    )
