"""ML-100K ratings for PUMA: a seeded user subsample, per-user chronological train/test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recagora.item_space.errors import DatasetError


@dataclass
class RatingData:
    """users: the kept user keys (row i of every prompt table is users[i]).

    train/test: frames with columns user_row, title, rating (floats 1..5).
    """

    users: list[str]
    train: pd.DataFrame
    test: pd.DataFrame

    def variances(self) -> np.ndarray:
        """(n_users,) variance of each user's training ratings (0 for one rating)."""
        var = self.train.groupby("user_row")["rating"].var(ddof=0)
        return var.reindex(range(len(self.users)), fill_value=0.0).to_numpy()


def load_ratings(dataset, n_users: int, max_train: int, max_test: int, test_share: float, rng) -> RatingData:
    """Split each drawn user's ratings by time: the first 1 - test_share train, the rest test.

    Raises:
        DatasetError: the dataset carries no ratings.
    """
    frame = dataset.interactions.frame
    if "rating" not in frame or frame["rating"].isna().all():
        raise DatasetError(f"dataset {dataset.name!r} has no ratings; PUMA predicts ratings (use ml-100k)")
    keys = sorted(frame["user"].unique())
    if 0 < n_users < len(keys):
        keys = sorted(rng.choice(keys, size=n_users, replace=False).tolist())
    row = {key: i for i, key in enumerate(keys)}
    titles = dataset.catalog.titles
    frame = frame[frame["user"].isin(row)].sort_values(["user", "timestamp", "item"], kind="stable")
    train, test = [], []
    for _, group in frame.groupby("user", sort=True):
        cut = int(round(len(group) * (1 - test_share)))
        train.append(group.iloc[:cut].tail(max_train))
        test.append(group.iloc[cut:].head(max_test))
    return RatingData(keys, _table(pd.concat(train), row, titles), _table(pd.concat(test), row, titles))


def _table(frame: pd.DataFrame, row: dict, titles) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_row": frame["user"].map(row).to_numpy(),
            "title": [titles[i] for i in frame["item"]],
            "rating": frame["rating"].astype(float).to_numpy(),
        }
    ).reset_index(drop=True)
