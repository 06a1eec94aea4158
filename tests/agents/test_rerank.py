"""TriRec's sequential re-ranker against a hand-worked example, and its block approximation."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.agents.rerank import (
    TriRecConfig,
    fairness_gains,
    minmax_remaining,
    participation,
    position_weight,
    rerank,
)
from recagora.agents.roles.base import ExposureState

# One user, three candidates, three popularity groups with training shares 0.2 / 0.3 / 0.5.
P_TRAIN = np.array([0.2, 0.3, 0.5])
SCORES = np.array([[9.0, 6.0, 3.0]])  # the user's favourite is candidate 0
AFFINITY = np.array([[0.3, 0.1, 0.2]])
GROUPS = np.array([[1, 2, 0]])
# Earlier users left exposure c = (1, 2, 1.5), N = 4.5: shares (.222, .444, .333), so group 2
# (share .333 vs .5) has the largest gap and is under-exposed.
START = ExposureState(np.array([1.0, 2.0, 1.5]), 4.5)


def test_position_weight_and_participation_follow_the_paper():
    assert position_weight(0) == pytest.approx(1.0)
    assert position_weight(1) == pytest.approx(0.630930, abs=1e-6)  # 1 / log2(3)
    cfg = TriRecConfig(alpha_min=0.1, alpha_max=0.5, alpha_p=0.1)
    assert participation(0, cfg) == pytest.approx(0.5)
    # a_1 = 0.1 + 0.4 * 0.630930 ** 0.1 = 0.1 + 0.4 * 0.954988
    assert participation(1, cfg) == pytest.approx(0.481995, abs=1e-6)


def test_fairness_gain_only_for_groups_whose_gap_closes():
    # Adding w = 1: shares after (2/5.5, 3/5.5, 2.5/5.5) = (.364, .545, .455):
    # groups 0 and 1 move away from their target (gain 0); group 2's gap .1667 -> .0455.
    gains = fairness_gains(START, P_TRAIN, 1.0)
    # group 2: gap 0.5 - 1.5/4.5 = .166667 before, 0.5 - 2.5/5.5 = .045455 after
    np.testing.assert_allclose(gains, [0.0, 0.0, 0.121212], atol=1e-6)


def test_fairness_lifts_the_under_exposed_item_above_the_favourite_without_the_eiu_gate():
    # lambda_item = 0 (EIU off). Position 0 (w = 1, a_0 = .5):
    #   rel = sigmoid(r - 6) = (.9526, .5, .0474) -> acc = (1, .5, 0)
    #   dDGU = (0, .1212, 0) and dMGU = the same (group 2 has the max gap) -> both (0, 1, 0)
    #   score = .5 acc + .5 (.5 dgu + .5 mgu) = (.5, .75, 0) -> candidate 1 first.
    # Exposure c = (1, 2, 2.5), N = 5.5; max gap is now group 1 (.364 vs .3).
    # Position 1 (w = .6309, a_1 = .482): groups 1 and 0 both drift from target (no gain),
    #   so only accuracy counts: candidate 0 (acc 1) beats candidate 2 (acc 0). Then candidate 2.
    cfg = TriRecConfig(lambda_item=0.0)
    order, after = rerank(SCORES, AFFINITY, GROUPS, START, P_TRAIN, cfg)
    assert order.tolist() == [[1, 0, 2]]
    # c += w at each placed group: group 2 += 1, group 1 += .630930, group 0 += .5
    np.testing.assert_allclose(after.group_weight, [1.5, 2.630930, 2.5], atol=1e-6)
    assert after.total == pytest.approx(4.5 + 1 + 0.630930 + 0.5, abs=1e-6)


def test_the_eiu_term_gates_the_candidate_with_the_lowest_item_utility():
    # lambda_item = 1: ctr = sigmoid(cos) = (.5744, .5250, .5498) -> eiu = (1, 0, .5025).
    # Position 0 scores = (.5 * 1, .75 * 0, 0 * .5025) = (.5, 0, 0): the favourite goes first,
    # the fairness pick (candidate 1, lowest cosine) is gated to 0.
    order, _ = rerank(SCORES, AFFINITY, GROUPS, START, P_TRAIN, TriRecConfig(lambda_item=1.0))
    assert order[0, 0] == 0


def test_minmax_over_remaining_is_zero_for_a_flat_row():
    values = np.array([[2.0, 4.0, 3.0], [1.0, 1.0, 5.0]])
    remaining = np.array([[True, True, True], [True, True, False]])
    np.testing.assert_allclose(minmax_remaining(values, remaining), [[0, 1, 0.5], [0, 0, 0]])


def test_exposure_carries_across_calls_like_one_long_call():
    rng = np.random.default_rng(0)
    scores, affinity = rng.uniform(0, 10, (6, 5)), rng.uniform(-1, 1, (6, 5))
    groups = rng.integers(0, 3, (6, 5))
    cfg = TriRecConfig()
    whole, end = rerank(scores, affinity, groups, ExposureState.empty(3), P_TRAIN, cfg)
    first, middle = rerank(
        scores[:3], affinity[:3], groups[:3], ExposureState.empty(3), P_TRAIN, cfg
    )
    second, end_split = rerank(scores[3:], affinity[3:], groups[3:], middle, P_TRAIN, cfg)
    assert np.concatenate([first, second]).tolist() == whole.tolist()
    np.testing.assert_allclose(end.group_weight, end_split.group_weight)


def test_blocks_of_users_share_one_snapshot_per_position():
    rng = np.random.default_rng(1)
    scores, affinity = rng.uniform(0, 10, (64, 10)), rng.uniform(-1, 1, (64, 10))
    groups = rng.integers(0, 3, (64, 10))
    exact, exact_end = rerank(
        scores, affinity, groups, ExposureState.empty(3), P_TRAIN, TriRecConfig()
    )
    block, block_end = rerank(
        scores, affinity, groups, ExposureState.empty(3), P_TRAIN, TriRecConfig(users_per_step=16)
    )
    assert all(sorted(row) == list(range(10)) for row in block.tolist())  # every row a permutation
    assert block_end.total == pytest.approx(exact_end.total)  # same slots filled, same total weight
    assert (block == exact).mean() > 0.5  # an approximation of the strict order, not another ranker


def test_config_rejects_inverted_alphas():
    with pytest.raises(ValueError, match="alpha_min"):
        TriRecConfig(alpha_min=0.6, alpha_max=0.5)
