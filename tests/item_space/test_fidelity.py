"""The fidelity suite on real ML-100K: identical inputs for every model, no leakage, seeds,
baselines at their known values, and one-line errors on bad input."""

from dataclasses import replace

import numpy as np
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.datasets.build import make_catalog
from recagora.item_space.fidelity import (
    FidelityError,
    PopularityUserModel,
    RandomUserModel,
    SuiteConfig,
    build_heldout,
    build_protocols,
    run_suite,
)
from recagora.item_space.fidelity.heldout import check_no_leakage, sample_negatives
from recagora.item_space.fidelity.report import leaderboard, long_rows, to_csv, to_json
from recagora.item_space.types import Interactions
from recagora.item_space.user_model import UserModel

FAST = SuiteConfig(users=150, seed=0, folds=False)


@pytest.fixture(scope="module")
def ml100k():
    dataset = load_dataset("ml-100k")
    return dataset, dataset.split("loo")


class SpyModel(RandomUserModel):
    """A random user that records every input it is shown."""

    name = "spy"

    def __init__(self) -> None:
        super().__init__(0)
        self.seen: list[tuple] = []

    def choice_probabilities(self, users, histories, candidates):
        self.seen.append(("choice", np.array(users), list(histories), candidates.copy()))
        return super().choice_probabilities(users, histories, candidates)

    def interest_probabilities(self, users, histories, items):
        self.seen.append(("interest", np.array(users), list(histories), np.array(items)))
        return super().interest_probabilities(users, histories, items)


def test_baselines_implement_the_user_model_protocol(ml100k):
    dataset, split = ml100k
    assert isinstance(RandomUserModel(0), UserModel)
    assert isinstance(PopularityUserModel(split, len(dataset.catalog)), UserModel)


def test_every_model_sees_the_same_candidates(ml100k):
    dataset, split = ml100k
    spies = [SpyModel(), SpyModel()]
    run_suite(dataset, split, {"a": lambda s: spies[0], "b": lambda s: spies[1]}, FAST)
    for first, second in zip(spies[0].seen, spies[1].seen, strict=True):
        assert first[0] == second[0]
        np.testing.assert_array_equal(first[3], second[3])
        assert first[2] == second[2]


def test_no_held_out_item_reaches_any_history_a_model_is_shown(ml100k):
    dataset, split = ml100k
    spy = SpyModel()
    run_suite(dataset, split, {"spy": lambda s: spy}, FAST)
    held = {}
    for sample in (*split.valid, *split.test):
        held.setdefault(sample.user, set()).add(sample.target)
    heldout = build_heldout(dataset, split, n_users=FAST.users, rng=np.random.default_rng(0))
    user_of = dict(zip(heldout.users.tolist(), heldout.keys.tolist(), strict=True))
    checked = 0
    for _, users, histories, _ in spy.seen:
        for user, history in zip(users.tolist(), histories, strict=True):
            assert not held[user_of[user]] & set(history)
            checked += 1
    assert checked > 150 * 4  # every choice and interest row was inspected


def test_histories_are_the_users_training_events_oldest_first(ml100k):
    dataset, split = ml100k
    heldout = build_heldout(dataset, split, n_users=20, rng=np.random.default_rng(1))
    frame = split.train_interactions.frame
    # user ids index the sorted training user keys (agents.user_models.user_keys too)
    assert list(heldout.user_keys) == sorted(frame["user"].unique())
    np.testing.assert_array_equal(heldout.user_keys[heldout.users], heldout.keys)
    for key, history in zip(heldout.keys, heldout.histories, strict=True):
        events = frame[frame["user"] == key].sort_values("timestamp", kind="stable")
        assert list(history) == events["item"].tolist()


def test_the_leakage_guard_refuses_a_held_out_item_in_a_history():
    with pytest.raises(FidelityError, match="held-out item 7 is in the history of row 1"):
        check_no_leakage([(1, 2), (3, 7)], [frozenset({9}), frozenset({7})])


def test_negatives_are_never_an_item_the_user_interacted_with(ml100k):
    dataset, split = ml100k
    heldout = build_heldout(dataset, split, n_users=300, rng=np.random.default_rng(0))
    counts = np.bincount(split.train_interactions.frame["item"], minlength=len(dataset.catalog))
    protocols = build_protocols(heldout, counts, FAST)
    for candidates, positives in protocols.choice.values():
        np.testing.assert_array_equal(
            candidates[np.arange(len(positives)), positives], heldout.targets
        )
        for row, seen in zip(candidates, heldout.seen, strict=True):
            assert len(set(row.tolist())) == len(row)
            assert sum(item in seen for item in row.tolist()) == 1  # only the held-out item
    for row, seen in zip(protocols.discrimination[:, 1:], heldout.seen, strict=True):
        assert not seen & set(row.tolist())

    def negative_counts(key):
        candidates, positives = protocols.choice[key]
        negative = np.arange(candidates.shape[1])[None, :] != positives[:, None]
        return counts[candidates[negative]].mean()

    # popularity-weighted draws have mean count sum(c^2)/sum(c); uniform ones about mean(c)
    assert negative_counts("K10-popularity") > 2.5 * negative_counts("K10-uniform")


def test_the_held_out_item_is_at_every_column_about_equally_often(ml100k):
    dataset, split = ml100k
    heldout = build_heldout(dataset, split, n_users=None, rng=np.random.default_rng(0))
    counts = np.bincount(split.train_interactions.frame["item"], minlength=len(dataset.catalog))
    positives = build_protocols(heldout, counts, FAST).choice["K5-uniform"][1]
    shares = np.bincount(positives, minlength=5) / len(positives)
    assert np.abs(shares - 0.2).max() < 0.05  # 943 rows: 3 standard errors is 0.039


def test_weighted_negatives_follow_the_weights():
    # one negative from weights 1:2:3:4 (item 4 forbidden) -> shares .1 .2 .3 .4
    rng = np.random.default_rng(0)
    drawn = sample_negatives(np.array([1.0, 2, 3, 4, 5]), [frozenset({4})] * 20000, 1, rng)
    shares = np.bincount(drawn[:, 0], minlength=5) / 20000
    np.testing.assert_allclose(shares, [0.1, 0.2, 0.3, 0.4, 0.0], atol=0.012)


def test_random_is_at_chance_and_popularity_beats_it_on_uniform_negatives(ml100k):
    dataset, split = ml100k
    report = run_suite(dataset, split, {}, FAST)
    assert report["models"] == ["random", "popularity"]
    assert report["choice"]["K10-popularity"]["random"]["ndcg@5"] == pytest.approx(0.2948, abs=1e-4)
    assert report["choice"]["K5-uniform"]["random"]["top1"] == pytest.approx(0.2)
    assert report["choice"]["K10-uniform"]["popularity"]["top1"] > 0.25
    assert report["discrimination"]["popularity"]["alone"]["1:1"]["accuracy"] > 0.6
    # blockbuster bias: popularity over-chooses the most popular group vs real users
    population = report["population"]["models"]["K10-popularity"]
    assert population["popularity"]["groups"][-1] > report["population"]["real"]["groups"][-1] + 0.1
    assert population["popularity"]["jsd"] > population["random"]["jsd"]


def test_progress_counts_every_step_and_fold_models_limit_the_refits(ml100k):
    dataset, split = ml100k
    calls = []
    config = SuiteConfig(users=40, seed=0)
    report = run_suite(
        dataset, split, {}, config, lambda *a: calls.append(a), fold_models={"popularity"}
    )
    assert calls[-1][1] == len(calls) == 2 * (3 + 4) + 5
    assert set(report["ratings"]["folds"]) == {"popularity"}


def test_a_model_that_does_not_rate_is_built_once_not_per_fold(ml100k):
    dataset, split = ml100k
    built = []

    class Silent(RandomUserModel):
        def rating_probabilities(self, users, histories, items, levels):
            return None

    def build(split):
        built.append(split)
        return Silent(0)

    report = run_suite(dataset, split, {"silent": build}, SuiteConfig(users=40, seed=0))
    assert len(built) == 1
    assert report["ratings"]["heldout"]["silent"]["reason"] == "the model does not rate"
    assert set(report["ratings"]["folds"]) == {"random", "popularity"}


def test_same_seed_same_report_and_another_seed_another(ml100k):
    dataset, split = ml100k

    def without_timing(config):
        report = run_suite(dataset, split, {}, config)
        report.pop("timing")
        return to_json(report)

    assert without_timing(FAST) == without_timing(FAST)
    assert without_timing(FAST) != without_timing(FAST.model_copy(update={"seed": 1}))


def test_leaderboard_and_csv_have_one_row_per_model(ml100k):
    dataset, split = ml100k
    report = run_suite(dataset, split, {}, FAST)
    rows = leaderboard(report)
    assert [row["model"] for row in rows] == ["random", "popularity"]
    assert rows[0]["K10-popularity ndcg@5"] == pytest.approx(0.2948, abs=1e-4)
    assert to_csv(rows).splitlines()[0].startswith("model,K10-popularity top1")
    assert {row["section"] for row in long_rows(report)} == {
        "choice",
        "discrimination",
        "ratings",
        "population",
    }


def test_a_dataset_without_ratings_reports_them_not_available(ml100k):
    dataset, split = ml100k
    frame = dataset.interactions.frame.assign(rating=np.nan)
    unrated = replace(dataset, interactions=Interactions(frame=frame))
    report = run_suite(unrated, unrated.split("loo"), {}, SuiteConfig(users=50, seed=0))
    assert report["ratings"]["heldout"]["popularity"] == {
        "available": False,
        "reason": "the dataset has no ratings",
    }
    assert report["ratings"]["folds"] is None
    assert leaderboard(report)[1]["rating RMSE"] is None
    assert report["choice"]["K10-popularity"]["popularity"]["top1"] > 0


def test_too_many_users_is_a_one_line_error(ml100k):
    dataset, split = ml100k
    with pytest.raises(FidelityError, match="--users 5000: dataset 'ml-100k' has 943 users"):
        run_suite(dataset, split, {}, SuiteConfig(users=5000))


def test_k_larger_than_the_catalog_is_a_one_line_error(ml100k):
    dataset, split = ml100k
    with pytest.raises(FidelityError, match="K=2000 is larger than the catalog"):
        run_suite(dataset, split, {}, SuiteConfig(users=10, ks=(2000,)))


def test_too_few_never_seen_items_for_a_ratio_is_a_one_line_error(ml100k):
    dataset, _ = ml100k
    # The 12 most-rated movies only: heavy raters have seen nearly all of them.
    frame = dataset.interactions.frame
    top = frame["item"].value_counts().index[:12].to_numpy()
    kept = frame[frame["item"].isin(top)].reset_index(drop=True)
    catalog = make_catalog(
        "top12", [dataset.catalog[i].key for i in top], [dataset.catalog[i].title for i in top]
    )
    kept["item"] = np.searchsorted(np.sort(top), kept["item"])  # dense ids 0..11 ...
    order = np.argsort(top)  # ... in the catalog's order of `top`
    kept["item"] = np.argsort(order)[kept["item"]]
    small = replace(dataset, catalog=catalog, interactions=Interactions(frame=kept))
    with pytest.raises(
        FidelityError, match="never interacted with, fewer than the 1 negatives choice at K=2"
    ):
        run_suite(small, small.split("loo"), {}, SuiteConfig(ks=(2,), folds=False))


def test_a_model_with_the_wrong_shape_or_no_protocol_is_refused(ml100k):
    dataset, split = ml100k

    class Wrong(RandomUserModel):
        def choice_probabilities(self, users, histories, candidates):
            return np.full((len(candidates), 3), 0.1)

    with pytest.raises(FidelityError, match="'wrong': choice_probabilities has shape"):
        run_suite(dataset, split, {"wrong": lambda s: Wrong()}, FAST)
    with pytest.raises(FidelityError, match="does not implement UserModel"):
        run_suite(dataset, split, {"nothing": lambda s: object()}, FAST)


def test_unknown_config_values_are_refused(ml100k):
    dataset, split = ml100k
    with pytest.raises(FidelityError, match="negatives"):
        run_suite(dataset, split, {}, SuiteConfig(negatives=("hard",)))
    with pytest.raises(FidelityError, match="at least 2 candidates"):
        run_suite(dataset, split, {}, SuiteConfig(ks=(1,)))
