"""Explainers: what each writes, and how a user that cannot read perceives their texts."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from recagora.agents.explainers import (
    LLMExplainer,
    NoExplainer,
    RestateExplainer,
    TemplateExplainer,
    nearest_history,
)
from recagora.agents.llm import open_llm
from recagora.agents.roles.base import Promotions, build_cohort
from recagora.agents.roles.user_surrogate import SurrogateUserAgent, SurrogateUserConfig
from recagora.agents.surrogate.choice_model import ChoiceModel, ChoiceModelConfig
from recagora.item_space.embedding import HashingEmbedder

HISTORY = (0, 1, 49, 55, 97)  # Toy Story, GoldenEye, Mighty Aphrodite, Professional, Fantasia
SHOWN = np.array([[171, 312, 6]])


def _explain(explainer, shown=SHOWN, users=("u1",), histories=(HISTORY,)):
    return asyncio.run(explainer.explain(list(users), list(histories), shown))


def _reader(facts, weight: float = 0.5) -> SurrogateUserAgent:
    """A surrogate user whose utility is its two embedding affinities (no fit needed)."""
    model = ChoiceModel(np.array([1.0, 1.0, 0.0, 0.0]), 1.0, 0.0, ChoiceModelConfig())
    return SurrogateUserAgent(facts, model, embedder=HashingEmbedder(),
                              config=SurrogateUserConfig(promotion_weight=weight))


def _utilities(user, facts, texts):
    cohort = build_cohort(facts, ["u1"], [HISTORY], ["m"])
    return user.utilities(cohort, np.array([0]), SHOWN, Promotions.from_texts(texts))


def test_none_writes_nothing_and_restate_writes_the_items_own_text(hashed_ml100k):
    _, facts = hashed_ml100k
    assert _explain(NoExplainer(facts)) == [["", "", ""]]
    restated = _explain(RestateExplainer(facts))[0]
    assert restated == [facts.catalog.items[i].embedding_text() for i in SHOWN[0]]


def test_template_names_the_nearest_history_items_and_shared_genres(hashed_ml100k):
    _, facts = hashed_ml100k
    text = _explain(TemplateExplainer(facts))[0][0]
    nearest = nearest_history(facts.vectors, HISTORY, 171, 2)
    sims = facts.vectors[list(HISTORY)] @ facts.vectors[171]
    assert nearest[0] == HISTORY[int(np.argmax(sims))] and len(nearest) == 2
    assert all(facts.catalog.items[i].title in text for i in nearest)
    assert facts.catalog.items[171].title in text


def test_restating_the_item_changes_no_perceived_utility(hashed_ml100k):
    _, facts = hashed_ml100k
    user = _reader(facts)
    plain = _utilities(user, facts, [["", "", ""]])
    restated = _utilities(user, facts, _explain(RestateExplainer(facts)))
    np.testing.assert_allclose(restated, plain, atol=1e-5)


def test_text_that_relates_the_item_to_the_users_history_raises_its_perceived_relevance(hashed_ml100k):
    _, facts = hashed_ml100k
    user = _reader(facts)
    about_user = " ".join(facts.catalog.items[i].embedding_text() for i in HISTORY)
    unrelated = "Astronomy lectures on black holes and galaxies"
    plain = _utilities(user, facts, [["", "", ""]])
    related = _utilities(user, facts, [[about_user, "", ""]])
    elsewhere = _utilities(user, facts, [[unrelated, "", ""]])
    assert related[0, 0] > plain[0, 0] > elsewhere[0, 0]
    np.testing.assert_allclose(related[0, 1:], plain[0, 1:])  # other items unread
    unread = _reader(facts, weight=0.0)
    np.testing.assert_allclose(_utilities(unread, facts, [[about_user, "", ""]]), plain)


def test_llm_explainer_asks_once_per_user_and_item_and_keeps_one_line():
    asked = []

    def reply(messages, schema):
        asked.append(messages[-1]["content"])
        return "It suits you.\nSecond line ignored."

    from recagora.item_space.datasets import load_dataset

    catalog = load_dataset("ml-100k").catalog
    facts = type("Facts", (), {"catalog": catalog})()
    explainer = LLMExplainer(facts, llm=open_llm("fake:", fake_reply_fn=reply, use_cache=False))
    first = _explain(explainer)
    again = _explain(explainer)
    assert first == again == [["It suits you."] * 3] and len(asked) == 3
    assert catalog.items[HISTORY[-1]].title in asked[0] and catalog.items[171].title in asked[0]
    with pytest.raises(ValueError, match="needs an LLM client"):
        LLMExplainer(facts)
