"""Surrogate TriRec episode speed: this tree against a baseline checkout, in one benchmark run.

    git worktree add /work/F-baseline a7feec0      # the code before the scale work
    .venv/bin/python benchmarks/scale_bench.py --baseline /work/F-baseline \\
        [--population 100000] [--rounds 10] [--users-per-step 256] [--repeats 1]

Each measurement is a fresh subprocess importing `recagora` from one tree (a temporary
folder holding a `recagora` link to the tree goes first on PYTHONPATH, ahead of the
editable install), the trees alternating. One episode: agents user=surrogate,
item=surrogate, platform=trirec, a synthetic ML-100K population, re-ranked in blocks of
`--users-per-step` users per exposure snapshot (1 = the paper's strict order), per-user
events off above 10k users, no checkpointer (simulation speed). The promotion embedder
is loaded during setup in both trees (its model load is no part of a round). The episode
graph is the round-granular one where the tree has it. Prints each measurement, the
speed ratio by wall clock and by CPU time (the episode's process time: on a shared,
loaded machine the work done, whatever share of the cores it got), the load average
around each run, and whether the per-round metrics of the
two trees are identical (they must be: the speed work changes no result).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_tree(tree: Path, args: argparse.Namespace) -> dict:
    """One episode in a subprocess importing `recagora` from `tree`."""
    with tempfile.TemporaryDirectory() as shim:
        (Path(shim) / "recagora").symlink_to(tree.resolve())
        env = dict(os.environ, PYTHONPATH=shim)
        command = [sys.executable, __file__, "--worker", *_worker_flags(args)]
        load_before = os.getloadavg()[0]
        done = subprocess.run(
            command, env=env, cwd=shim, capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        raise SystemExit(f"{tree}: worker failed: {done.stderr.strip().splitlines()[-1:]}")
    row = json.loads(done.stdout.strip().splitlines()[-1])
    return {"tree": str(tree), "load_before": load_before, **row}


def _worker_flags(args: argparse.Namespace) -> list[str]:
    return [
        f"--population={args.population}",
        f"--rounds={args.rounds}",
        f"--users-per-step={args.users_per_step}",
    ]


def worker(args: argparse.Namespace) -> None:
    """Prepare and play one episode; print one JSON line."""
    import asyncio

    from recagora.environments import round_graph
    from recagora.environments.scenario import MemorySink, RunServices
    from recagora.environments.trirec.config import TrirecConfig
    from recagora.environments.trirec.graph import build_trirec_graph
    from recagora.environments.trirec.prepare import prepare_trirec
    from recagora.experiments.runner.config import load_config

    events = args.population <= 10_000
    overrides = [
        f"platform.log_slates={events}",
        f"surrogate_user.per_user_events={events}",
        f"platform.trirec.users_per_step={args.users_per_step}",
        f"log_promotions={events}",
    ]
    flags = {
        "population": args.population,
        "rounds": args.rounds,
        "agents": "user=surrogate,item=surrogate,platform=trirec",
    }
    config = load_config(TrirecConfig, None, flags, overrides)
    started = time.perf_counter()
    sink = MemorySink()
    episode = prepare_trirec(config, RunServices(sink=sink))
    embedder = getattr(episode.context.user, "embedder", None)
    if embedder is not None:
        embedder.embed(["load the model before the clock starts"])
    setup_s = time.perf_counter() - started
    graph = build_trirec_graph()
    per_round = getattr(round_graph, "per_round", None)
    app = (per_round(graph) if per_round else graph).compile()
    started, cpu_started = time.perf_counter(), time.process_time()
    asyncio.run(
        app.ainvoke(episode.initial_state, {"recursion_limit": 100_000}, context=episode.context)
    )
    episode_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started  # all threads: the work, whatever the load
    rows = sink.metrics_rows()
    user_rounds = sum(row["active_users"] for row in rows)
    print(
        json.dumps(
            {
                "package": str(Path(round_graph.__file__).resolve().parents[1]),
                "graph": "per_round" if per_round else "per_node",
                "setup_s": round(setup_s, 2),
                "episode_s": round(episode_s, 2),
                "episode_cpu_s": round(cpu_s, 2),
                "user_rounds": user_rounds,
                "user_rounds_per_min": round(user_rounds / episode_s * 60),
                "metrics": rows,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="Checkout of the code to compare against.")
    parser.add_argument("--population", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--users-per-step",
        type=int,
        default=256,
        help="Re-ranking block: users per exposure snapshot (1 = the paper's strict order).",
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.baseline is None:
        parser.error("--baseline is required")
    this_tree = Path(__file__).resolve().parents[1]
    runs: dict[str, list[dict]] = {"baseline": [], "this tree": []}
    for _ in range(args.repeats):
        for label, tree in (("baseline", args.baseline), ("this tree", this_tree)):
            row = run_tree(tree, args)
            runs[label].append(row)
            shown = {k: v for k, v in row.items() if k != "metrics"}
            print(label, json.dumps(shown), f"load_after={os.getloadavg()[0]:.2f}", flush=True)
    for clock in ("episode_s", "episode_cpu_s"):
        median = {k: statistics.median(r[clock] for r in v) for k, v in runs.items()}
        print(
            f"median {clock}: baseline {median['baseline']:.1f}, this tree "
            f"{median['this tree']:.1f}, speed-up {median['baseline'] / median['this tree']:.2f}x"
        )
    same = all(  # compared as JSON text: NaN (no evaluable user) equals NaN there
        json.dumps(a["metrics"]) == json.dumps(b["metrics"])
        for a in runs["baseline"]
        for b in runs["this tree"]
    )
    print(f"per-round metrics identical: {same}")


if __name__ == "__main__":
    main()
