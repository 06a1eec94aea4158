"""Throughput of MindRec's diffusion beam search: users ranked per second (10 beams).

Ranks the first `--users` test histories of a dataset with a MindRec run folder
(`recagora train mindrec`), or, without `--run`, a freshly initialised model of the
default size over the dataset's semantic IDs, with the 2-level category phase when
`--category-phase` is given (the tree clusters the training samples for games-semids):
the search's work hardly depends on the weights. One torch thread by default, as the
trainer uses; the 1-minute load average is printed (2 shared cores). Run:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mindrec_bench.py --dataset games-semids
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mindrec_bench.py --category-phase
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/mindrec_bench.py --run runs/mindrec --dataset games-semids
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from recagora.item_space.datasets import load_dataset
from recagora.training.mindrec.config import MindRecConfig
from recagora.training.mindrec.items import item_codes_for
from recagora.training.mindrec.policy import MindRecRecommender
from recagora.training.mindrec.trainer import build_model


def policy_for(args, catalog, train) -> MindRecRecommender:
    if args.run:
        return MindRecRecommender.load(args.run, catalog)
    config = MindRecConfig(category_phase=args.category_phase)
    codes = item_codes_for(catalog, config, train)
    return MindRecRecommender(build_model(config, codes), codes, config, name="untrained")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="games-semids")
    parser.add_argument("--run", default="", help="MindRec run folder (default: untrained).")
    parser.add_argument("--users", type=int, default=512)
    parser.add_argument("--beams", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--category-phase", action="store_true", help="Untrained model: with categories."
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset(args.dataset)
    split = dataset.split("auto")
    histories = [s.history for s in split.test[: args.users]]
    policy = policy_for(args, dataset.catalog, split.train)
    policy.rank(histories[: args.batch_size], args.beams, args.batch_size)  # warm-up
    started, cpu = time.perf_counter(), time.process_time()
    items, _, invalid = policy.rank(histories, args.beams, args.batch_size)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    full = float((items >= 0).all(axis=1).mean())
    print(
        f"{policy.name} on {args.dataset}: {len(histories)} users, {args.beams} beams, "
        f"batch {args.batch_size}, {args.threads} thread(s): {len(histories) / seconds:.1f} users/s "
        f"({seconds:.2f} s wall; {len(histories) / cpu:.1f} per CPU-second); invalid {invalid}; users with all {args.beams} items found {full:.3f}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
