"""Random leave-one-out: seeded, leak-free, an exact partition of every user's events."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.splits import leave_one_out, random_leave_one_out
from recagora.item_space.types import Interactions


@pytest.fixture(scope="module")
def ml100k():
    return load_dataset("ml-100k", cache=False)


def _tiny() -> Interactions:
    # user a: items 0,1,2,3 at t=10,20,30,40; user b: items 4,5; user c: item 6 alone
    frame = pd.DataFrame(
        {
            "user": ["a", "a", "b", "a", "a", "b", "c"],
            "item": [2, 0, 4, 3, 1, 5, 6],
            "rating": np.nan,
            "timestamp": [30, 10, 15, 40, 20, 25, 5],
        }
    )
    return Interactions(frame=frame)


def _triples(samples):
    return [(s.user, s.history, s.target) for s in samples]


def test_histories_are_the_other_events_in_time_order():
    for seed in range(8):
        split = random_leave_one_out(_tiny(), seed=seed)
        (valid,) = split.valid
        test_a = next(s for s in split.test if s.user == "a")
        train_a = tuple(
            split.train_interactions.frame.query("user == 'a'").sort_values("timestamp")["item"]
        )
        assert valid.history == train_a and len(train_a) == 2
        assert test_a.history == tuple(sorted(set(range(4)) - {test_a.target}))
        assert _triples(split.train) == [("a", train_a[:1], train_a[1])]


def test_short_users_are_handled_like_leave_one_out():
    # b (2 events) gets a test target and no valid one, c (1 event) only trains, as in loo
    for seed in range(8):
        split = random_leave_one_out(_tiny(), seed=seed)
        loo = leave_one_out(_tiny())
        assert Counter(s.user for s in split.test) == Counter(s.user for s in loo.test)
        assert Counter(s.user for s in split.valid) == Counter(s.user for s in loo.valid)
        assert split.train_interactions.n_users == loo.train_interactions.n_users


def test_same_seed_same_split_other_seed_other_split(ml100k):
    one, again = (ml100k.split("random_loo", seed=3) for _ in range(2))
    other = ml100k.split("random_loo", seed=4)
    assert _triples(one.test) == _triples(again.test) and _triples(one.valid) == _triples(
        again.valid
    )
    assert one.train_interactions.frame.equals(again.train_interactions.frame)
    assert [s.target for s in one.test] != [s.target for s in other.test]
    assert one.protocol == "random_loo"


def test_random_targets_are_not_the_last_events(ml100k):
    last = {s.user: s.target for s in ml100k.split("loo").test}
    random_test = ml100k.split("random_loo", seed=0).test
    same = np.mean([last[s.user] == s.target for s in random_test])
    assert len(random_test) == len(last) and same < 0.05  # ~1/106 events per ML-100K user


def test_no_leakage_and_an_exact_partition_on_ml100k(ml100k):
    split = ml100k.split("random_loo", seed=0)
    train = split.train_interactions.frame.groupby("user")["item"].apply(list).to_dict()
    everything = ml100k.interactions.frame.groupby("user")["item"].apply(list).to_dict()
    held = {}
    for sample in (*split.valid, *split.test):
        assert sample.target not in train[sample.user]  # ML-100K has no repeated pair
        assert sample.target not in sample.history
        held.setdefault(sample.user, []).append(sample.target)
    for user, items in everything.items():
        assert Counter(train.get(user, [])) + Counter(held.get(user, [])) == Counter(items)
    for sample in split.valid:
        assert set(sample.history) == set(train[sample.user])
    assert len(split.train) == len(split.train_interactions) - split.train_interactions.n_users
