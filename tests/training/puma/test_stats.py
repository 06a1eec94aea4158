"""Paired RMSE differences: the point value is the plain difference, the interval covers users."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recagora.training.puma.stats import paired_rmse_difference, per_user


def test_per_user_sums_and_counts():
    frame = pd.DataFrame({"user_row": [1, 0, 1], "rating": [3.0, 4.0, 5.0]})
    se, n = per_user(np.array([4.0, 4.0, 3.0]), frame)
    assert se.tolist() == [0.0, 5.0] and n.tolist() == [1.0, 2.0]


def test_a_clearly_worse_method_has_an_interval_above_zero_and_a_tie_straddles_it():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user_row": np.repeat(np.arange(80), 5), "rating": np.full(400, 3.0)})
    good = 3.0 + rng.normal(0, 0.5, 400)
    bad = 3.0 + rng.normal(0, 1.0, 400)
    worse = paired_rmse_difference(bad, good, frame, 500, 0)
    assert worse["ci95"][0] > 0 and worse["users"] == 80
    rmse = lambda p: np.sqrt(np.mean((p - 3.0) ** 2))  # noqa: E731
    assert abs(worse["difference"] - (rmse(bad) - rmse(good))) < 1e-4
    tie = paired_rmse_difference(good, good[::-1].copy(), frame, 500, 0)
    assert tie["ci95"][0] < 0 < tie["ci95"][1]
