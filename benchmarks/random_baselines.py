"""Chance level of a ranking: the expected HR@k, NDCG@k and MRR@k of a random order.

With K candidates, exactly one relevant, in a uniformly random order, the relevant item
sits at each position 1..K with probability 1/K, so

    E[HR@k]   = min(k, K) / K
    E[NDCG@k] = (1/K) * sum_{p=1}^{min(k,K)} 1 / log2(p + 1)
    E[MRR@k]  = (1/K) * sum_{p=1}^{min(k,K)} 1 / p

This script prints the closed form, checks it against seeded random orders scored by
`recagora.item_space.metrics`, and shows how far ONE random order of a small cohort
strays from it (a single draw is not the baseline). Run:

    .venv/bin/python benchmarks/random_baselines.py --candidates 10 --users 16 40
    .venv/bin/python benchmarks/random_baselines.py --candidates 3858 --ks 5 10   # full catalog
"""

from __future__ import annotations

import argparse

import numpy as np

from recagora.item_space.metrics import hit_rate_at_k, mrr_at_k, ndcg_at_k


def expected_hr(k: int, candidates: int) -> float:
    """E[HR@k] of a random order of `candidates` items with one relevant."""
    return min(k, candidates) / candidates


def expected_ndcg(k: int, candidates: int) -> float:
    """E[NDCG@k] of a random order of `candidates` items with one relevant (ideal DCG = 1)."""
    positions = np.arange(1, min(k, candidates) + 1)
    return float((1.0 / np.log2(positions + 1)).sum() / candidates)


def expected_mrr(k: int, candidates: int) -> float:
    """E[MRR@k] (reciprocal rank, 0 below k) of a random order with one relevant."""
    positions = np.arange(1, min(k, candidates) + 1)
    return float((1.0 / positions).sum() / candidates)


def expected_median_rank(candidates: int) -> float:
    """Median 1-based rank of the relevant item under a random order: (K + 1) / 2."""
    return (candidates + 1) / 2


def random_orders(users: int, candidates: int, rng: np.random.Generator) -> np.ndarray:
    """(users, K) int64: each row a random permutation of 0..K-1 (item 0 is the relevant one)."""
    return rng.permuted(np.tile(np.arange(candidates), (users, 1)), axis=1)


def drawn_metric(metric, k: int, users: int, candidates: int, draws: int, seed: int) -> np.ndarray:
    """(draws,) the metric of `draws` seeded random orders of a cohort of `users` users."""
    rng = np.random.default_rng(seed)
    targets = np.zeros(users, np.int64)
    return np.array(
        [metric(random_orders(users, candidates, rng), targets, k) for _ in range(draws)]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10, help="K: items ranked per user.")
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 3, 5, 10], help="Cut-offs k.")
    parser.add_argument(
        "--users", type=int, nargs="*", default=[16], help="Cohort sizes for the one-draw spread."
    )
    parser.add_argument("--draws", type=int, default=2000, help="Seeded random orders per check.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    K = args.candidates
    print(f"K = {K} candidates, one relevant; median rank by chance {expected_median_rank(K):.1f}")
    print("  k   E[HR@k]  E[NDCG@k]  E[MRR@k]   seeded check NDCG@k (10,000 users x draws/10)")
    for k in args.ks:
        check = drawn_metric(ndcg_at_k, k, 10_000, K, max(args.draws // 10, 1), args.seed).mean()
        print(
            f"{k:3d}  {expected_hr(k, K):8.4f}  {expected_ndcg(k, K):9.4f}  {expected_mrr(k, K):8.4f}"
            f"   {check:.4f}"
        )
    for users in args.users:
        for k in args.ks:
            one = drawn_metric(ndcg_at_k, k, users, K, args.draws, args.seed)
            low, high = np.quantile(one, [0.025, 0.975])
            print(
                f"one random order of {users} users: NDCG@{k} mean {one.mean():.4f}, sd {one.std():.4f}, "
                f"95% of draws in [{low:.4f}, {high:.4f}]  "
                f"(HR@{k} sd {drawn_metric(hit_rate_at_k, k, users, K, args.draws, args.seed).std():.4f}, "
                f"MRR@{k} sd {drawn_metric(mrr_at_k, k, users, K, args.draws, args.seed).std():.4f})"
            )


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
