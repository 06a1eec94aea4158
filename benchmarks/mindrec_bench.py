"""Throughput of MindRec's diffusion beam search: users ranked per second (10 beams).

Ranks the first `--users` test histories of a dataset with a MindRec run folder
(`recagora train mindrec`), or, without `--run`, a freshly initialised model of the
default size over the dataset's semantic IDs (no category phase): the search's work does
not depend on the weights. One torch thread by default, as the trainer uses. Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mindrec_bench.py --dataset games-semids
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mindrec_bench.py --run runs/mindrec --dataset games-semids
"""

from __future__ import annotations

import argparse
import time

import torch

from recagora.item_space.datasets import load_dataset
from recagora.training.mindrec.config import MindRecConfig
from recagora.training.mindrec.items import build_item_codes, semantic_ids
from recagora.training.mindrec.policy import MindRecRecommender
from recagora.training.mindrec.trainer import build_model


def policy_for(args, catalog) -> MindRecRecommender:
    if args.run:
        return MindRecRecommender.load(args.run, catalog)
    config = MindRecConfig(category_phase=False)
    codes = build_item_codes(catalog, semantic_ids(catalog), None)
    return MindRecRecommender(build_model(config, codes), codes, config, name="untrained")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="games-semids")
    parser.add_argument("--run", default="", help="MindRec run folder (default: untrained).")
    parser.add_argument("--users", type=int, default=512)
    parser.add_argument("--beams", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset(args.dataset)
    histories = [s.history for s in dataset.split("auto").test[: args.users]]
    policy = policy_for(args, dataset.catalog)
    policy.rank(histories[: args.batch_size], args.beams, args.batch_size)  # warm-up
    started = time.perf_counter()
    items, _, invalid = policy.rank(histories, args.beams, args.batch_size)
    seconds = time.perf_counter() - started
    full = float((items >= 0).all(axis=1).mean())
    print(
        f"{policy.name} on {args.dataset}: {len(histories)} users, {args.beams} beams, "
        f"batch {args.batch_size}, {args.threads} thread(s): {len(histories) / seconds:.1f} users/s "
        f"({seconds:.2f} s); invalid {invalid}; users with all {args.beams} items found {full:.3f}"
    )


if __name__ == "__main__":
    main()
