"""Ray executors against their local twins (issue 14, deliverable 2).

(a) a sweep of `--runs` small surrogate TriRec runs (seed repeats): one after another in
    this process vs as Ray tasks on a local cluster of `--workers` CPUs (same table);
(b) one sharded episode (`--population` users x `--rounds` rounds, `--shards` shards):
    the local executor (shards one after another here) vs one Ray actor per shard, with
    the same shard layout and re-ranking blocks; the metrics tables must be equal.

Both use the ML-100K item space with the hashing embedder (no MiniLM in every worker).
Wall times on a shared machine depend on its load: the load average is printed.

    .venv/bin/python benchmarks/ray_bench.py --runs 20 --population 100000 --rounds 10
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.executors.ray_runs import connect
from recagora.experiments.runner.config import build_config
from recagora.experiments.runner.runner import start_run
from recagora.experiments.runner.sweep import run_arms


def _space():
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.embedding import HashingEmbedder
    from recagora.item_space.space import ItemSpace

    return ItemSpace.build(
        load_dataset("ml-100k").catalog, embedder=HashingEmbedder(), use_cache=False
    )


def _config(population: int, rounds: int, **execution) -> TrirecConfig:
    fields = {
        "agents": "user=surrogate,item=surrogate",
        "population": population,
        "rounds": rounds,
        "user_fit.max_train_samples": 2000,
        "log_promotions": False,
        "platform.trirec.users_per_step": 256,
        **{f"execution.{key}": value for key, value in execution.items()},
    }
    return build_config(TrirecConfig, fields)


class Clock:
    """Wall and CPU seconds of a block (CPU: this process and its finished children)."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *_):
        self.wall, self.cpu = time.perf_counter() - self.wall, _cpu() - self.cpu


def _cpu() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _import_runner() -> int:
    import recagora.experiments.runner.runner  # noqa: F401  (torch, langgraph, pandas)

    return os.getpid()


def warm_up(workers: int) -> None:
    """Start every Ray worker process and import the runner there (a cold cluster pays
    it once, with the first run of each worker)."""
    import ray

    task = ray.remote(num_cpus=1)(_import_runner)
    ray.get([task.remote() for _ in range(workers)])


def sweep_bench(args, space, out: Path) -> None:
    base = _config(args.sweep_population, args.sweep_rounds)
    arms = {f"seed={s}": [f"seed={s}"] for s in range(args.runs)}
    extras = {"space": space}
    with Clock() as local:
        table_local = run_arms(base, arms, out / "sweep-local", extras=extras).table
    with Clock() as remote:
        table_ray = run_arms(base, arms, out / "sweep-ray", extras=extras, executor="ray").table
    metrics = [c for c in table_local.columns if c != "run"]
    same = table_ray[metrics].equals(table_local[metrics])
    print(
        f"(a) sweep of {args.runs} runs ({args.sweep_population} users x {args.sweep_rounds} rounds)"
    )
    print(f"    sequential: {local.wall:7.1f} s wall, {local.cpu:7.1f} s CPU (this process)")
    print(f"    Ray x{args.workers}:     {remote.wall:7.1f} s wall (tasks' CPU in the workers)")
    print(f"    speed-up {local.wall / remote.wall:.2f}x; same table: {same}")


def shard_bench(args, space, out: Path) -> None:
    timings, tables = {}, {}
    for executor in ("local", "ray"):
        config = _config(args.population, args.rounds, shards=args.shards, executor=executor)
        with Clock() as clock:
            result = start_run(config, runs_dir=out / f"shards-{executor}", extras={"space": space})
        timings[executor] = clock
        tables[executor] = (result.folder.path / "metrics.csv").read_bytes()
    print(
        f"(b) sharded episode: {args.population} users x {args.rounds} rounds, {args.shards} shards"
    )
    for executor, clock in timings.items():
        rate = args.population * args.rounds / clock.wall * 60
        print(
            f"    {executor:5}: {clock.wall:7.1f} s wall, {clock.cpu:7.1f} s CPU here, {rate:,.0f} user-rounds/min"
        )
    print(f"    metrics.csv equal: {tables['local'] == tables['ray']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="Runs in the sweep (0 = skip (a)).")
    parser.add_argument("--sweep-population", type=int, default=300, help="Users per sweep run.")
    parser.add_argument("--sweep-rounds", type=int, default=3, help="Rounds per sweep run.")
    parser.add_argument(
        "--population",
        type=int,
        default=100_000,
        help="Users of the sharded episode (0 = skip (b)).",
    )
    parser.add_argument("--rounds", type=int, default=10, help="Rounds of the sharded episode.")
    parser.add_argument("--shards", type=int, default=2, help="Shards of the episode.")
    parser.add_argument("--workers", type=int, default=2, help="CPUs of the local Ray cluster.")
    parser.add_argument(
        "--out", type=Path, default=Path("/tmp/recagora-ray-bench"), help="Scratch folder."
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    space = _space()
    connect(None, args.workers)
    with Clock() as warm:
        warm_up(args.workers)
    print(
        f"Ray: {args.workers} workers importing recagora took {warm.wall:.1f} s (not counted below)"
    )
    if args.runs:
        sweep_bench(args, space, args.out)
    if args.population:
        shard_bench(args, space, args.out)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
