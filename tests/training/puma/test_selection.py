"""PUMA's selection: bin weights and a whole selection, worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.item_space.errors import ConfigError
from recagora.training.puma.selection import bin_quotas, bin_weights, random_users, select_users


def test_bin_weights_match_the_hand_worked_values():
    # x = -2, -1, 0, 1, 2: exp(-x^2/2) + 0.1 = .235335, .706531, 1.1, .706531, .235335 (sum 2.983732)
    expected = np.array([0.078873, 0.236795, 0.368664, 0.236795, 0.078873])
    assert np.allclose(bin_weights(5), expected, atol=1e-6)
    assert bin_weights(1).tolist() == [1.0]


def test_bin_quotas_floor_and_give_the_remainder_to_the_last_bin():
    assert bin_quotas(10, 5).tolist() == [0, 2, 3, 2, 3]  # floors 0, 2, 3, 2 -> last 10 - 7
    assert bin_quotas(5, 5).tolist() == [0, 1, 1, 1, 2]


def test_selection_of_two_clusters_by_hand():
    """Users 0-9 sit near (0, 0), users 10-19 near (10, 10); variance = position in the cluster.

    Budget 10, at least 5 per cluster: each cluster's quintile bins {0,1} {2,3} {4,5} {6,7} {8,9}
    get quotas 0, 1, 1, 1, 2, so both highest-variance users of each cluster are in, the two
    lowest never, and exactly one of each middle pair.
    """
    rng = np.random.default_rng(0)
    prompts = np.concatenate([rng.normal(0, 0.1, (10, 4)), rng.normal(10, 0.1, (10, 4))])
    variances = np.tile(np.arange(10.0), 2)
    chosen = set(select_users(prompts, variances, 10, rng, clusters=2, bins=5, min_per_cluster=5))
    assert len(chosen) == 10
    assert {8, 9, 18, 19} <= chosen and not chosen & {0, 1, 10, 11}
    for base in (0, 10):
        for pair in ((2, 3), (4, 5), (6, 7)):
            assert len(chosen & {base + pair[0], base + pair[1]}) == 1


def test_second_pass_and_top_up_fill_the_budget_exactly():
    rng = np.random.default_rng(1)
    prompts = rng.normal(size=(60, 3))
    chosen = select_users(prompts, rng.random(60), 25, rng, clusters=3, bins=5, min_per_cluster=2)
    assert len(chosen) == 25 == len(set(chosen))


def test_same_seed_same_selection_and_a_bad_budget_refuses():
    prompts, variances = np.random.default_rng(2).normal(size=(30, 3)), np.arange(30.0)
    pick = [select_users(prompts, variances, 8, np.random.default_rng(5), clusters=3) for _ in range(2)]
    assert pick[0] == pick[1]
    assert len(random_users(30, 8, np.random.default_rng(0))) == 8
    with pytest.raises(ConfigError, match="budget"):
        select_users(prompts, variances, 31, np.random.default_rng(0))
