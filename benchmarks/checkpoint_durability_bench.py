"""What `durability="sync"` checkpoints cost a run, against LangGraph's default "async".

    .venv/bin/python benchmarks/checkpoint_durability_bench.py [--population 1000] [--rounds 4] [--repeats 2]

Runs the same TriRec episode (surrogate users and items, ML-100K with the hashing
embedder, the runner's real SQLite checkpointer) through `start_run` with each mode,
alternating the modes `--repeats` times in one process, and prints the median wall
time of each and their ratio. "sync" saves a step's checkpoint before the next step
starts, which is what lets a SIGKILL at any instant resume to identical events.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.runner import runner
from recagora.experiments.runner.config import build_config
from recagora.item_space.datasets import load_dataset
from recagora.item_space.embedding import HashingEmbedder
from recagora.item_space.space import ItemSpace

MODES = ("async", "sync")


def _run_once(mode: str, config: TrirecConfig, space) -> float:
    runner.DURABILITY = mode
    with tempfile.TemporaryDirectory() as runs:
        started = time.perf_counter()
        result = runner.start_run(config, runs_dir=runs, extras={"space": space})
        elapsed = time.perf_counter() - started
    assert result.status == "finished"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    config = build_config(
        TrirecConfig,
        {
            "agents": "user=surrogate,item=surrogate",
            "population": args.population,
            "rounds": args.rounds,
            "seed": 0,
        },
    )
    space = ItemSpace.build(
        load_dataset("ml-100k").catalog, embedder=HashingEmbedder(), use_cache=False
    )
    _run_once("async", config, space)  # warm-up: surrogate fit caches, imports
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(args.repeats):
        for mode in MODES:
            times[mode].append(_run_once(mode, config, space))
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    for mode in MODES:
        print(f"{mode:>5}: median {medians[mode]:.2f} s over {args.repeats} runs {times[mode]}")
    print(f"sync / async = {medians['sync'] / medians['async']:.3f}")


if __name__ == "__main__":
    main()
