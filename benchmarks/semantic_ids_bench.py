"""Semantic-ID build time for ~10k real items (issue 13's target: under 1 minute).

The catalog is Video_Games + CDs_and_Vinyl together (3,858 + 5,841 = 9,699 real titles),
embedded with the item space's MiniLM (disk-cached: the first run also embeds), then
quantised into `--levels` x `--codes` semantic IDs with collisions resolved. Prints the
embedding and quantising seconds, collisions before/after and codebook usage. Run:

    .venv/bin/python benchmarks/semantic_ids_bench.py [--levels 4 --codes 256 --seed 0]
"""

from __future__ import annotations

import argparse
import json
import time

from recagora.item_space.datasets import load_dataset
from recagora.item_space.embedding import default_embedder
from recagora.item_space.semantic_id_build import SemanticIdConfig, build_semantic_ids


def _texts() -> list[str]:
    texts = []
    for name in ("video-games", "cds-vinyl"):
        texts += [item.embedding_text() for item in load_dataset(name).catalog.items]
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=4)
    parser.add_argument("--codes", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--collisions", default="reassign")
    args = parser.parse_args()
    texts = _texts()
    started = time.perf_counter()
    vectors = default_embedder().embed(texts)
    embedded = time.perf_counter() - started
    config = SemanticIdConfig(args.levels, args.codes, args.seed, args.collisions)
    sids = build_semantic_ids(vectors, config)
    total = time.perf_counter() - started
    print(
        f"items {len(texts):,}: embed {embedded:.1f} s (MiniLM, disk-cached), "
        f"quantise {sids.stats['seconds']:.1f} s, total {total:.1f} s"
    )
    for key in ("collisions_before", "collisions_after", "moved_items", "relative_error"):
        print(f"{key}: {json.dumps(sids.stats[key])}")
    for level in sids.stats["levels"]:
        print(json.dumps(level))


if __name__ == "__main__":
    main()
