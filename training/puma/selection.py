"""PUMA's group-based user selection: K-means over source prompts x rating-variance bins.

Within a cluster, users fall into quantile bins of rating variance; bin b's share of the
cluster's quota is w_b = (exp(-x_b^2 / 2) + 0.1) / sum, x = linspace(-2, 2, bins), which
favours medium variance (Zhao et al. 2026, Sec. 4.3). A first pass takes
`min_per_cluster` users per cluster, a second splits the rest of the budget by cluster
size, a seeded random top-up fills what rounding left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from recagora.item_space.errors import ConfigError


def bin_weights(n_bins: int) -> np.ndarray:
    """(n_bins,) normalised weights exp(-x^2/2) + 0.1 at x = linspace(-2, 2, n_bins)."""
    if n_bins <= 1:
        return np.ones(max(n_bins, 1))
    x = np.linspace(-2.0, 2.0, n_bins)
    weights = np.exp(-(x**2) / 2) + 0.1
    return weights / weights.sum()


def bin_quotas(n: int, n_bins: int) -> np.ndarray:
    """Users drawn per bin for a quota n: floor(w * n), the last bin takes the remainder."""
    quotas = np.floor(bin_weights(n_bins) * n).astype(int)
    quotas[-1] = n - quotas[:-1].sum()
    return quotas


def select_users(
    prompts: np.ndarray,
    variances: np.ndarray,
    budget: int,
    rng: np.random.Generator,
    *,
    clusters: int = 15,
    bins: int = 5,
    min_per_cluster: int = 50,
) -> list[int]:
    """Row indices of `budget` users chosen by PUMA's rule (the paper's mode 3)."""
    if not 0 < budget <= len(prompts):
        raise ConfigError(f"selection budget {budget} must be in 1..{len(prompts)} users")
    seed = int(rng.integers(2**31))
    labels = KMeans(n_clusters=min(clusters, len(prompts)), random_state=seed, n_init=10).fit_predict(prompts)
    chosen: list[int] = []
    sizes = np.bincount(labels)
    for c in range(len(sizes)):  # first pass: a floor per cluster
        chosen += _draw(np.flatnonzero(labels == c), variances, min(min_per_cluster, sizes[c]), bins, rng)
    left = budget - len(chosen)
    for c in range(len(sizes)):  # second pass: the rest by cluster size
        pool = np.setdiff1d(np.flatnonzero(labels == c), chosen)
        quota = min(int(left * sizes[c] / len(prompts)), len(pool))
        chosen += _draw(pool, variances, quota, bins, rng)
    rest = np.setdiff1d(np.arange(len(prompts)), chosen)
    chosen += rng.choice(rest, size=max(budget - len(chosen), 0), replace=False).tolist()
    return [int(u) for u in chosen[:budget]]


def _draw(pool: np.ndarray, variances: np.ndarray, n: int, bins: int, rng) -> list[int]:
    """n users of `pool`, drawn per variance quantile bin by `bin_quotas`."""
    if n <= 0 or len(pool) == 0:
        return []
    # Quantile bins of the variance's rank: ties (many users share a variance on a few
    # ratings) would leave qcut's edges duplicate, and a pool of equal variances binless.
    ranks = pd.Series(variances[pool]).rank(method="first")
    n_groups = min(bins, len(pool))
    groups = np.asarray(pd.qcut(ranks, q=n_groups, labels=False))
    taken: list[int] = []
    for g, quota in enumerate(bin_quotas(n, n_groups)):
        members = pool[groups == g]
        taken += rng.choice(members, size=min(quota, len(members)), replace=False).tolist()
    return taken


def random_users(n_users: int, budget: int, rng: np.random.Generator) -> list[int]:
    """The baseline: `budget` users uniformly at random."""
    return sorted(rng.choice(n_users, size=budget, replace=False).tolist())
