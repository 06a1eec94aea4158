"""Surrogate TriRec rounds at 1k / 10k / 100k users: user-steps per second, per role step.

All three roles without an LLM (surrogate user, template item agent, TriRec platform with
`users_per_step` users re-ranked per exposure snapshot), on ML-100K; cohorts larger than
the dataset's 943 users re-sample its training histories with replacement. Also prints the
choice model's held-out fit against popularity alone. Run:

    .venv/bin/python benchmarks/agents_surrogate_bench.py [--users 1000 10000 100000] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections import defaultdict

import numpy as np


def build(n_users: int, facts, histories: dict, rng: np.random.Generator):
    from recagora.agents.roles.base import build_cohort

    keys = sorted(histories)
    picks = rng.integers(0, len(keys), n_users)
    items = [histories[keys[p]].items for p in picks]
    memories = [""] * n_users  # surrogates read arrays, not memories
    return build_cohort(facts, [f"{keys[p]}#{i}" for i, p in enumerate(picks)], items, memories)


async def episode(cohort, user, item, platform, rounds: int, seed: int) -> dict[str, float]:
    timings: dict[str, float] = defaultdict(float)
    item_state, exposure = item.init_state(), platform.init_exposure()
    steps = 0
    for round_ in range(rounds):
        rng = np.random.default_rng([seed, round_])
        idx = cohort.active_indices()
        steps += len(idx)
        clock = time.perf_counter()
        cands = platform.candidates(cohort, idx, rng)
        clock = _lap(timings, "candidates", clock)
        promos = await item.promote(item_state, cohort, idx, cands)
        clock = _lap(timings, "promote", clock)
        scores = await user.score(cohort, idx, cands, promos)
        clock = _lap(timings, "score", clock)
        ranked = platform.rerank(exposure, cohort, idx, cands, scores)
        exposure = ranked.exposure
        clock = _lap(timings, "rerank", clock)
        response = await user.respond(cohort, idx, ranked.slates, promos.take(ranked.order), rng)
        clock = _lap(timings, "respond", clock)
        cohort, _ = await user.reflect(cohort, idx, ranked.slates, response, rng)
        clock = _lap(timings, "reflect", clock)
        item_state, _ = await item.update_memory(item_state, cohort, idx, cands, promos)
        _lap(timings, "item_memory", clock)
    timings["user_steps"] = steps
    timings["still_active"] = int(cohort.active.sum())
    return dict(timings)


def _lap(timings: dict, name: str, start: float) -> float:
    now = time.perf_counter()
    timings[name] += now - start
    return now


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--users", type=int, nargs="+", default=[1000, 10_000, 100_000], help="Cohort sizes."
    )
    parser.add_argument("--rounds", type=int, default=10, help="Rounds per episode.")
    parser.add_argument(
        "--users-per-step", type=int, default=1024, help="Users re-ranked per exposure snapshot."
    )
    parser.add_argument(
        "--source",
        choices=["exact", "space"],
        default="exact",
        help="Candidates from the cohort's profiles (exact) or ItemSpace.neighbours_batch.",
    )
    parser.add_argument(
        "--embedder",
        choices=["minilm", "hashing"],
        default="minilm",
        help="Item/promotion embedder.",
    )
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")

    import torch

    torch.set_num_threads(2)
    from recagora.agents.rerank import TriRecConfig
    from recagora.agents.roles.base import ItemFacts
    from recagora.agents.roles.item_memory import ItemAgentConfig
    from recagora.agents.roles.item_surrogate import TemplateItemAgent
    from recagora.agents.roles.platform import PlatformConfig, TriRecPlatform
    from recagora.agents.roles.user_surrogate import SurrogateUserAgent, SurrogateUserConfig
    from recagora.agents.surrogate.report import fit_with_report
    from recagora.item_space.datasets.registry import load_dataset
    from recagora.item_space.embedding import HashingEmbedder, default_embedder
    from recagora.item_space.space import ItemSpace

    dataset = load_dataset("ml-100k")
    split = dataset.split("loo")
    embedder = default_embedder() if args.embedder == "minilm" else HashingEmbedder()
    space = ItemSpace.build(dataset.catalog, embedder=embedder)
    facts = ItemFacts.from_catalog(
        dataset.catalog, split.train_interactions.item_counts(len(dataset.catalog))
    )
    start = time.perf_counter()
    model, report = fit_with_report(facts, split)
    print(f"choice model fit + report: {time.perf_counter() - start:.1f} s")
    print(json.dumps(report.to_dict(), indent=1))
    histories = split.train_interactions.histories()
    for n_users in args.users:
        user = SurrogateUserAgent(
            facts, model, space.embedder, SurrogateUserConfig(per_user_events=False)
        )
        item = TemplateItemAgent(facts, ItemAgentConfig(mode="personalized"))
        platform_config = PlatformConfig(
            trirec=TriRecConfig(users_per_step=args.users_per_step), log_slates=False
        )
        platform = TriRecPlatform(facts, space if args.source == "space" else None, platform_config)
        clock = time.perf_counter()
        cohort = build(n_users, facts, histories, np.random.default_rng(0))
        built = time.perf_counter() - clock
        clock, cpu = time.perf_counter(), time.process_time()
        timings = asyncio.run(episode(cohort, user, item, platform, args.rounds, seed=0))
        wall, cpu = time.perf_counter() - clock, time.process_time() - cpu
        steps = timings.pop("user_steps")
        parts = ", ".join(f"{k} {v:.1f}s" for k, v in timings.items() if k != "still_active")
        print(
            f"{n_users:>7} users x {args.rounds} rounds: cohort {built:.1f} s, episode {wall:.1f} s wall "
            f"({cpu:.1f} s CPU), {steps:,} user-steps, {steps / wall:,.0f} user-steps/s wall, "
            f"{steps / cpu:,.0f} per CPU-s, active at end {timings['still_active']:,} | {parts}"
        )


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
