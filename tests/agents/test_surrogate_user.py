"""The surrogate user: its choice model fits held-out ML-100K choices better than popularity,
it reads promotions, consumes from the slate and leaves when it stays unsatisfied."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np
import pytest

from recagora.agents.roles.base import Promotions, build_cohort
from recagora.agents.roles.persona import persona_memory
from recagora.agents.roles.satisfaction import PatienceConfig
from recagora.agents.roles.user_surrogate import SurrogateUserAgent, SurrogateUserConfig
from recagora.agents.surrogate.choice_model import ChoiceModelConfig, fit_choice_model
from recagora.agents.surrogate.report import fit_with_report

SMALL_FIT = ChoiceModelConfig(max_train_samples=8000, n_negatives=15)


@pytest.fixture(scope="module")
def fitted(ml100k_split, hashed_ml100k):
    _, split = ml100k_split
    space, facts = hashed_ml100k
    return space, facts, fit_choice_model(facts, split.train, split.valid, SMALL_FIT)


@pytest.fixture()
def cohort(ml100k_split, fitted):
    _, split = ml100k_split
    _, facts, _ = fitted
    histories = split.train_interactions.histories()
    keys = sorted(histories)[:40]
    memories = [persona_memory(facts, histories[k].items, histories[k].ratings) for k in keys]
    return build_cohort(facts, keys, [histories[k].items for k in keys], memories)


def test_choice_model_beats_popularity_on_held_out_choices(ml100k_split, hashed_ml100k):
    _, split = ml100k_split
    _, facts = hashed_ml100k
    model, report = fit_with_report(facts, split, SMALL_FIT)
    assert report.n_test == 943
    assert (
        report.model_log_likelihood
        > report.popularity_log_likelihood
        > report.uniform_log_likelihood
    )
    assert report.model_ndcg10 > report.popularity_ndcg10
    assert model.weights[1] > 0 and 0.05 < model.temperature < 20  # recent taste attracts


def test_scores_are_complete_and_on_the_0_10_scale(fitted, cohort):
    space, facts, model = fitted
    agent = SurrogateUserAgent(facts, model, space.embedder)
    idx = cohort.active_indices()
    candidates = space.neighbours_batch([cohort.histories[i] for i in idx], 10)
    scores = asyncio.run(agent.score(cohort, idx, candidates, Promotions.empty(candidates.shape)))
    assert scores.scores.shape == (40, 10) and scores.complete.all()
    assert (scores.scores >= 0).all() and (scores.scores <= 10).all()
    assert scores.scores.std(axis=1).min() > 0  # candidates are told apart


def test_a_promotion_matching_the_users_taste_raises_the_items_score(fitted, cohort):
    space, facts, model = fitted
    agent = SurrogateUserAgent(
        facts, model, space.embedder, SurrogateUserConfig(promotion_weight=0.3)
    )
    idx = np.array([0])
    candidates = np.array([[i for i in range(len(facts)) if i not in cohort.histories[0]][:10]])
    recent_titles = " ".join(facts.catalog[i].title for i in cohort.histories[0][-5:])
    plain = asyncio.run(agent.score(cohort, idx, candidates, Promotions.empty((1, 10))))
    ad = Promotions.from_texts([[recent_titles] + [""] * 9])
    promoted = asyncio.run(agent.score(cohort, idx, candidates, ad))
    assert promoted.scores[0, 0] > plain.scores[0, 0]
    ignoring = SurrogateUserAgent(
        facts, model, space.embedder, SurrogateUserConfig(promotion_weight=0.0)
    )
    unmoved = asyncio.run(ignoring.score(cohort, idx, candidates, ad))
    np.testing.assert_allclose(unmoved.scores, plain.scores)


def test_respond_picks_from_the_slate_and_is_seed_deterministic(fitted, cohort):
    space, facts, model = fitted
    agent = SurrogateUserAgent(facts, model, space.embedder)
    idx = cohort.active_indices()
    slates = space.neighbours_batch([cohort.histories[i] for i in idx], 10)
    empty = Promotions.empty(slates.shape)
    first = asyncio.run(agent.respond(cohort, idx, slates, empty, np.random.default_rng(3)))
    again = asyncio.run(agent.respond(cohort, idx, slates, empty, np.random.default_rng(3)))
    assert first.chosen.tolist() == again.chosen.tolist()
    picked = first.chosen >= 0
    assert all(c in row for c, row in zip(first.chosen[picked], slates[picked], strict=True))
    assert (
        picked.mean() > 0
        and ((first.round_satisfaction > 0) & (first.round_satisfaction < 1)).all()
    )
    after, _ = asyncio.run(agent.reflect(cohort, idx, slates, first, np.random.default_rng(4)))
    for row in np.flatnonzero(picked):
        assert after.histories[row][-1] == first.chosen[row]
        assert after.history_len[row] == cohort.history_len[row] + 1


def test_respond_reuses_the_scored_utilities_exactly_when_slates_reorder_the_candidates(
    fitted, cohort
):
    space, facts, model = fitted
    idx = cohort.active_indices()
    candidates = space.neighbours_batch([cohort.histories[i] for i in idx], 10)
    ads = Promotions.from_texts([[f"ad {i % 3}" if i % 2 else "" for i in row] for row in candidates])
    order = np.random.default_rng(0).permuted(np.tile(np.arange(10), (len(idx), 1)), axis=1)
    slates, shown = np.take_along_axis(candidates, order, 1), ads.take(order)
    scorer = SurrogateUserAgent(facts, model, space.embedder)
    asyncio.run(scorer.score(cohort, idx, candidates, ads))
    reused = scorer._slate_utilities(cohort, idx, slates, shown)
    fresh = SurrogateUserAgent(facts, model, space.embedder).utilities(cohort, idx, slates, shown)
    np.testing.assert_array_equal(reused, fresh)  # bit for bit: a utility ignores its column
    asyncio.run(scorer.score(cohort, idx, candidates, ads))
    other = slates.copy()
    other[0, 0] = next(i for i in range(len(facts)) if i not in candidates[0])
    np.testing.assert_array_equal(  # not a re-ordering: computed, not reused
        scorer._slate_utilities(cohort, idx, other, shown),
        scorer.utilities(cohort, idx, other, shown),
    )


def test_user_features_are_the_cohorts_unit_vectors_bit_for_bit(cohort):
    from recagora.agents.surrogate.features import from_cohort

    idx = cohort.active_indices()[::2]
    features = from_cohort(cohort, idx)
    np.testing.assert_array_equal(features.mean, cohort.taste_vectors(idx))
    np.testing.assert_array_equal(features.recent, cohort.recent_vectors(idx))


def test_a_user_who_never_finds_anything_leaves_after_its_patience(fitted, cohort):
    space, facts, model = fitted
    bored = SurrogateUserAgent(
        facts,
        replace(model, outside_utility=1e6),
        None,
        SurrogateUserConfig(patience=PatienceConfig(patience=3, leave_scale=0.0)),
    )
    rng = np.random.default_rng(0)
    for round_ in range(3):
        assert cohort.active.all(), round_
        idx = cohort.active_indices()
        slates = space.neighbours_batch([cohort.histories[i] for i in idx], 10)
        response = asyncio.run(
            bored.respond(cohort, idx, slates, Promotions.empty(slates.shape), rng)
        )
        assert (response.chosen == -1).all()
        cohort, events = asyncio.run(bored.reflect(cohort, idx, slates, response, rng))
    assert not cohort.active.any() and all(e["left"] for e in events)


@pytest.mark.slow
def test_choice_model_on_minilm_vectors_beats_popularity(ml100k_split):
    """The embedded default: MiniLM item vectors (embedding cache makes reruns fast)."""
    from recagora.agents.roles.base import ItemFacts
    from recagora.item_space.datasets.registry import load_dataset
    from recagora.item_space.space import ItemSpace

    _, split = ml100k_split
    catalog = load_dataset("ml-100k").catalog
    ItemSpace.build(catalog)
    facts = ItemFacts.from_catalog(catalog, split.train_interactions.item_counts(len(catalog)))
    _, report = fit_with_report(facts, split, SMALL_FIT)
    assert report.model_log_likelihood > report.popularity_log_likelihood
    assert report.model_ndcg10 > report.popularity_ndcg10
