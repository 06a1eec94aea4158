"""Item-space benchmark: embedding throughput, index build time, query speed and recall@10.

Side by side in one process, on the Video_Games and CDs_and_Vinyl catalogs (real MiniLM
title embeddings) and on a synthetic catalog of real-shaped vectors (default 100k items,
384-d), each comparing the auto-chosen `ItemIndex` with exact search (`kind="flat"`).
Queries are held-out vectors (not in the index): held-out items for the real catalogs,
fresh draws from the same mixture for the synthetic one. Target: at 100k items
the auto-chosen index keeps recall@10 >= 0.95 and answers >= 5x faster than exact search.

    .venv/bin/python benchmarks/item_space_bench.py                      # everything
    .venv/bin/python benchmarks/item_space_bench.py --skip-real --ef-sweep 16,32,64
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from recagora.item_space.embedding import CachedEmbedder, EmbeddingStore, MiniLMEmbedder
from recagora.item_space.index import IndexConfig, ItemIndex

K = 10


@dataclass
class Row:
    """One line of the results table."""

    catalog: str
    index: str
    n_items: int
    build_s: float
    batch_qps: float
    single_qps: float
    recall: float
    note: str = ""


def real_shaped_vectors(
    n: int, dim: int, n_centres: int, rng: np.random.Generator
) -> Callable[[int], np.ndarray]:
    """A sampler of unit vectors shaped like MiniLM item embeddings.

    Measured on Video_Games titles: random pairs have cosine 0.27 (a shared direction),
    nearest neighbours 0.82, 10th neighbours 0.63. We mix a shared direction (weight^2
    0.27), one of `n_centres` cluster centres with Zipf-like popularity (0.40) and
    isotropic noise (0.33).
    """
    shared = _unit(rng.standard_normal((1, dim)))
    centres = _unit(rng.standard_normal((n_centres, dim)))
    weights = 1.0 / np.arange(1, n_centres + 1) ** 0.5
    weights /= weights.sum()

    def draw(m: int) -> np.ndarray:
        picked = centres[rng.choice(n_centres, size=m, p=weights)]
        noise = _unit(rng.standard_normal((m, dim)))
        return _unit(0.27**0.5 * shared + 0.40**0.5 * picked + 0.33**0.5 * noise)

    return draw


def _unit(a: np.ndarray) -> np.ndarray:
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def query_rates(
    index: ItemIndex, queries: np.ndarray, n_single: int
) -> tuple[np.ndarray, float, float]:
    """(ids of the batched search, batched queries/s, one-at-a-time queries/s)."""
    (ids, _), batch_s = timed(lambda: index.search(queries, K))
    _, single_s = timed(lambda: [index.search(q, K) for q in queries[:n_single]])
    return ids, len(queries) / batch_s, n_single / single_s


def numpy_top_k(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """(q, K) ids of the exact top-K by one matmul + argpartition: a second exact baseline."""
    scores = np.atleast_2d(queries) @ vectors.T
    top = np.argpartition(-scores, K - 1, axis=1)[:, :K]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)


def numpy_exact(
    name: str, vectors: np.ndarray, queries: np.ndarray, exact_ids: np.ndarray, args
) -> Row:
    """Exact search in plain numpy, so the FAISS flat baseline can be checked for sanity."""
    ids, batch_s = timed(lambda: numpy_top_k(vectors, queries))
    singles = queries[: args.single_queries]
    _, single_s = timed(lambda: [numpy_top_k(vectors, q) for q in singles])
    recall = recall_at_k(ids, exact_ids)
    return Row(
        name,
        "exact (numpy)",
        len(vectors),
        0.0,
        len(queries) / batch_s,
        len(singles) / single_s,
        recall,
    )


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean |found ∩ exact| / K over queries."""
    return float(np.mean([len(set(f) & set(e)) / K for f, e in zip(found, exact, strict=True)]))


def compare(
    name: str, vectors: np.ndarray, queries: np.ndarray, config: IndexConfig, args
) -> list[Row]:
    """Exact vs auto-chosen (and, when auto is flat, forced HNSW) on one catalog."""
    exact_index, exact_build = timed(lambda: ItemIndex.build(vectors, replace(config, kind="flat")))
    exact_ids, exact_batch, exact_single = query_rates(exact_index, queries, args.single_queries)
    rows = [Row(name, "exact (flat)", len(vectors), exact_build, exact_batch, exact_single, 1.0)]
    rows.append(numpy_exact(name, vectors, queries, exact_ids, args))
    auto_kind = config.resolved_kind(len(vectors))
    candidates = (
        [("auto", config)]
        if auto_kind == "hnsw"
        else [("auto", config), ("hnsw (forced)", replace(config, kind="hnsw"))]
    )
    for label, cfg in candidates:
        index, build = timed(lambda cfg=cfg: ItemIndex.build(vectors, cfg))
        for ef in _efs(cfg, index, args):
            index.config.ef_search = ef
            ids, batch, single = query_rates(index, queries, args.single_queries)
            note = f"ef={ef}" if index.kind == "hnsw" else ""
            row_label = f"{label} -> {index.kind}"
            rows.append(
                Row(
                    name,
                    row_label,
                    len(vectors),
                    build,
                    batch,
                    single,
                    recall_at_k(ids, exact_ids),
                    note,
                )
            )
    return rows


def _efs(config: IndexConfig, index: ItemIndex, args) -> list[int]:
    if index.kind != "hnsw":
        return [config.ef_search]
    return sorted({config.ef_search, *args.ef_sweep})


def real_catalog(name: str, args, rng: np.random.Generator) -> list[Row]:
    """Embed a shared-data catalog with MiniLM (cold, then cached), then compare indexes."""
    from recagora.item_space.datasets import load_dataset

    catalog = load_dataset(name).catalog
    texts = [item.embedding_text() for item in catalog.items]
    with tempfile.TemporaryDirectory() as scratch:
        embedder = CachedEmbedder(MiniLMEmbedder(), EmbeddingStore(Path(scratch) / "e.sqlite"))
        embedder.embed(texts[:8])  # model load is not throughput
        vectors, cold_s = timed(lambda: embedder.embed(texts))
        _, warm_s = timed(lambda: embedder.embed(texts))
    print(
        f"{name}: {len(texts)} items; MiniLM {len(texts) / cold_s:,.0f} items/s cold, {len(texts) / warm_s:,.0f} items/s from the cache"
    )
    held_out = rng.permutation(len(vectors))[: min(1000, len(vectors) // 10)]
    keep = np.setdiff1d(np.arange(len(vectors)), held_out)
    return compare(name, vectors[keep], vectors[held_out], index_config(args), args)


def synthetic_catalog(args, rng: np.random.Generator) -> list[Row]:
    draw = real_shaped_vectors(args.synthetic_items, 384, args.centres, rng)
    vectors, queries = draw(args.synthetic_items), draw(args.queries)
    exact = queries @ vectors[:20_000].T
    print(
        f"synthetic: {args.synthetic_items} items, {args.centres} centres; cos random pair {exact.mean():.2f}, 1st/10th neighbour among 20k {np.sort(exact)[:, -1].mean():.2f}/{np.sort(exact)[:, -10].mean():.2f}"
    )
    name = f"synthetic-{args.synthetic_items // 1000}k"
    return compare(name, vectors, queries, index_config(args), args)


def index_config(args: argparse.Namespace) -> IndexConfig:
    """The library's default IndexConfig, with --ef-construction applied when given."""
    config = IndexConfig()
    if args.ef_construction:
        config.ef_construction = args.ef_construction
    return config


def print_table(rows: list[Row]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"ItemIndex: build, query throughput, recall@{K} vs exact (same process); "
        "x exact = speed-up over the faster exact baseline"
    )
    for column in (
        "catalog",
        "index",
        "items",
        "build s",
        "batch q/s",
        "x exact",
        "single q/s",
        "x exact",
        f"recall@{K}",
        "note",
    ):
        table.add_column(
            column, justify="left" if column in ("catalog", "index", "note") else "right"
        )
    for r in rows:
        # speed-ups are against the FASTER of the two exact baselines, column by column
        exact = [e for e in rows if e.catalog == r.catalog and e.index.startswith("exact")]
        base = Row(
            "", "", 0, 0.0, max(e.batch_qps for e in exact), max(e.single_qps for e in exact), 1.0
        )
        table.add_row(
            r.catalog,
            r.index,
            f"{r.n_items:,}",
            f"{r.build_s:.2f}",
            f"{r.batch_qps:,.0f}",
            f"{r.batch_qps / base.batch_qps:.1f}",
            f"{r.single_qps:,.0f}",
            f"{r.single_qps / base.single_qps:.1f}",
            f"{r.recall:.3f}",
            r.note,
        )
    Console(width=160).print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--synthetic-items", type=int, default=100_000, help="Items in the synthetic catalog."
    )
    parser.add_argument(
        "--centres", type=int, default=2000, help="Cluster centres of the synthetic catalog."
    )
    parser.add_argument(
        "--queries", type=int, default=1000, help="Batched queries per synthetic measurement."
    )
    parser.add_argument(
        "--single-queries", type=int, default=200, help="Queries timed one at a time."
    )
    parser.add_argument(
        "--ef-sweep",
        type=lambda s: [int(x) for x in s.split(",") if x],
        default=[],
        help="Extra HNSW efSearch values to report, e.g. 16,32,64.",
    )
    parser.add_argument(
        "--ef-construction",
        type=int,
        default=None,
        help="HNSW build beam width (default: IndexConfig's).",
    )
    parser.add_argument("--threads", type=int, default=2, help="FAISS/torch threads.")
    parser.add_argument("--skip-real", action="store_true", help="Only the synthetic catalog.")
    parser.add_argument(
        "--seed", type=int, default=0, help="Seed of the synthetic data and held-out queries."
    )
    return parser.parse_args()


def main() -> None:
    import faiss

    args = parse_args()
    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    rows: list[Row] = []
    if not args.skip_real:
        for name in ("video-games", "cds-vinyl"):
            rows += real_catalog(name, args, rng)
    rows += synthetic_catalog(args, rng)
    print_table(rows)


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
