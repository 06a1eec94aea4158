"""The learned user: beats popularity on held-out choices of a small real split, never reads the
test split, is deterministic in its seed, caches its fit, and plays a 2-round TriRec episode."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from recagora.agents.learned_user.fit import (
    calibration_samples,
    fit_learned_user,
)
from recagora.agents.learned_user.itemitem import ItemItemConfig, ease_scores, fit_ease
from recagora.agents.learned_user.model import LearnedUserConfig, LearnedUserModel
from recagora.agents.learned_user.network import EncoderConfig
from recagora.agents.learned_user.rating import RatingConfig
from recagora.agents.learned_user.train import TrainConfig
from recagora.agents.roles.base import ItemFacts
from recagora.agents.user_models import UnknownUserModelError, build_user_model, user_keys
from recagora.item_space.splits import leave_one_out
from recagora.item_space.types import Interactions, Sample

TINY = LearnedUserConfig(
    encoder=EncoderConfig(dim=32, max_len=20, layers=1),
    train=TrainConfig(max_epochs=4, max_seconds=60, batch_size=64, lr=3e-3),
    rating=RatingConfig(l2_grid=(0.05,), max_epochs=80),
    n_negatives=20,
)


class Untouchable(list):
    """A held-out part that fails the test if anything reads it."""

    def _refuse(self, *args, **kwargs):
        raise AssertionError("the fit read split.test")

    __iter__ = __len__ = __getitem__ = __bool__ = _refuse


@pytest.fixture(scope="module")
def small(first_users_events, hashed_ml100k):
    """300 real ML-100K users, their leave-one-out split and hashed item facts."""
    events, _ = first_users_events(300)
    split = leave_one_out(events)
    space, _ = hashed_ml100k
    popularity = split.train_interactions.item_counts(len(space.catalog))
    return split, ItemFacts.from_catalog(space.catalog, popularity)


@pytest.fixture(scope="module")
def fitted(small):
    split, facts = small
    return fit_learned_user(facts, split, seed=0, config=TINY, show_progress=False, cache=False)


def _test_inputs(split, facts, seed=0, k=10):
    """Users, training histories and (n, k) candidates: the test item first, popularity negatives."""
    rng = np.random.default_rng(seed)
    keys = {key: row for row, key in enumerate(user_keys(split))}
    p = facts.popularity + 1.0
    rows = [np.r_[s.target, rng.choice(len(p), k - 1, replace=False, p=p / p.sum())] for s in split.test]
    users = [keys[s.user] for s in split.test]
    return users, [list(s.history) for s in split.test], np.asarray(rows, np.int64)


def _ndcg5(probs: np.ndarray) -> float:
    rank = (probs[:, 1:] > probs[:, :1]).sum(axis=1)
    return float(np.where(rank < 5, 1.0 / np.log2(rank + 2.0), 0.0).mean())


def test_beats_popularity_on_held_out_choices(small, fitted):
    split, facts = small
    users, histories, candidates = _test_inputs(split, facts)
    probs = fitted.choice_probabilities(users, histories, candidates)
    assert probs.shape == candidates.shape and (probs.sum(axis=1) <= 1 + 1e-9).all()
    popularity = facts.popularity[candidates].astype(float) + np.arange(10)[::-1] * 1e-9
    # ties favour the target in popularity's order; the learned user still wins
    assert _ndcg5(probs) > _ndcg5(popularity) + 0.05
    held_out = fitted.interest_probabilities(users, histories, candidates[:, 0])
    never = fitted.interest_probabilities(users, histories, candidates[:, -1])
    assert held_out.mean() > never.mean()


def test_rating_head_gives_a_distribution_over_the_levels(small, fitted):
    split, _ = small
    users, histories, candidates = _test_inputs(split, fitted.facts)
    levels = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    probs = fitted.rating_probabilities(users, histories, candidates[:, 0], levels)
    assert probs.shape == (len(users), 5)
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs > 0).all()
    assert 2.5 < (probs @ levels).mean() < 4.5


def test_the_fit_never_reads_the_test_split(small, fitted):
    split, facts = small
    blind = replace(split, test=Untouchable())
    again = fit_learned_user(facts, blind, seed=0, config=TINY, show_progress=False, cache=False)
    users, histories, candidates = _test_inputs(split, facts)
    same = again.choice_probabilities(users, histories, candidates)
    assert np.allclose(same, fitted.choice_probabilities(users, histories, candidates))


def test_same_seed_same_predictions_and_the_cache_returns_them(small, fitted, tmp_path, monkeypatch):
    split, facts = small
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    users, histories, candidates = _test_inputs(split, facts)
    told: list[str] = []
    first = fit_learned_user(facts, split, seed=0, config=TINY, show_progress=False, on_progress=told.append)
    expected = fitted.choice_probabilities(users, histories, candidates)
    assert np.array_equal(first.choice_probabilities(users, histories, candidates), expected)
    assert [p.name[:6] for p in (tmp_path / "learned_user").glob("*.pt")] == ["choice"]  # lazy sides
    assert told[0] == "learned user: encoder epoch 0" and told[-1] == "learned user: choice head"
    assert any(text.startswith("learned user: encoder epoch 1/4 (valid ll") for text in told)
    told.clear()
    cached = fit_learned_user(facts, split, seed=0, config=TINY, show_progress=False, on_progress=told.append)
    for model in (first, cached):
        assert np.array_equal(model.choice_probabilities(users, histories, candidates), expected)
    assert told == []  # a cached fit has nothing to report
    levels = np.arange(1.0, 6.0)
    assert np.array_equal(
        cached.rating_probabilities(users, histories, candidates[:, 0], levels),
        fitted.rating_probabilities(users, histories, candidates[:, 0], levels),
    )


def test_v0_adapter_and_unknown_names(small, ml100k_split):
    split, facts = small
    dataset, _ = ml100k_split
    v0 = build_user_model("v0", dataset, split, seed=0, facts=facts)
    users, histories, candidates = _test_inputs(split, facts)
    probs = v0.choice_probabilities(users, histories, candidates)
    assert probs.shape == candidates.shape and (probs.sum(axis=1) < 1).all()
    assert v0.rating_probabilities(users, histories, candidates[:, 0], np.arange(1.0, 6.0)) is None
    with pytest.raises(UnknownUserModelError, match="unknown user model 'learnd'.*learned"):
        build_user_model("learnd", dataset, split, facts=facts)


def test_the_role_plays_a_two_round_trirec_episode(hashed_ml100k, fitted):
    from recagora.agents.roles.user_learned import LearnedUserAgent
    from recagora.agents.surrogate.choice_model import ChoiceModelConfig
    from recagora.environments.checks import check_scenario
    from recagora.environments.registry import get_scenario
    from recagora.environments.trirec.roles import build_roles

    def learned_roles(world):
        roles = build_roles(world)
        model = LearnedUserModel(world.facts, fitted.user_keys, lambda: fitted.choice, lambda: None)
        roles.user = LearnedUserAgent(world.facts, model, embedder=world.space.embedder)
        return roles

    spec = get_scenario("trirec")
    config = spec.config_cls(
        users=6, rounds=2, llm="fake:", agents="user=surrogate,item=surrogate,platform=trirec",
        user_fit=ChoiceModelConfig(max_train_samples=500),
    )
    space, _ = hashed_ml100k
    report = check_scenario(spec, config, {"space": space, "roles_factory": learned_roles})
    assert report.rounds == 2


def test_ease_is_the_closed_form_and_lambda_comes_from_the_validation_score():
    """B = -P / diag(P), P = (X'X + lambda I)^-1, diag(B) = 0 (Steck 2019), on a 4 x 3 matrix;
    the grid's lambda with the best `choose` score is kept; scores sum B over a history."""
    frame = pd.DataFrame({"user": list("aabbbcdd"), "item": [0, 1, 0, 1, 2, 2, 1, 2],
                          "rating": np.nan, "timestamp": np.arange(8)})
    x = np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1], [0, 1, 1]], float)
    config = ItemItemConfig(lambda_scales=(0.5, 2.0))
    scale = x.sum() / 3  # mean training count per item

    def expected(lam):
        p = np.linalg.inv(x.T @ x + lam * np.eye(3))
        b = -p / np.diag(p)
        np.fill_diagonal(b, 0.0)
        return b

    b, log = fit_ease(Interactions(frame), 3, config, choose=lambda b: -abs(b[0, 1] - expected(2.0 * scale)[0, 1]))
    np.testing.assert_allclose(b, expected(2.0 * scale), atol=1e-5)
    assert log["lambda"] == round(2.0 * scale, 2) and len(log["grid"]) == 2
    np.testing.assert_allclose(ease_scores(b, [(0, 1, 1), ()]).numpy(), [b[0] + b[1], np.zeros(3)], atol=1e-6)
    small, _ = fit_ease(Interactions(frame), 3, replace(config, max_items=2), choose=lambda b: 0.0)
    assert small[0].sum() == small[:, 0].sum() == 0 and small[1, 2] != 0  # beyond max_items: item 0 (count 2) is the one left out


def test_calibration_mirrors_the_suites_gap():
    """The suite asks for the item two steps after the training history: calibration drops each
    validation history's last item (still a seen item, never a negative)."""
    valid = [Sample("a", (1, 3, 2), 7), Sample("b", (4,), 9), Sample("c", (4, 5), 6)]
    samples, seen = calibration_samples(valid, replace(TINY, calibration_gap=2), seed=0)
    assert [(s.user, s.history, s.target) for s in samples] == [("a", (1, 3), 7), ("c", (4,), 6)]
    assert seen == [frozenset({1, 3, 2, 7}), frozenset({4, 5, 6})]
    alone, _ = calibration_samples(valid[1:2], replace(TINY, calibration_gap=2), seed=0)
    assert alone[0].history == (4,)  # too short to shorten: one step ahead
