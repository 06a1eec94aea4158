"""Semantic IDs from any catalog: residual quantisation of the item-space embeddings.

Method: TIGER (Rajput et al., "Recommender Systems with Generative Retrieval", NeurIPS
2023) and LETTER (Wang et al., CIKM 2024) quantise item embeddings into L coarse-to-fine
codes; here the quantiser is FAISS's `faiss.ResidualQuantizer` (Babenko & Lempitsky,
"Additive Quantization", CVPR 2014; trained level by level with k-means and encoded
with beam search), not an RQ-VAE: no training loop, deterministic for a seed, seconds
on a CPU. `ResidualCoarseQuantizer` is the same quantiser wrapped as an IVF coarse
index (for search); we need the codes themselves, so the plain quantiser is the fit.

Collisions (two items, one code) are resolved in one of two documented ways:
- "reassign" (default; LETTER/UGR's trick in spirit, exact instead of Sinkhorn): within
  each group of items sharing the first L-1 codes, the last-level codes are a
  minimum-cost assignment (scipy's `linear_sum_assignment`, cost = squared distance of
  the item's level-(L-1) residual to each last-level codeword), so every item keeps L
  codes and the total quantisation error grows the least.
- "extra-level" (TIGER): every item gets one more code, its rank among the items sharing
  its L codes (0 for items that collide with nobody), so all codes keep one depth.

Tokens follow games-semids: level i uses letter 'a' + i, e.g. ``<a_240><b_118><c_21><d_18>``.
`build_semantic_ids(vectors, config)` does the maths; `semantic_ids_for(dataset, ...)`
adds the embedding, the on-disk cache and the `<name>.index.json` folder layout.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from recagora.item_space.embedding import Embedder, cache_dir, default_embedder
from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Catalog

COLLISION_MODES = ("reassign", "extra-level")
LEVEL_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class SemanticIdConfig:
    """How semantic IDs are built (every field keys the cache)."""

    levels: int = field(default=4, metadata={"help": "Code levels (before any extra level)."})
    codes: int = field(default=256, metadata={"help": "Codewords per level (a power of 2)."})
    seed: int = field(default=0, metadata={"help": "Seeds FAISS's k-means (deterministic)."})
    collisions: str = field(
        default="reassign",
        metadata={"help": "reassign (last level, min-cost) | extra-level (TIGER)."},
    )
    beam: int = field(default=5, metadata={"help": "Beam width of RQ training and encoding."})

    def check(self, n_items: int) -> None:
        """One-line DatasetError for settings this catalog cannot take."""
        if not 1 <= self.levels <= len(LEVEL_LETTERS) - 1:
            raise DatasetError(f"--levels {self.levels} must be in 1..{len(LEVEL_LETTERS) - 1}")
        if self.codes < 2 or self.codes & (self.codes - 1):
            raise DatasetError(f"--codes {self.codes} must be a power of 2 (e.g. 256)")
        if self.codes > n_items:
            raise DatasetError(
                f"--codes {self.codes} exceeds the catalog's {n_items} items "
                "(k-means needs at least one item per codeword; lower --codes)"
            )
        if self.collisions not in COLLISION_MODES:
            raise DatasetError(
                f"unknown --collisions {self.collisions!r}; use one of {', '.join(COLLISION_MODES)}"
            )
        if self.beam < 1:
            raise DatasetError(f"beam {self.beam} must be >= 1")


@dataclass
class SemanticIds:
    """Codes of N items: `codes` (N, depth) int64, coarse first; `stats` as written to JSON."""

    codes: np.ndarray
    stats: dict

    def tokens(self) -> list[list[str]]:
        """Each item's code tokens, e.g. ["<a_240>", "<b_118>", "<c_21>", "<d_18>"]."""
        return [
            [f"<{LEVEL_LETTERS[level]}_{int(code)}>" for level, code in enumerate(row)]
            for row in self.codes
        ]


def _train_quantiser(vectors: np.ndarray, config: SemanticIdConfig):
    import faiss

    quantiser = faiss.ResidualQuantizer(
        vectors.shape[1], config.levels, int(math.log2(config.codes))
    )
    quantiser.cp.seed = config.seed
    # FAISS warns below 39 points per centroid; small catalogs are the point here.
    quantiser.cp.min_points_per_centroid = 1
    quantiser.max_beam_size = config.beam
    # Plain k-means per level: FAISS's default progressive-dimension k-means took 3x as
    # long on Video_Games for no fewer collisions.
    quantiser.train_type = faiss.ResidualQuantizer.Train_default
    quantiser.train(vectors)
    return quantiser


def _codebooks(quantiser, levels: int, codes: int, dim: int) -> np.ndarray:
    """(levels, codes, dim) float32 codewords."""
    import faiss

    return faiss.vector_to_array(quantiser.codebooks).reshape(levels, codes, dim)


def _unpack(quantiser, packed: np.ndarray, levels: int) -> np.ndarray:
    """(N, levels) int64 from FAISS's packed codes (one byte per level at 8 bits)."""
    import faiss

    if quantiser.nbits.at(0) == 8:
        return packed[:, :levels].astype(np.int64)
    out = np.empty((len(packed), levels), dtype=np.int64)
    for row, code in enumerate(packed):
        reader = faiss.BitstringReader(faiss.swig_ptr(code), packed.shape[1])
        out[row] = [reader.read(quantiser.nbits.at(level)) for level in range(levels)]
    return out


def quantise(vectors: np.ndarray, config: SemanticIdConfig) -> tuple[np.ndarray, np.ndarray]:
    """(codes (N, L) int64, codebooks (L, K, d) float32) of the residual quantiser."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    threads = faiss.omp_get_max_threads()
    # One OpenMP thread: on a shared CPU, FAISS's spinning threads made training 5-10x
    # slower (measured under load), and one thread keeps the sums in a fixed order.
    faiss.omp_set_num_threads(1)
    try:
        quantiser = _train_quantiser(vectors, config)
        codes = _unpack(quantiser, quantiser.compute_codes(vectors), config.levels)
    finally:
        faiss.omp_set_num_threads(threads)
    return codes, _codebooks(quantiser, config.levels, config.codes, vectors.shape[1])


def _groups(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group id per row, size of each group) of identical rows of an (N, k) int array."""
    _, inverse, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    return inverse.reshape(-1), counts


def collision_stats(codes: np.ndarray) -> dict:
    """Items sharing a full code: colliding items, groups, largest group."""
    inverse, counts = _groups(codes)
    shared = counts > 1
    return {
        "colliding_items": int(counts[shared].sum()),
        "colliding_groups": int(shared.sum()),
        "largest_group": int(counts.max()) if len(counts) else 0,
    }


def _reassign_last_level(
    codes: np.ndarray, vectors: np.ndarray, codebooks: np.ndarray
) -> np.ndarray:
    """Distinct last codes within each shared (L-1)-prefix, by min-cost assignment."""
    from scipy.optimize import linear_sum_assignment

    codes = codes.copy()
    prefix = codes[:, :-1]
    residual = vectors - sum(codebooks[level][prefix[:, level]] for level in range(prefix.shape[1]))
    group_of, _ = _groups(prefix) if prefix.shape[1] else (np.zeros(len(codes), int), None)
    full_of, full_counts = _groups(codes)
    for group in np.unique(group_of[full_counts[full_of] > 1]):
        members = np.flatnonzero(group_of == group)
        if len(members) > codebooks.shape[1]:
            raise DatasetError(
                f"{len(members)} items share the first {prefix.shape[1]} codes, more than "
                f"{codebooks.shape[1]} last-level codes; use --collisions extra-level or more --codes"
            )
        cost = ((residual[members, None, :] - codebooks[-1][None, :, :]) ** 2).sum(axis=2)
        rows, columns = linear_sum_assignment(cost)
        codes[members[rows], -1] = columns
    return codes


def _extra_level(codes: np.ndarray) -> np.ndarray:
    """Append each item's rank among the items sharing its code (TIGER's extra token)."""
    inverse, _ = _groups(codes)
    rank = np.zeros(len(codes), dtype=np.int64)
    seen: dict[int, int] = {}
    for row, group in enumerate(inverse):
        rank[row] = seen.get(group, 0)
        seen[group] = rank[row] + 1
    return np.concatenate([codes, rank[:, None]], axis=1)


def usage_stats(codes: np.ndarray, codes_per_level: int) -> list[dict]:
    """Per level: codes used, entropy (bits) of the code distribution and its perplexity."""
    out = []
    for level in range(codes.shape[1]):
        counts = np.bincount(codes[:, level])
        share = counts[counts > 0] / len(codes)
        entropy = float(-(share * np.log2(share)).sum())
        out.append(
            {
                "level": LEVEL_LETTERS[level],
                "used_codes": int((counts > 0).sum()),
                "codes": max(codes_per_level, len(counts)),
                "entropy_bits": round(entropy, 4),
                "perplexity": round(2.0**entropy, 2),
            }
        )
    return out


def _reconstruction_error(vectors: np.ndarray, codes: np.ndarray, codebooks: np.ndarray) -> float:
    """Mean squared error of the quantised vectors (first L levels), relative to E|x|^2."""
    decoded = sum(codebooks[level][codes[:, level]] for level in range(codebooks.shape[0]))
    return float(((vectors - decoded) ** 2).sum() / max((vectors**2).sum(), 1e-12))


def build_semantic_ids(vectors: np.ndarray, config: SemanticIdConfig) -> SemanticIds:
    """Collision-free semantic IDs of N items from their (N, d) embeddings.

    Returns codes (N, levels) int64 ("reassign") or (N, levels + 1) ("extra-level").
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) < 2:
        raise DatasetError(f"need (N, d) item vectors with N >= 2, got shape {vectors.shape}")
    config.check(len(vectors))
    started = time.perf_counter()
    raw, codebooks = quantise(vectors, config)
    before = collision_stats(raw)
    if config.collisions == "reassign":
        codes = _reassign_last_level(raw, vectors, codebooks)
    else:
        codes = _extra_level(raw)
    stats = {
        "items": len(vectors),
        "config": asdict(config),
        "depth": int(codes.shape[1]),
        "collisions_before": before,
        "collisions_after": collision_stats(codes),
        "moved_items": int((codes[:, : raw.shape[1]] != raw).any(axis=1).sum()),
        "relative_error": round(_reconstruction_error(vectors, codes, codebooks), 5),
        "levels": usage_stats(codes, config.codes),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return SemanticIds(codes=codes, stats=stats)


def cache_key(catalog_texts: list[str], keys: list[str], embedder: str, config) -> str:
    """Hash of the item keys and embedded texts, the embedder's name and the config."""
    digest = hashlib.sha256(json.dumps([embedder, asdict(config)], sort_keys=True).encode())
    for key, text in zip(keys, catalog_texts, strict=True):
        digest.update(f"{key}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def _cache_file(catalog: Catalog, embedder_name: str, config: SemanticIdConfig) -> Path:
    texts = [item.embedding_text() for item in catalog.items]
    key = cache_key(texts, [item.key for item in catalog.items], embedder_name, config)
    slug = re.sub(r"[^A-Za-z0-9_.]+", "_", catalog.name).strip("_")[:60] or "catalog"
    return cache_dir() / "semantic_ids" / f"{slug}-{key}.json"


def _read_cached(path: Path, n_items: int) -> SemanticIds | None:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        codes = np.asarray(payload["codes"], dtype=np.int64)
    except (OSError, ValueError, KeyError):
        return None  # absent or damaged: rebuild
    if codes.ndim != 2 or len(codes) != n_items:
        return None
    return SemanticIds(codes=codes, stats={**payload["stats"], "cached": True})


def _write_cached(path: Path, sids: SemanticIds) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({"codes": sids.codes.tolist(), "stats": sids.stats})
    staging = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    staging.write_text(payload, encoding="utf-8")
    os.replace(staging, path)  # readers never see half a file


def semantic_ids_for(
    catalog: Catalog,
    config: SemanticIdConfig,
    embedder: Embedder | None = None,
    use_cache: bool = True,
) -> SemanticIds:
    """Semantic IDs of a catalog's items (row i = item i), built from the item-space
    embeddings (`Item.embedding_text` through the embedder, default MiniLM) and cached
    under `<cache dir>/semantic_ids/` by catalog texts + embedder + config."""
    config.check(len(catalog))
    embedder = embedder or default_embedder()
    path = _cache_file(catalog, embedder.name, config)
    cached = _read_cached(path, len(catalog)) if use_cache else None
    if cached is not None:
        return cached
    started = time.perf_counter()
    vectors = embedder.embed([item.embedding_text() for item in catalog.items])
    embed_seconds = time.perf_counter() - started
    sids = build_semantic_ids(vectors, config)
    sids.stats.update(embedder=embedder.name, embed_seconds=round(embed_seconds, 3))
    if use_cache:
        _write_cached(path, sids)
    sids.stats["cached"] = False
    return sids
