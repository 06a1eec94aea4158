"""The slate context of the learned user's weights (linear context logit): a hand-worked
utility, recovery of a known context from choices, and calibration on both kinds of slate
where one w is miscalibrated on both."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.agents.learned_user.context import (
    SlateContext,
    choose_l2,
    context_utilities,
    fit_context_logit,
    mean_log_likelihood,
)
from recagora.item_space.metrics.fidelity import expected_calibration_error


def test_hand_worked_utilities():
    """Two items [1, 0] and [0, 1]: the slate mean is [0.5, 0.5], A (m - c) = [0.25, 0], so
    w(S) = [1.25, 2] and U = [1.25, 2]; clipped to high = [0.2, 1] the mean is [0.2, 0.5],
    w(S) = [1.1, 2]."""
    x = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    w = np.array([1.0, 2.0])
    a = np.array([[0.5, 0.0], [0.0, 0.0]])
    wide = SlateContext(a, np.zeros(2), np.full(2, -9.0), np.full(2, 9.0))
    np.testing.assert_allclose(context_utilities(x, w, wide), [[1.25, 2.0]])
    clipped = SlateContext(a, np.zeros(2), np.full(2, -9.0), np.array([0.2, 1.0]))
    np.testing.assert_allclose(context_utilities(x, w, clipped), [[1.1, 2.0]])
    np.testing.assert_allclose(context_utilities(x, w, None), [[1.0, 2.0]])


def _choices(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 10, 2) sets whose chosen item is column 0: half of the sets "popular" (feature 1
    high for every item), where the true weights are flatter: w(S) = [2, 1] - 1.5 m_1 [1, 0]."""
    popular = rng.random(n) < 0.5
    x = rng.normal(size=(n, 10, 2))
    x[:, :, 1] += np.where(popular, 1.0, -1.0)[:, None]
    u = np.einsum("nkf,nf->nk", x, np.array([2.0, 1.0])[None] - 1.5 * np.outer(x[:, :, 1].mean(1), [1.0, 0.0]))
    pick = (u + rng.gumbel(size=u.shape)).argmax(axis=1)
    rows = np.arange(n)
    x[rows, 0], x[rows, pick] = x[rows, pick].copy(), x[rows, 0].copy()  # the chosen item first
    return x, popular


def _probs(x, w, context) -> np.ndarray:
    u = context_utilities(x, w, context)
    e = np.exp(u - u.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_recovers_a_known_context_and_is_calibrated_on_both_kinds_of_slate():
    rng = np.random.default_rng(0)
    x, _ = _choices(4000, rng)
    w, context = fit_context_logit(x, 1e-4)
    # true w(S) = [2, 1] - 1.5 m_1 [1, 0]: A[0, 1] = -1.5, w at the centre m = c
    assert context.matrix[0, 1] == pytest.approx(-1.5, abs=0.25)
    assert w[0] == pytest.approx(2.0 - 1.5 * context.center[1], abs=0.25)
    plain, _ = fit_context_logit(x, 1e6)  # A forced to 0: one w
    fresh, popular = _choices(4000, rng)
    zero = np.zeros(len(fresh), int)
    for kind in (popular, ~popular):
        fitted_ece = expected_calibration_error(_probs(fresh[kind], w, context), zero[kind])
        plain_ece = expected_calibration_error(_probs(fresh[kind], plain, None), zero[kind])
        assert fitted_ece < 0.03 < 0.05 < plain_ece
    assert mean_log_likelihood(fresh, w, context) > mean_log_likelihood(fresh, plain, None) + 0.02


def test_the_l2_is_chosen_by_cross_validation():
    """A context that exists is kept (small l2); choices with none pick the largest."""
    rng = np.random.default_rng(1)
    x, _ = _choices(2000, rng)
    chosen, scores = choose_l2(x, (1e-4, 1e3), seed=0)
    assert chosen == 1e-4 and scores["0.0001"] > scores["1000.0"]
    flat = rng.normal(size=(300, 10, 2))  # the chosen column is random: no signal at all
    chosen, _ = choose_l2(flat, (1e-4, 1e3), seed=0)
    assert chosen == 1e3


def test_sets_of_one_target_stay_in_one_fold():
    """Pure-noise choices, each set twice: split across the folds, the copies reward fitting
    the noise (the smallest l2 wins); kept together (groups), the largest wins as it should."""
    flat = np.random.default_rng(0).normal(size=(60, 10, 6))
    twice = np.concatenate([flat, flat])
    assert choose_l2(twice, (1e-4, 1e3), seed=0)[0] == 1e-4
    assert choose_l2(twice, (1e-4, 1e3), seed=0, groups=np.tile(np.arange(60), 2))[0] == 1e3
