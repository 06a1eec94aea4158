"""LLM roles on the embedded default (SmolLM2-135M via llama.cpp) against the surrogate, on ML-100K.

TriRec's protocol per user: the held-out test item + 9 candidates from the item space,
shuffled. Prints, for the LLM user agent and the surrogate user on the SAME candidates:
NDCG@5 / MRR of the held-out item under the user scores (the stage-1 list) against a
random order's expected value (`random_baselines.py`), the share of
complete score replies, invalid replies, attempts; for the LLM item agent: wall time and
tokens per promotion; and the wall time of a cached rerun. Run:

    .venv/bin/python benchmarks/agents_llm_roles_bench.py [--users 16] [--llm llamacpp:smollm2]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

import numpy as np


def _ranked(candidates: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """(m, K) candidates sorted by score, stable (ties keep the shuffled order)."""
    return np.take_along_axis(candidates, np.argsort(-scores, axis=1, kind="stable"), axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16, help="Test users (the first N by key).")
    parser.add_argument("--llm", default="llamacpp:smollm2", help="LLM spec for the LLM roles.")
    parser.add_argument("--mode", default="personalized", help="Promotion mode of the item agent.")
    parser.add_argument(
        "--score-format", default="list", help="LLM user's score reply: list (paper) | keyed."
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    from random_baselines import expected_mrr, expected_ndcg  # benchmarks/, the script's folder

    from recagora.agents.llm import open_llm
    from recagora.agents.roles.base import ItemFacts, Promotions, build_cohort
    from recagora.agents.roles.item_llm import LLMItemAgent
    from recagora.agents.roles.item_memory import ItemAgentConfig
    from recagora.agents.roles.persona import persona_memory
    from recagora.agents.roles.platform import TriRecPlatform
    from recagora.agents.roles.user_llm import LLMUserAgent, LLMUserConfig
    from recagora.agents.roles.user_surrogate import SurrogateUserAgent
    from recagora.agents.surrogate.choice_model import fit_choice_model
    from recagora.item_space.datasets.registry import load_dataset
    from recagora.item_space.metrics.accuracy import mrr_at_k, ndcg_at_k
    from recagora.item_space.space import ItemSpace

    dataset = load_dataset("ml-100k")
    split = dataset.split("loo")
    space = ItemSpace.build(dataset.catalog)
    facts = ItemFacts.from_catalog(
        dataset.catalog, split.train_interactions.item_counts(len(dataset.catalog))
    )
    tests = sorted(split.test, key=lambda s: s.user)[: args.users]
    histories = split.train_interactions.histories()
    valid_target = {s.user: s.target for s in split.valid}
    # the user's history before the test item = training history + the validation item
    items = [list(histories[s.user].items) + [valid_target[s.user]] for s in tests]
    memories = [persona_memory(facts, h) for h in items]
    cohort = build_cohort(facts, [s.user for s in tests], items, memories)
    idx = cohort.active_indices()
    targets = np.array([s.target for s in tests], np.int64)
    candidates = TriRecPlatform(facts, space).candidates(
        cohort, idx, np.random.default_rng(0), targets=targets
    )

    surrogate = SurrogateUserAgent(
        facts, fit_choice_model(facts, split.train, split.valid), space.embedder
    )
    with tempfile.TemporaryDirectory() as cache, open_llm(args.llm, cache_dir=cache) as llm:
        item = LLMItemAgent(facts, llm, ItemAgentConfig(mode=args.mode))
        clock = time.perf_counter()
        promos = asyncio.run(item.promote(item.init_state(), cohort, idx, candidates))
        promote_s = time.perf_counter() - clock
        user = LLMUserAgent(facts, llm, LLMUserConfig(score_format=args.score_format))
        clock = time.perf_counter()
        llm_scores = asyncio.run(user.score(cohort, idx, candidates, promos))
        score_s = time.perf_counter() - clock
        clock = time.perf_counter()
        asyncio.run(user.score(cohort, idx, candidates, promos))
        rerun_s = time.perf_counter() - clock
        ledger = llm.ledger_summary()
    sur_none = asyncio.run(
        surrogate.score(cohort, idx, candidates, Promotions.empty(candidates.shape))
    )
    sur_promo = asyncio.run(surrogate.score(cohort, idx, candidates, promos))
    ev = promos.events[0] if promos.events else {}
    print(
        f"{len(idx)} users, K = {candidates.shape[1]}, LLM {args.llm}, promotion mode {args.mode}, "
        f"score format {args.score_format}"
    )
    print(
        f"item agent: {promote_s:.1f} s for {ev['requests']} promotions ({promote_s / ev['requests']:.2f} s each), "
        f"{ev['tokens'] / ev['requests']:.0f} tokens each, invalid {ev['invalid_replies']}, clipped {ev['clipped']}"
        if promos.events
        else "item agent: mode none, each item's catalog facts shown, no LLM call"
    )
    attempts = [e["attempts"] for e in llm_scores.events]
    invalid = sum(e["invalid_replies"] for e in llm_scores.events)
    print(
        f"LLM user scoring: {score_s:.1f} s ({score_s / len(idx):.1f} s per user), complete {llm_scores.complete.mean():.0%}, "
        f"mean attempts {np.mean(attempts):.2f}, invalid replies {invalid}; cached rerun {rerun_s:.2f} s"
    )
    print(f"ledger: {ledger}")
    for name, scores in (
        ("LLM user", llm_scores.scores),
        ("surrogate (no ads)", sur_none.scores),
        ("surrogate (reads ads)", sur_promo.scores),
    ):
        ranked = _ranked(candidates, scores)
        print(
            f"{name:>22}: NDCG@5 {ndcg_at_k(ranked, targets, 5):.4f}  MRR {mrr_at_k(ranked, targets, 10):.4f}"
        )
    k = candidates.shape[1]
    print(
        f"{'random order':>22}: NDCG@5 {expected_ndcg(5, k):.4f}  MRR {expected_mrr(10, k):.4f}"
        f"  (expected, closed form; the shuffled order itself, one draw: NDCG@5 "
        f"{ndcg_at_k(candidates, targets, 5):.4f})"
    )
    print("example ad:", promos.texts[0][0])
    print("example reason:", llm_scores.reasons[0])


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
