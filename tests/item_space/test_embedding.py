"""Embedders: shapes, unit norms, determinism, the disk cache, and real MiniLM semantics."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.item_space.embedding import (
    CachedEmbedder,
    Embedder,
    EmbeddingStore,
    HashingEmbedder,
    MiniLMConfig,
    MiniLMEmbedder,
    cache_dir,
)

TEXTS = ["Star Wars", "a cooking show", "Star Wars: Episode IV", "space adventure in a galaxy"]


class RecordingEmbedder:
    """A real HashingEmbedder that also records which texts reached it."""

    def __init__(self) -> None:
        self.inner = HashingEmbedder(dim=64)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.seen: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.embed(texts)


def test_hashing_embedder_shape_norm_and_determinism():
    embedder = HashingEmbedder(dim=128)
    vectors = embedder.embed(TEXTS)
    assert isinstance(embedder, Embedder)
    assert vectors.shape == (4, 128) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, HashingEmbedder(dim=128).embed(TEXTS))
    assert vectors[0] @ vectors[2] > vectors[0] @ vectors[1]  # shared words -> closer


def test_hashing_embedder_edge_cases():
    embedder = HashingEmbedder(dim=32)
    assert embedder.embed([]).shape == (0, 32)
    assert not embedder.embed(["!!!"]).any()  # no word: zero row, not NaN
    assert HashingEmbedder(dim=32).name != HashingEmbedder(dim=64).name


def test_cache_dir_honours_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"


def test_second_call_is_answered_from_the_cache(tmp_path):
    inner = RecordingEmbedder()
    cached = CachedEmbedder(inner, EmbeddingStore(tmp_path / "e.sqlite"))
    first = cached.embed(TEXTS)
    second = cached.embed(list(reversed(TEXTS)))
    assert sorted(inner.seen) == sorted(TEXTS)  # each text reached the model once
    assert (cached.misses, cached.hits) == (4, 4)
    np.testing.assert_array_equal(second, first[::-1])
    np.testing.assert_array_equal(first, inner.inner.embed(TEXTS))


def test_cache_persists_across_instances_and_is_keyed_by_model(tmp_path):
    path = tmp_path / "e.sqlite"
    CachedEmbedder(RecordingEmbedder(), EmbeddingStore(path)).embed(TEXTS)
    reopened = RecordingEmbedder()
    CachedEmbedder(reopened, EmbeddingStore(path)).embed(TEXTS + ["new text"])
    assert reopened.seen == ["new text"]
    other_model = CachedEmbedder(HashingEmbedder(dim=16), EmbeddingStore(path))
    assert other_model.embed(TEXTS).shape == (4, 16) and other_model.misses == 4


def test_cache_handles_duplicates_and_many_texts(tmp_path):
    texts = [f"item number {i % 700}" for i in range(1500)]  # > one SQL chunk, with repeats
    cached = CachedEmbedder(HashingEmbedder(dim=16), EmbeddingStore(tmp_path / "e.sqlite"))
    np.testing.assert_array_equal(cached.embed(texts), HashingEmbedder(dim=16).embed(texts))
    assert cached.misses == 700


@pytest.mark.slow
def test_minilm_is_semantic_and_cached(tmp_path):
    model = MiniLMEmbedder()
    cached = CachedEmbedder(model, EmbeddingStore(tmp_path / "e.sqlite"))
    star_wars, cooking, space = cached.embed(["Star Wars", "cooking show", "space adventure"])
    assert cached.dim == 384 and star_wars.shape == (384,)
    np.testing.assert_allclose(np.linalg.norm([star_wars, cooking, space], axis=1), 1.0, rtol=1e-5)
    assert space @ star_wars > space @ cooking + 0.1
    again = cached.embed(["space adventure"])
    assert cached.hits == 1
    np.testing.assert_allclose(again[0], space, atol=1e-6)


@pytest.mark.slow
def test_minilm_leaves_the_callers_torch_threads_as_they_were():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        MiniLMEmbedder(MiniLMConfig(num_threads=2)).embed(["Star Wars"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
