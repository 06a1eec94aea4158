"""ML-100K ratings for PUMA: a seeded user subsample, per-user chronological train/test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recagora.item_space.errors import DatasetError


@dataclass
class RatingData:
    """users: the kept user keys (row i of every prompt table is users[i]).

    train/test/valid: frames with columns user_row, title, rating (floats 1..5); valid
    (each user's latest training ratings, held out to choose epochs) may be empty.
    """

    users: list[str]
    train: pd.DataFrame
    test: pd.DataFrame
    valid: pd.DataFrame | None = None

    def titles(self) -> list[str]:
        """Every distinct title the run reads, train, valid and test."""
        frames = [f for f in (self.train, self.valid, self.test) if f is not None]
        return sorted(set().union(*(f["title"] for f in frames)))

    def variances(self) -> np.ndarray:
        """(n_users,) variance of each user's training ratings (0 for one rating)."""
        var = self.train.groupby("user_row")["rating"].var(ddof=0)
        return var.reindex(range(len(self.users)), fill_value=0.0).to_numpy()


def load_ratings(
    dataset, n_users: int, max_train: int, max_test: int, test_share: float, rng, val_per_user: int = 0
) -> RatingData:
    """Split each drawn user's ratings by time: the first 1 - test_share train, the rest test.

    Of the `max_train` most recent training ratings, the last `val_per_user` are the
    validation split (epochs are chosen on them, never on test).

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
    train, valid, test = [], [], []
    for _, group in frame.groupby("user", sort=True):
        cut = int(round(len(group) * (1 - test_share)))
        kept = group.iloc[:cut].tail(max_train)
        n_valid = min(val_per_user, len(kept) - 1)  # at least one rating stays to train on
        train.append(kept.iloc[: len(kept) - n_valid])
        valid.append(kept.iloc[len(kept) - n_valid :])
        test.append(group.iloc[cut:].head(max_test))
    tables = [_table(pd.concat(part), row, titles) for part in (train, test, valid)]
    return RatingData(keys, *tables)


def _table(frame: pd.DataFrame, row: dict, titles) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_row": frame["user"].map(row).to_numpy(),
            "title": [titles[i] for i in frame["item"]],
            "rating": frame["rating"].astype(float).to_numpy(),
        }
    ).reset_index(drop=True)
