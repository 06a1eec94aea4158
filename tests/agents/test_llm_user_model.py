"""The LLM as a `UserModel` (one forward pass per question) and the LLM user's
score_format=logprob, over the real LLM layer: scripted `fake:` logprobs, then SmolLM2
on a real llama.cpp server."""

from __future__ import annotations

import asyncio
import json
import math
import re

import numpy as np
import pytest

from recagora.agents.llm import open_llm
from recagora.agents.llm_user_model import LLMUserModel
from recagora.agents.roles.base import Promotions, build_cohort
from recagora.agents.roles.persona import persona_memory
from recagora.agents.roles.user_llm import LLMUserAgent, LLMUserConfig
from recagora.item_space.user_model import UserModel

QUESTION = re.compile(r'"([^"]+)"')


def _logprobs(yes: float) -> str:
    return json.dumps({"Yes": math.log(yes), "No": math.log(1 - yes), "The": math.log(0.01)})


def _scripted(yes_titles: set[str], stars: dict[str, float] | None = None):
    """A fake LLM: P(yes) = 0.9 for `yes_titles`, 0.2 otherwise; star digits per `stars`."""

    def reply(messages, schema):
        prompt = messages[-1]["content"]
        title = QUESTION.findall(prompt)[-1]  # the question names its item in quotes
        if "stars" in prompt:
            return json.dumps({d: math.log(p) for d, p in (stars or {"4": 1.0}).items()})
        return _logprobs(0.9 if title in yes_titles else 0.2)

    return reply


def test_yes_probabilities_choice_rows_and_star_distributions(ml100k_split):
    dataset, split = ml100k_split
    catalog = dataset.catalog
    histories = [[0, 1, 2], [3, 4]]
    items = np.array([10, 11])
    liked = {catalog[10].title}
    stars = {"5": 0.5, "4": 0.3, "1": 0.2}
    with open_llm("fake:", fake_reply_fn=_scripted(liked, stars)) as llm:
        model = LLMUserModel(catalog, llm, domain="movies")
        assert isinstance(model, UserModel)
        interest = model.interest_probabilities([0, 1], histories, items)
        choice = model.choice_probabilities(
            [0, 1], histories, np.array([[10, 11, 12], [12, 13, 10]])
        )
        ratings = model.rating_probabilities([0, 1], histories, items, np.arange(1, 6))
    np.testing.assert_allclose(interest, [0.9, 0.2])
    np.testing.assert_allclose(choice.sum(axis=1), 1.0)
    np.testing.assert_allclose(choice[0], np.array([0.9, 0.2, 0.2]) / 1.3)
    np.testing.assert_allclose(ratings, [[0.2, 0, 0, 0.3, 0.5]] * 2)
    assert model.failures == 0 and model.questions == 2 + 6 + 2


def test_the_persona_holds_training_titles_only(ml100k_split):
    dataset, split = ml100k_split
    train = split.train_interactions.histories()
    user = sorted(train)[0]
    held_out = next(s for s in split.test if s.user == user).target
    with open_llm("fake:", fake_reply_fn=_scripted(set())) as llm:
        persona = LLMUserModel(dataset.catalog, llm).persona(train[user].items)
    assert dataset.catalog[held_out].title not in persona
    assert dataset.catalog[train[user].items[-1]].title in persona


def test_an_answer_that_is_neither_yes_nor_no_counts_and_falls_back(ml100k_split):
    dataset, _ = ml100k_split
    with open_llm("fake:", fake_replies=[json.dumps({"Maybe": -0.1})]) as llm:
        model = LLMUserModel(dataset.catalog, llm)
        interest = model.interest_probabilities([0], [[1, 2]], np.array([5]))
        stars = model.rating_probabilities([0], [[1, 2]], np.array([5]), np.array([0.5, 1.0]))
    np.testing.assert_allclose(interest, [0.5])
    assert model.failures == 1
    assert stars is None  # half stars are not one token: no rating section


def test_the_llm_user_scores_candidates_by_its_yes_probability(ml100k_split, hashed_ml100k):
    _, split = ml100k_split
    _, facts = hashed_ml100k
    histories = split.train_interactions.histories()
    keys = sorted(histories)[:2]
    memories = [persona_memory(facts, histories[k].items) for k in keys]
    cohort = build_cohort(facts, keys, [histories[k].items for k in keys], memories)
    candidates = np.array([[20, 21, 22], [23, 20, 24]])
    liked = {facts.catalog[20].title}
    with open_llm("fake:", fake_reply_fn=_scripted(liked)) as llm:
        agent = LLMUserAgent(facts, llm, LLMUserConfig(score_format="logprob", domain="movies"))
        scores = asyncio.run(
            agent.score(cohort, np.arange(2), candidates, Promotions.empty((2, 3)))
        )
    np.testing.assert_allclose(scores.scores, [[9, 2, 2], [2, 9, 2]])
    assert scores.complete.all()
    assert scores.events[0]["calls"][0]["yes_mass"] == pytest.approx(1.0)


@pytest.mark.llm
@pytest.mark.slow
def test_smollm2_answers_every_question_through_logprobs(ml100k_split, tmp_path):
    dataset, split = ml100k_split
    train = split.train_interactions.histories()
    users = sorted(train)[:3]
    samples = [next(s for s in split.test if s.user == u) for u in users]
    with open_llm("llamacpp:smollm2", cache_dir=tmp_path) as llm:
        model = LLMUserModel(dataset.catalog, llm, domain="movies")
        histories = [train[u].items for u in users]
        interest = model.interest_probabilities(
            users, histories, np.array([s.target for s in samples])
        )
        stars = model.rating_probabilities(
            users, histories, np.array([s.target for s in samples]), np.arange(1, 6)
        )
    assert model.failures == 0
    assert ((interest > 0) & (interest < 1)).all()
    np.testing.assert_allclose(stars.sum(axis=1), 1.0)
