"""ML-100K's official u1..u5 folds reproduced from the registry's event order, and the rating
section's scores."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.fidelity import SuiteConfig, run_suite
from recagora.item_space.fidelity.baselines import baseline_factories
from recagora.item_space.fidelity.heldout import FidelityError
from recagora.item_space.fidelity.ratings import (
    fold_section,
    official_folds,
    rating_levels,
    sample_levels,
)
from recagora.item_space.types import Interactions

# Rows 0, 9 and 19,999 of GroupLens' u1.test .. u5.test as distributed (each sorted by user,
# then movie: mku.sh's `sort -t"<TAB>" -k 1,1n -k 2,2n`), as (user, movie, rating, time).
# Taken from the ir_datasets integration test of the official files
# (allenai/ir_datasets, test/integration/movielens.py).
OFFICIAL_TEST_ROWS = {
    1: [("1", "6", 5, 887431973), ("1", "31", 3, 875072144), ("462", "682", 5, 886365231)],
    2: [("1", "1", 5, 874965758), ("1", "34", 2, 878542869), ("658", "276", 4, 875145572)],
    3: [("1", "5", 3, 889751712), ("1", "50", 5, 874965954), ("877", "382", 3, 882677012)],
    4: [("1", "4", 3, 876893119), ("1", "124", 5, 875071484), ("943", "1188", 3, 888640250)],
    5: [("1", "3", 4, 878542960), ("1", "83", 3, 875072370), ("943", "1330", 3, 888692465)],
}


@pytest.fixture(scope="module")
def ml100k():
    return load_dataset("ml-100k")


@pytest.fixture(scope="module")
def folds(ml100k):
    return official_folds(ml100k)


def _as_rows(dataset, frame: pd.DataFrame) -> pd.DataFrame:
    keys = np.array([item.key for item in dataset.catalog.items])
    rows = pd.DataFrame(
        {
            "user": frame["user"].astype(int),
            "movie": keys[frame["item"]].astype(int),
            "rating": frame["rating"].astype(int),
            "time": frame["timestamp"],
        }
    )
    return rows.sort_values(["user", "movie"], kind="stable").reset_index(drop=True)


def test_folds_have_20000_test_events_each_disjoint_and_covering_the_data(ml100k, folds):
    assert len(folds) == 5
    seen = set()
    for base, test in folds:
        assert len(test) == 20_000 and len(base) == 80_000
        pairs = set(zip(test["user"], test["item"], strict=True))
        base_pairs = set(zip(base.frame["user"], base.frame["item"], strict=True))
        assert not pairs & base_pairs
        assert not pairs & seen
        seen |= pairs
    assert len(seen) == 100_000


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_each_fold_matches_the_official_u_test_file(ml100k, folds, number):
    rows = _as_rows(ml100k, folds[number - 1][1])
    for position, expected in zip((0, 9, 19_999), OFFICIAL_TEST_ROWS[number], strict=True):
        got = rows.iloc[position]
        assert (str(got["user"]), str(got["movie"]), got["rating"], got["time"]) == expected


def test_u1_test_has_the_known_users_and_movies(ml100k, folds):
    # u1.test: 459 users (ids 1..462) and 1,410 movies
    test = folds[0][1]
    assert test["user"].nunique() == 459 and test["item"].nunique() == 1410
    assert test["user"].astype(int).max() == 462


def test_events_not_in_u_data_order_give_no_folds(ml100k):
    frame = ml100k.interactions.frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    assert official_folds(replace(ml100k, interactions=Interactions(frame=frame))) is None


def test_rating_levels_and_sampling(ml100k):
    levels = rating_levels(ml100k)
    assert levels.tolist() == [1, 2, 3, 4, 5]
    probs = np.tile([0.1, 0.2, 0.3, 0.4, 0.0], (20000, 1))
    drawn = sample_levels(probs, levels, np.random.default_rng(0))
    shares = np.bincount(drawn.astype(int), minlength=6)[1:] / 20000
    np.testing.assert_allclose(shares, [0.1, 0.2, 0.3, 0.4, 0.0], atol=0.012)


def test_fold_ratings_of_the_popularity_baseline(ml100k):
    report = run_suite(ml100k, ml100k.split("loo"), {}, SuiteConfig(users=100, seed=0))
    folds = report["ratings"]["folds"]["popularity"]
    assert len(folds["folds"]) == 5 and all(f["n"] == 20_000 for f in folds["folds"])
    # ML-100K's 1-2 star share is 17.48% (6,110 + 11,370 of 100,000 ratings)
    assert folds["mean"]["low_share_real"] == pytest.approx(0.1748)
    # an item-mean predictor sits near RMSE 1.02 on these folds; uniform guessing far above
    assert 0.98 < folds["mean"]["rmse"] < 1.06
    assert report["ratings"]["folds"]["random"]["mean"]["rmse"] > 1.2
    assert folds["mean"]["jsd"] < 0.01


def _fold_run(folds, factories, levels, workers):
    steps = []
    rng_for = lambda name, fold: np.random.default_rng([0, len(name), fold])  # noqa: E731
    return fold_section(folds, factories, levels, rng_for, steps.append, workers=workers), steps


def test_fold_workers_give_the_serial_scores_and_steps(ml100k, folds):
    levels = rating_levels(ml100k)
    built_here = []

    def popularity(split):
        built_here.append(split)  # a forked worker appends to its own copy
        return baseline_factories(len(ml100k.catalog), 0)["popularity"](split)

    factories = {"popularity": popularity, "random": baseline_factories(1, 0)["random"]}
    serial, serial_steps = _fold_run(folds[:3], factories, levels, workers=1)
    assert len(built_here) == 3
    forked, forked_steps = _fold_run(folds[:3], factories, levels, workers=2)
    assert len(built_here) == 3  # every fold model was built in a worker
    assert forked == serial  # same floats, same fold order
    assert sorted(forked_steps) == sorted(serial_steps) and len(serial_steps) == 6


def test_a_bad_rating_answer_in_a_worker_is_the_same_one_line_error(ml100k, folds):
    class Short:
        def rating_probabilities(self, users, histories, items, levels):
            return np.full((3, len(levels)), 0.2)  # 3 rows for 20,000 events

    with pytest.raises(FidelityError, match="user model 'short'"):
        _fold_run(folds[:2], {"short": lambda split: Short()}, rating_levels(ml100k), workers=2)
