"""Split invariants on ML-100K and hand-checked tiny examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.errors import DatasetError
from recagora.item_space.splits import global_time_split, leave_one_out, truncate_histories
from recagora.item_space.types import Interactions


@pytest.fixture(scope="module")
def ml100k():
    return load_dataset("ml-100k", cache=False)


def _tiny() -> Interactions:
    # user a: items 0,1,2,3 at t=10,20,30,40 (given out of order); user b: items 4,5 at t=15,25
    frame = pd.DataFrame(
        {
            "user": ["a", "a", "b", "a", "a", "b"],
            "item": [2, 0, 4, 3, 1, 5],
            "rating": np.nan,
            "timestamp": [30, 10, 15, 40, 20, 25],
        }
    )
    return Interactions(frame=frame)


def test_leave_one_out_on_a_hand_checked_example():
    split = leave_one_out(_tiny())
    assert [(s.user, s.history, s.target) for s in split.test] == [
        ("a", (0, 1, 2), 3),
        ("b", (4,), 5),
    ]
    assert [(s.user, s.history, s.target) for s in split.valid] == [("a", (0, 1), 2)]
    assert [(s.user, s.history, s.target) for s in split.train] == [("a", (0,), 1)]
    # b's first event is no valid target (empty history), so it stays in training.
    assert sorted(split.train_interactions.frame["item"]) == [0, 1, 4]


def test_global_time_split_on_a_hand_checked_example():
    # samples by target time: a1@20, b5@25, a2@30, a3@40 -> 2/1/1 with fractions .5/.25/.25
    split = global_time_split(_tiny(), fractions=(0.5, 0.25, 0.25))
    assert [s.target for s in split.train] == [1, 5]
    assert [(s.history, s.target) for s in split.valid] == [((0, 1), 2)]
    assert [(s.history, s.target) for s in split.test] == [((0, 1, 2), 3)]
    assert sorted(split.train_interactions.frame["item"]) == [0, 1, 4, 5]  # events before t=30


def test_max_history_keeps_the_most_recent_items():
    split = leave_one_out(_tiny(), max_history=2)
    assert split.test[0].history == (1, 2)
    assert truncate_histories(leave_one_out(_tiny()), 1).test[0].history == (2,)


def test_loo_on_ml100k_keeps_test_items_out_of_histories_and_training(ml100k):
    split = ml100k.split("loo", max_history=50)
    assert split.sizes() == {"train": 100_000 - 2 * 943 - 943, "valid": 943, "test": 943}
    train = split.train_interactions.frame
    seen = set(zip(train["user"], train["item"], strict=True))
    for sample in split.test + split.valid:
        assert sample.target not in sample.history
        assert (sample.user, sample.target) not in seen
    valid_time = {s.user: s.timestamp for s in split.valid}
    assert all(valid_time[s.user] <= s.timestamp for s in split.test)
    last_train = train.groupby("user")["timestamp"].max()
    assert all(last_train[s.user] <= valid_time[s.user] for s in split.test)


def test_histories_are_chronological_on_ml100k(ml100k):
    split = ml100k.split("loo")
    frame = ml100k.interactions.frame
    when = dict(
        zip(zip(frame["user"], frame["item"], strict=True), frame["timestamp"], strict=True)
    )
    for sample in split.test[:100]:
        times = [when[(sample.user, item)] for item in sample.history]
        assert times == sorted(times) and times[-1] <= sample.timestamp


def test_global_time_on_ml100k_orders_the_three_parts(ml100k):
    split = ml100k.split("global_time", max_history=10)
    sizes = split.sizes()
    total = sum(sizes.values())
    assert total == 100_000 - 943  # every event but each user's first is a target
    assert abs(sizes["train"] / total - 0.8) < 1e-3
    assert max(s.timestamp for s in split.train) <= min(s.timestamp for s in split.valid)
    assert max(s.timestamp for s in split.valid) <= min(s.timestamp for s in split.test)
    assert split.train_interactions.frame["timestamp"].max() <= min(
        s.timestamp for s in split.valid
    )
    assert max(len(s.history) for s in split.test) == 10


def test_bad_split_arguments_are_one_line_errors(ml100k):
    with pytest.raises(DatasetError, match="unknown split protocol 'lo'"):
        ml100k.split("lo")
    with pytest.raises(DatasetError, match="ships no split"):
        ml100k.split("given")
    with pytest.raises(DatasetError, match="fractions"):
        global_time_split(_tiny(), fractions=(0.5, 0.5, 0.5))
