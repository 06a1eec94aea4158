"""Paired comparisons of two methods' predictions on the same test ratings.

Ratings of one user are not independent, so the interval resamples users (with their
ratings): RMSE_a - RMSE_b on each resample, a 95% percentile interval
(`scipy.stats.bootstrap`, paired).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import bootstrap


def per_user(predicted: np.ndarray, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(users,) summed squared errors and (users,) rating counts, users in sorted order."""
    errors = pd.DataFrame({"user": frame["user_row"].to_numpy(), "se": (predicted - frame["rating"].to_numpy()) ** 2})
    grouped = errors.groupby("user")["se"]
    return grouped.sum().to_numpy(), grouped.count().to_numpy().astype(float)


def paired_rmse_difference(a: np.ndarray, b: np.ndarray, frame: pd.DataFrame, resamples: int, seed: int) -> dict:
    """RMSE(a) - RMSE(b) on `frame`'s ratings and its 95% interval over users."""
    se_a, n = per_user(a, frame)
    se_b, _ = per_user(b, frame)

    def difference(x, y, counts, axis=-1):
        return np.sqrt(x.sum(axis) / counts.sum(axis)) - np.sqrt(y.sum(axis) / counts.sum(axis))

    result = bootstrap((se_a, se_b, n), difference, paired=True, vectorized=True, n_resamples=resamples,
                       method="percentile", random_state=np.random.default_rng(seed))
    point = float(difference(se_a, se_b, n))
    low, high = (float(v) for v in result.confidence_interval)
    return {"difference": round(point, 4), "ci95": [round(low, 4), round(high, 4)], "users": len(n)}
