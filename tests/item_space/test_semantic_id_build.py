"""Semantic IDs by residual quantisation: collision-free, deterministic, cached; real
Video_Games titles through the hashing embedder (fast, torch-free)."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.item_space import semantic_id_build as build
from recagora.item_space.datasets import load_dataset
from recagora.item_space.embedding import HashingEmbedder
from recagora.item_space.errors import DatasetError
from recagora.item_space.semantic_id_build import (
    SemanticIdConfig,
    build_semantic_ids,
    semantic_ids_for,
)

SMALL = SemanticIdConfig(levels=3, codes=128, seed=0)  # 2,097,152 codes for 3,858 items


@pytest.fixture(scope="module")
def games():
    return load_dataset("video-games")


@pytest.fixture(scope="module")
def vectors(games):
    return HashingEmbedder().embed([item.embedding_text() for item in games.catalog.items])


@pytest.fixture(scope="module")
def small(vectors):
    return build_semantic_ids(vectors, SMALL)


def test_codes_are_collision_free_after_real_collisions(small, vectors):
    assert small.codes.shape == (len(vectors), 3)
    assert len(np.unique(small.codes, axis=0)) == len(vectors)
    assert small.stats["collisions_before"]["colliding_items"] > 0  # there was work to do
    assert small.stats["collisions_after"] == {
        "colliding_items": 0,
        "colliding_groups": 0,
        "largest_group": 1,
    }
    assert 0 < small.stats["moved_items"] <= small.stats["collisions_before"]["colliding_items"]
    assert small.codes.min() >= 0 and small.codes.max() < 128


def test_same_seed_same_codes_other_seed_other_codes(small, vectors):
    again = build_semantic_ids(vectors, SMALL)
    assert np.array_equal(again.codes, small.codes)
    other = build_semantic_ids(vectors, SemanticIdConfig(levels=3, codes=128, seed=1))
    assert not np.array_equal(other.codes, small.codes)


def test_usage_stats_match_the_codes(small):
    for level, usage in enumerate(small.stats["levels"]):
        counts = np.bincount(small.codes[:, level])
        share = counts[counts > 0] / counts.sum()
        assert usage["used_codes"] == (counts > 0).sum()
        assert usage["entropy_bits"] == pytest.approx(-(share * np.log2(share)).sum(), abs=1e-4)
        assert usage["perplexity"] == pytest.approx(2 ** usage["entropy_bits"], rel=1e-3)
    assert small.tokens()[0][0].startswith("<a_") and small.tokens()[0][2].startswith("<c_")


def test_extra_level_keeps_the_quantiser_codes(small, vectors):
    extra = build_semantic_ids(
        vectors, SemanticIdConfig(levels=3, codes=128, seed=0, collisions="extra-level")
    )
    assert extra.codes.shape == (len(vectors), 4) and extra.stats["moved_items"] == 0
    assert len(np.unique(extra.codes, axis=0)) == len(vectors)
    assert extra.codes[:, 3].max() + 1 == small.stats["collisions_before"]["largest_group"]
    assert (extra.codes[:, 3] == 0).sum() == len(np.unique(extra.codes[:, :3], axis=0))


def test_reassignment_is_the_min_cost_assignment_by_hand():
    # Both items quantise to (0, 0); their residuals (0.2, 0) and (0.9, 0) are nearest
    # last-level codewords 0 and 1: the cheaper assignment gives item 1 code 1.
    codebooks = np.array([[[0, 0], [10, 0], [0, 10]], [[0, 0], [1, 0], [0, 1]]], np.float32)
    vectors = np.array([[0.2, 0], [0.9, 0], [10, 0]], np.float32)
    codes = np.array([[0, 0], [0, 0], [1, 0]])
    fixed = build._reassign_last_level(codes, vectors, codebooks)
    assert fixed.tolist() == [[0, 0], [0, 1], [1, 0]]
    crowded = np.array([[0, 0]] * 4 + [[1, 0]])
    with pytest.raises(DatasetError, match="4 items share the first 1 codes, more than 3"):
        build._reassign_last_level(crowded, np.zeros((5, 2), np.float32), codebooks)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (SemanticIdConfig(codes=100), "must be a power of 2"),
        (SemanticIdConfig(codes=8192), "exceeds the catalog's 3858 items"),
        (SemanticIdConfig(levels=0), "--levels 0 must be in"),
        (SemanticIdConfig(collisions="sinkhorn"), "unknown --collisions 'sinkhorn'"),
    ],
)
def test_bad_settings_are_one_line_errors(vectors, config, message):
    with pytest.raises(DatasetError, match=message):
        build_semantic_ids(vectors, config)


def test_catalog_ids_are_cached_by_texts_embedder_and_config(games, tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    first = semantic_ids_for(games.catalog, SMALL, HashingEmbedder())
    assert first.stats["cached"] is False and first.stats["embedder"] == HashingEmbedder().name
    second = semantic_ids_for(games.catalog, SMALL, HashingEmbedder())
    assert second.stats["cached"] is True and np.array_equal(first.codes, second.codes)
    assert len(list((tmp_path / "semantic_ids").glob("*.json"))) == 1
    name = HashingEmbedder().name
    other = SemanticIdConfig(levels=3, codes=128, seed=5)
    assert build._cache_file(games.catalog, name, other) != build._cache_file(
        games.catalog, name, SMALL
    )
    assert build._cache_file(games.catalog, "minilm", SMALL) != build._cache_file(
        games.catalog, name, SMALL
    )


@pytest.mark.parametrize("codes", [16, 256])  # 4 bits (bit-packed) and 8 bits (bytes)
def test_unpacked_codes_decode_like_faiss(codes):
    vectors = np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32)
    config = SemanticIdConfig(levels=3, codes=codes, seed=0)
    quantiser = build._train_quantiser(vectors, config)
    packed = quantiser.compute_codes(vectors)
    unpacked = build._unpack(quantiser, packed, 3)
    books = build._codebooks(quantiser, 3, codes, 16)
    ours = sum(books[level][unpacked[:, level]] for level in range(3))
    assert unpacked.max() < codes and np.allclose(ours, quantiser.decode(packed), atol=1e-5)
