"""What resumable runs cost: a checkpointed `start_run` against the same episode in memory.

    .venv/bin/python benchmarks/checkpoint_durability_bench.py [--population 10000] [--rounds 4] [--repeats 1] [--modes memory round node]

Runs the same TriRec episode (surrogate users and items, ML-100K with the hashing
embedder, per-user events on) in one process, the modes alternating `--repeats` times
after a warm-up, and prints the median wall and CPU time of each (setup included; CPU
time = this process's, the work done whatever the machine's load) and its ratio to
"memory":
  - memory: `prepare_trirec` + the round graph compiled WITHOUT a checkpointer, rounds
    kept in a `MemorySink` (no run folder: the simulation alone);
  - round: `start_run` as the CLI runs it (run folder, events.jsonl, SQLite checkpoint
    after every ROUND with durability "sync", metrics tables and plots);
  - node: the same, but one checkpoint after every pipeline NODE (8 a round: how runs
    were checkpointed before `round_graph.per_round`);
  - node-async: "node" with LangGraph's default durability "async".
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from recagora.environments.round_graph import per_round
from recagora.environments.scenario import MemorySink, RunServices
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.graph import build_trirec_graph
from recagora.environments.trirec.prepare import prepare_trirec
from recagora.experiments.runner import runner
from recagora.experiments.runner.config import build_config
from recagora.item_space.datasets import load_dataset
from recagora.item_space.embedding import HashingEmbedder
from recagora.item_space.space import ItemSpace

MODES = ("memory", "round", "node", "node-async")


def _in_memory(config: TrirecConfig, space) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    episode = prepare_trirec(config, RunServices(sink=MemorySink(), extras={"space": space}))
    app = per_round(build_trirec_graph()).compile()
    asyncio.run(
        app.ainvoke(episode.initial_state, {"recursion_limit": 100_000}, context=episode.context)
    )
    return time.perf_counter() - started, time.process_time() - cpu


def _checkpointed(config: TrirecConfig, space, granular, durability: str) -> tuple[float, float]:
    runner.per_round, runner.DURABILITY = granular, durability
    with tempfile.TemporaryDirectory() as runs:
        started, cpu = time.perf_counter(), time.process_time()
        result = runner.start_run(config, runs_dir=runs, extras={"space": space})
        elapsed = time.perf_counter() - started, time.process_time() - cpu
    assert result.status == "finished"
    return elapsed


def run_mode(mode: str, config: TrirecConfig, space) -> tuple[float, float]:
    """(wall s, CPU s of this process) of one run in `mode`."""
    if mode == "memory":
        return _in_memory(config, space)
    if mode == "round":
        return _checkpointed(config, space, per_round, "sync")
    return _checkpointed(config, space, lambda graph: graph, "async" if "async" in mode else "sync")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=["memory", "round", "node"])
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
    _in_memory(build_config(TrirecConfig, {"agents": config.agents, "population": 200}), space)
    times: dict[str, list[tuple[float, float]]] = {mode: [] for mode in args.modes}
    for _ in range(args.repeats):
        for mode in args.modes:
            times[mode].append(run_mode(mode, config, space))
            wall, cpu = times[mode][-1]
            print(f"{mode}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    for clock, name in ((0, "wall"), (1, "CPU")):
        medians = {m: statistics.median(t[clock] for t in v) for m, v in times.items()}
        for mode in args.modes:
            base = medians.get("memory")
            ratio = f" ({medians[mode] / base:.2f}x memory)" if base else ""
            print(f"{mode:>10}: median {medians[mode]:.1f} s {name}{ratio}")


if __name__ == "__main__":
    main()
