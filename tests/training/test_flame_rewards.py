"""FLAME's shaped step advantages worked by hand on a 3-line completion."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.item_space.errors import ConfigError
from recagora.training.flame_rewards import (
    list_reward,
    outcome_advantages,
    potentials,
    stepwise_advantages,
)


def _interacting(a: int, b: int) -> bool:
    return {a, b} == {3, 4}


def test_potentials_of_a_three_line_completion_by_hand():
    # M0 = {1, 2}, truth {1, 3}; lines: add 3, an unmatched line, add 4 (which interacts with 3).
    phi = potentials({1, 2}, [3, None, 4], {1, 3}, _interacting, alpha=0.5, beta=0.2)
    expected = [
        1 / 3,                        # J({1,2}) = 1/3
        2 / 3,                        # J({1,2,3}) = 2/3, no interacting pair
        2 / 3 - 0.2 * (1 / 2),        # refusal 1 of 2 lines
        2 / 4 - 0.5 * (1 / 6) - 0.2 * (1 / 3),  # J 2/4; 1 of 6 pairs interacts; refusal 1/3
    ]  # fmt: skip
    assert phi == pytest.approx(expected)
    assert list_reward(phi) == pytest.approx(expected[-1] - expected[0])


def test_shaped_terms_add_up_to_the_outcome_reward():
    group = [
        potentials({1, 2}, [3, None, 4], {1, 3}, _interacting, alpha=0.5),
        potentials({1, 2}, [3], {1, 3}, _interacting, alpha=0.5),
        potentials({1, 2}, [2], {1, 3}, _interacting, op="remove", alpha=0.5),
    ]
    lam = 0.5
    shaped, outcome = stepwise_advantages(group, lam), outcome_advantages(group)
    rewards = np.array([list_reward(p) for p in group])
    norm = (rewards - rewards.mean()) / (rewards.std() + 1e-6)
    for phi, step, flat, base in zip(group, shaped, outcome, norm, strict=True):
        assert len(step) == len(phi) - 1
        assert np.allclose(flat, base)
        # Sum over lines of the shaped part = lam * R (the potential difference telescopes).
        assert (step - base).sum() == pytest.approx(lam * list_reward(phi))


def test_removing_a_wrong_drug_has_a_positive_step():
    phi = potentials({1, 2}, [2], {1}, _interacting, op="remove")
    assert np.diff(phi)[0] == pytest.approx(1.0 - 0.5)


def test_bad_group_and_op_are_config_errors():
    with pytest.raises(ConfigError, match="at least 2"):
        stepwise_advantages([np.array([0.0, 1.0])])
    with pytest.raises(ConfigError, match="op must be"):
        potentials(set(), [1], {1}, _interacting, op="swap")
