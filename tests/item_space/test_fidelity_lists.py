"""The discrimination section asked as a LIST (Agent4Rec's protocol) beside item by item:
the shown order is shuffled and seeded, a model without a list method gets its alone
answers, a list model is scored on the lists it was shown, and bad answers are one line."""

import numpy as np
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.fidelity import (
    FidelityError,
    PopularityUserModel,
    RandomUserModel,
    SuiteConfig,
    build_heldout,
    build_protocols,
    run_suite,
)
from recagora.item_space.fidelity.report import leaderboard, long_rows
from recagora.item_space.user_model import ListUserModel

FAST = SuiteConfig(users=200, seed=0, folds=False, ks=(5,))


@pytest.fixture(scope="module")
def ml100k():
    dataset = load_dataset("ml-100k")
    return dataset, dataset.split("loo")


class Knowing(RandomUserModel):
    """Picks exactly each user's held-out item (a test oracle told them), recording every list."""

    name = "knowing"

    def __init__(self, held_out: dict[int, int]) -> None:
        super().__init__(0)
        self.held_out, self.lists = held_out, []

    def list_interest_probabilities(self, users, histories, lists):
        self.lists.append(np.array(lists))
        return (lists == np.array([self.held_out[u] for u in users])[:, None]).astype(float)


def _protocols(ml100k, config=FAST):
    dataset, split = ml100k
    heldout = build_heldout(dataset, split, n_users=config.users, rng=np.random.default_rng(0))
    counts = np.bincount(split.train_interactions.frame["item"], minlength=len(dataset.catalog))
    return heldout, build_protocols(heldout, counts, config)


def test_lists_hold_the_held_out_item_and_the_first_m_never_seen_items_in_a_seeded_shuffle(ml100k):
    heldout, protocols = _protocols(ml100k)
    _, again = _protocols(ml100k)
    _, other = _protocols(ml100k, FAST.model_copy(update={"seed": 1}))
    for m in (1, 3, 9):
        shown = protocols.shown(m)
        positives = protocols.lists[m][1]
        np.testing.assert_array_equal(shown[np.arange(len(shown)), positives], heldout.targets)
        for row, full in zip(shown, protocols.discrimination, strict=True):
            assert sorted(row.tolist()) == sorted(full[: m + 1].tolist())
        np.testing.assert_array_equal(shown, again.shown(m))
        assert not np.array_equal(positives, other.lists[m][1])
        # 200 lists: the held-out item is first in about 1/(m+1) of them, never always
        assert abs((positives == 0).mean() - 1 / (m + 1)) < 0.1
        assert 0 < (positives == 0).mean() < 1


def test_a_model_without_a_list_method_gets_its_alone_answers(ml100k):
    dataset, split = ml100k
    report = run_suite(dataset, split, {}, FAST)
    asked = report["discrimination"]["random"]  # a fresh coin per call: only a reuse is equal
    assert not isinstance(RandomUserModel(0), ListUserModel)
    assert asked["list_answers"] == "each item alone (no list method)"
    for ratio, alone in asked["alone"].items():
        assert asked["list"][ratio] == pytest.approx(alone)


def test_popularity_shown_a_pair_says_yes_to_the_more_popular_item(ml100k):
    dataset, split = ml100k
    heldout, protocols = _protocols(ml100k)
    popularity = PopularityUserModel(split, len(dataset.catalog))
    shown = protocols.shown(1)
    picks = popularity.list_interest_probabilities(heldout.users, heldout.histories, shown) >= 0.5
    counts = popularity.counts[shown]
    np.testing.assert_array_equal(picks, counts >= counts[:, ::-1])  # a tie (both 0.5) is a yes to both
    report = run_suite(dataset, split, {}, FAST)
    positives = protocols.lists[1][1]
    right = (picks[np.arange(len(picks)), positives]).mean()
    assert report["discrimination"]["popularity"]["list"]["1:1"]["recall"] == pytest.approx(right)


def test_a_list_model_is_scored_on_the_lists_it_was_shown(ml100k):
    dataset, split = ml100k
    heldout, protocols = _protocols(ml100k)
    knowing = Knowing(dict(zip(heldout.users.tolist(), heldout.targets.tolist(), strict=True)))
    assert isinstance(knowing, ListUserModel)
    report = run_suite(dataset, split, {"knowing": lambda _: knowing}, FAST)
    asked = report["discrimination"]["knowing"]
    assert asked["list_answers"] == "the model, comparing the list"
    for m, shown in zip((1, 3, 9), knowing.lists, strict=True):
        np.testing.assert_array_equal(shown, protocols.shown(m))
    for m in ("1:1", "1:3", "1:9"):  # scored against the held-out item's shuffled position
        assert asked["list"][m]["accuracy"] == asked["list"][m]["f1"] == 1.0
    assert asked["alone"]["1:1"]["accuracy"] < 0.6  # alone it is the random coin
    row = next(r for r in leaderboard(report) if r["model"] == "knowing")
    assert row["list 1:1 accuracy"] == asked["list"]["1:1"]["accuracy"]
    assert row["alone 1:1 accuracy"] == asked["alone"]["1:1"]["accuracy"]
    protocols_seen = {r["protocol"] for r in long_rows(report) if r["section"] == "discrimination"}
    assert protocols_seen == {f"{way} 1:{m}" for way in ("list", "alone") for m in (1, 3, 9)}


def test_a_list_answer_of_the_wrong_shape_is_one_line(ml100k):
    dataset, split = ml100k

    class Short(Knowing):
        def list_interest_probabilities(self, users, histories, lists):
            return np.zeros((len(lists), 1))

    with pytest.raises(FidelityError, match=r"'short'.*list_interest_probabilities has shape \(200, 1\)"):
        run_suite(dataset, split, {"short": lambda _: Short({})}, FAST)
