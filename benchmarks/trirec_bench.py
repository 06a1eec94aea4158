"""TriRec scenario throughput: surrogate mode at 1k/10k/100k users, LLM mode on SmolLM2.

    .venv/bin/python benchmarks/trirec_bench.py surrogate [--users 1000 10000 100000] [--rounds 10] [--users-per-step 256]
    .venv/bin/python benchmarks/trirec_bench.py llm [--users 4] [--rounds 2]

Surrogate mode: agents user=surrogate,item=surrogate (no LLM), synthetic population
resampled from ML-100K (`--population`), re-ranked in blocks of `--users-per-step` users
per exposure snapshot (`platform.trirec.users_per_step`; default 256 here, 1 = the paper's
strict one-user-at-a-time order), the graph compiled WITHOUT a checkpointer
(pure simulation speed); the 1k row is repeated WITH the runner's SQLite checkpointer
(one checkpoint per round) as the baseline for its overhead. `benchmarks/scale_bench.py`
compares this code with an older checkout in one run. A user-step is one active user going through one round.
Per-user events are turned off above 10k users (the sink only counts them).

LLM mode: agents user=surrogate,item=llm on llamacpp:smollm2, wall time and tokens per
user-round, then the same run again (every reply now comes from the response cache).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import torch

from recagora.environments.round_graph import per_round
from recagora.environments.scenario import RunServices
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.graph import build_trirec_graph
from recagora.environments.trirec.prepare import prepare_trirec
from recagora.experiments.runner.config import load_config
from recagora.experiments.runner.runner import start_run

torch.set_num_threads(2)
# Default re-ranking block: users re-ranked against one exposure snapshot (1 = the paper's
# strict order; see agents.rerank). Every README figure of this benchmark ran with 256.
USERS_PER_STEP = 256
# The checkpointed baseline always runs at this size (a 100k-user state is ~300 MB per checkpoint).
BASELINE_USERS = 1000


class CountingSink:
    """Keeps per-round metrics, counts events (a 100k-user log would not fit a benchmark)."""

    def __init__(self) -> None:
        self.events = 0
        self.metrics: dict[int, dict[str, float]] = {}

    def write_round(self, round_index, events, metrics) -> bool:
        self.events += len(events)
        self.metrics[round_index] = metrics
        return True


def surrogate_config(
    users: int, rounds: int, per_user_events: bool, users_per_step: int = USERS_PER_STEP
) -> TrirecConfig:
    overrides = [
        f"platform.log_slates={per_user_events}",
        f"surrogate_user.per_user_events={per_user_events}",
        f"platform.trirec.users_per_step={users_per_step}",
        f"log_promotions={per_user_events}",
    ]
    flags = {
        "population": users,
        "rounds": rounds,
        "agents": "user=surrogate,item=surrogate,platform=trirec",
    }
    return load_config(TrirecConfig, None, flags, overrides)


def bench_surrogate(users: int, rounds: int, users_per_step: int) -> dict[str, float]:
    """Setup and episode wall time of an in-memory (no checkpointer) surrogate episode."""
    config = surrogate_config(users, rounds, users <= 10_000, users_per_step)
    started = time.perf_counter()
    sink = CountingSink()
    episode = prepare_trirec(config, RunServices(sink=sink))
    setup_s = time.perf_counter() - started
    graph = per_round(build_trirec_graph()).compile()  # one graph node per round, as the runner
    started = time.perf_counter()
    asyncio.run(
        graph.ainvoke(episode.initial_state, {"recursion_limit": 10_000}, context=episode.context)
    )
    episode_s = time.perf_counter() - started
    steps = sum(m["active_users"] for m in sink.metrics.values())
    return {
        "users": users,
        "users_per_step": users_per_step,
        "rounds": len(sink.metrics),
        "setup_s": setup_s,
        "episode_s": episode_s,
        "user_steps": steps,
        "steps_per_s": steps / episode_s,
        "events": sink.events,
    }


def bench_checkpointed(users: int, rounds: int, users_per_step: int) -> dict[str, float]:
    """The same episode through the runner: SQLite checkpoints after every node, events.jsonl."""
    config = surrogate_config(users, rounds, True, users_per_step)
    with tempfile.TemporaryDirectory() as runs:
        started = time.perf_counter()
        result = start_run(config, runs_dir=runs)
        total_s = time.perf_counter() - started
        size_mb = Path(result.folder.checkpoint_path).stat().st_size / 1e6
    steps = result.summary["overall"]["active_users"] * result.summary["overall"]["rounds_done"]
    return {
        "users": users,
        "total_s_incl_setup": total_s,
        "user_steps": steps,
        "checkpoint_mb": size_mb,
    }


def bench_llm(users: int, rounds: int, runs_dir: str) -> list[dict[str, float]]:
    """Two identical SmolLM2 runs: cold, then from the response cache."""
    flags = {
        "users": users,
        "rounds": rounds,
        "llm": "llamacpp:smollm2",
        "agents": "user=surrogate,item=llm,platform=trirec",
    }
    rows = []
    for label in ("cold", "cached rerun"):
        config = load_config(TrirecConfig, None, flags)
        started = time.perf_counter()
        result = start_run(config, runs_dir=runs_dir)
        wall = time.perf_counter() - started
        overall = result.summary["overall"]
        user_rounds = overall["active_users"] * overall["rounds_done"]
        tokens = overall.get("prompt_tokens", 0) + overall.get("completion_tokens", 0)
        rows.append(
            {
                "run": label,
                "wall_s": wall,
                "user_rounds": user_rounds,
                "s_per_user_round": wall / user_rounds,
                "tokens_per_user_round": tokens / user_rounds,
                "llm_requests": overall.get("llm_requests", 0),
                "cache_hits": result.summary["llm"].get("cache_hits", 0),
                "folder": result.folder.name,
            }
        )
    return rows


def _print(rows: list[dict]) -> None:
    for row in rows:
        print(
            "  ".join(
                f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()
            ),
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("surrogate", "llm"))
    parser.add_argument("--users", type=int, nargs="+", default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument(
        "--users-per-step",
        type=int,
        default=USERS_PER_STEP,
        help="Re-ranking block: users per exposure snapshot (1 = the paper's strict order).",
    )
    parser.add_argument("--runs-dir", default="bench-out/runs")
    args = parser.parse_args()
    if args.mode == "surrogate":
        rounds = args.rounds or 10
        rows = []
        for n in args.users or (1000, 10_000, 100_000):
            rows.append(bench_surrogate(n, rounds, args.users_per_step))
            _print(rows[-1:])
        baseline = bench_checkpointed(BASELINE_USERS, rounds, args.users_per_step)
        _print([baseline])
        if rows[0]["users"] == BASELINE_USERS:
            in_memory = rows[0]["setup_s"] + rows[0]["episode_s"]
            print(
                f"checkpointed/in-memory time ratio at {BASELINE_USERS} users (incl. setup): {baseline['total_s_incl_setup'] / in_memory:.2f}"
            )
    else:
        _print(bench_llm((args.users or [4])[0], args.rounds or 2, args.runs_dir))


if __name__ == "__main__":
    main()
