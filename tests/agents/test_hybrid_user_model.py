"""The hybrid user (learned decisions + the LLM's P(yes)) over scripted `fake:` logprobs
on ML-100K; the wrapped learned model is a stub UserModel (a test double), the blend's
own arithmetic is checked against the formula."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from pydantic import ValidationError

from recagora.agents.hybrid_user_model import (
    HybridConfig,
    HybridUserModel,
    blend_choice,
    select_weight,
)
from recagora.agents.llm import open_llm
from recagora.agents.llm_user_model import LLMUserModel
from recagora.item_space.fidelity.heldout import FidelityError
from recagora.item_space.user_model import UserModel

QUESTION = re.compile(r'"([^"]+)"')
LIKED, OTHER = 0.9, 0.2


class StubLearned:
    """A learned-model double: item-dependent scores, 0.8 of each row on the candidates
    (0.2 left to the outside option), fixed interest and a fixed star distribution."""

    name = "stub-learned"

    def __init__(self, mass: float = 0.8) -> None:
        self.mass = mass

    def choice_probabilities(self, users, histories, candidates):
        scores = np.exp((np.asarray(candidates) % 7) / 3.0)
        return self.mass * scores / scores.sum(axis=1, keepdims=True)

    def interest_probabilities(self, users, histories, items):
        return 0.3 + (np.asarray(items) % 5) * 0.1

    def rating_probabilities(self, users, histories, items, levels):
        return np.tile([0.1, 0.1, 0.2, 0.3, 0.3], (len(items), 1))


def _scripted(yes_titles: set[str]):
    """A fake LLM: P(yes) = 0.9 for `yes_titles`, 0.2 for any other title."""

    def reply(messages, schema):
        title = QUESTION.findall(messages[-1]["content"])[-1]
        yes = LIKED if title in yes_titles else OTHER
        return json.dumps({"Yes": math.log(yes), "No": math.log(1 - yes)})

    return reply


USERS = [0, 1]
HISTORIES = [[0, 1, 2], [3, 4]]
CANDIDATES = np.array([[10, 11, 12, 13], [20, 21, 22, 23]])


@pytest.fixture()
def liked_llm(ml100k_split):
    """An LLM user that likes candidate 12 of row 0 and 23 of row 1, nothing else."""
    dataset, _ = ml100k_split
    liked = {dataset.catalog[12].title, dataset.catalog[23].title}
    others = {dataset.catalog[int(i)].title for i in CANDIDATES.reshape(-1) if i not in (12, 23)}
    assert not liked & others  # the fake answers by title: they must tell the items apart
    with open_llm("fake:", fake_reply_fn=_scripted(liked)) as llm:
        yield LLMUserModel(dataset.catalog, llm)


def test_weight_zero_is_the_learned_model_and_never_asks_the_llm(liked_llm):
    learned = StubLearned()
    hybrid = HybridUserModel(learned, liked_llm)
    assert isinstance(hybrid, UserModel)
    np.testing.assert_array_equal(
        hybrid.choice_probabilities(USERS, HISTORIES, CANDIDATES),
        learned.choice_probabilities(USERS, HISTORIES, CANDIDATES),
    )
    items = np.array([10, 23])
    np.testing.assert_array_equal(
        hybrid.interest_probabilities(USERS, HISTORIES, items),
        learned.interest_probabilities(USERS, HISTORIES, items),
    )
    assert liked_llm.questions == 0


def test_the_choice_blend_is_the_formula_and_keeps_the_learned_mass(liked_llm):
    learned = StubLearned(mass=0.8)
    hybrid = HybridUserModel(learned, liked_llm, HybridConfig(weight=0.7))
    got = hybrid.choice_probabilities(USERS, HISTORIES, CANDIDATES)
    p = learned.choice_probabilities(USERS, HISTORIES, CANDIDATES)
    yes = np.where(np.isin(CANDIDATES, [12, 23]), LIKED, OTHER)
    score = np.exp(np.log(p) + 0.7 * np.log(yes / (1 - yes)))
    np.testing.assert_allclose(got, 0.8 * score / score.sum(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 0.8)  # the outside option keeps its 0.2
    assert liked_llm.questions == CANDIDATES.size and liked_llm.failures == 0


def test_rows_sum_to_one_when_the_learned_model_always_chooses(liked_llm):
    hybrid = HybridUserModel(StubLearned(mass=1.0), liked_llm, HybridConfig(weight=1.5))
    rows = hybrid.choice_probabilities(USERS, HISTORIES, CANDIDATES)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    assert (rows > 0).all()


def test_a_large_weight_follows_the_llm_against_the_learned_model(liked_llm):
    learned = StubLearned(mass=1.0)
    p = learned.choice_probabilities(USERS, HISTORIES, CANDIDATES)
    # The stub ranks another candidate first in both rows: the LLM must overturn it.
    assert CANDIDATES[0, p[0].argmax()] != 12 and CANDIDATES[1, p[1].argmax()] != 23
    rows = HybridUserModel(learned, liked_llm, HybridConfig(weight=20.0)).choice_probabilities(
        USERS, HISTORIES, CANDIDATES
    )
    assert list(CANDIDATES[np.arange(2), rows.argmax(axis=1)]) == [12, 23]
    assert rows.max(axis=1).min() > 0.99


def test_interest_adds_logits_and_ratings_are_the_learned_models(liked_llm):
    learned = StubLearned()
    hybrid = HybridUserModel(learned, liked_llm, HybridConfig(weight=2.0))
    items = np.array([12, 21])
    got = hybrid.interest_probabilities(USERS, HISTORIES, items)
    q = learned.interest_probabilities(USERS, HISTORIES, items)
    yes = np.array([LIKED, OTHER])
    expected = 1 / (1 + np.exp(-(np.log(q / (1 - q)) + 2.0 * np.log(yes / (1 - yes)))))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got[0] > q[0] and got[1] < q[1]
    levels = np.arange(1, 6)
    np.testing.assert_array_equal(
        hybrid.rating_probabilities(USERS, HISTORIES, items, levels),
        learned.rating_probabilities(USERS, HISTORIES, items, levels),
    )


def test_a_zero_learned_probability_stays_zero():
    learned = np.array([[0.0, 0.5, 0.5]])
    rows = blend_choice(learned, np.array([[0.99, 0.1, 0.1]]), weight=3.0)
    assert rows[0, 0] == 0.0
    np.testing.assert_allclose(rows.sum(), 1.0)


def test_the_weight_must_not_be_negative():
    with pytest.raises(ValidationError):
        HybridConfig(weight=-1.0)


def _validation_titles(dataset, split, keep_yes: bool) -> set[str]:
    """Titles an LLM should say yes to: the validation targets' (keep_yes) or every
    other title (an LLM that is wrong about every validation target)."""
    targets = {dataset.catalog[s.target].title for s in split.valid}
    if keep_yes:
        return targets
    return {item.title for item in dataset.catalog} - targets


@pytest.mark.parametrize("helpful, expected", [(True, 2.0), (False, 0.0)])
def test_the_validation_grid_picks_the_weight_with_the_best_log_likelihood(
    ml100k_split, helpful, expected
):
    dataset, split = ml100k_split
    titles = _validation_titles(dataset, split, keep_yes=helpful)
    grid = (0.0, 0.5, 2.0)
    with open_llm("fake:", fake_reply_fn=_scripted(titles)) as llm:
        llm_user = LLMUserModel(dataset.catalog, llm)
        choice = select_weight(
            StubLearned(), llm_user, split, len(dataset.catalog), grid=grid, users=12, seed=3
        )
        again = select_weight(
            StubLearned(), llm_user, split, len(dataset.catalog), grid=grid, users=12, seed=3
        )
    assert choice.weight == expected and choice.users == 12
    assert choice.log_likelihood[expected] == max(choice.log_likelihood.values())
    ordered = [choice.log_likelihood[w] for w in grid]
    assert ordered == sorted(ordered, reverse=not helpful)  # monotone in w on this script
    assert again == choice  # seeded: the same users, negatives and answer
    assert llm_user.failures == 0
    hybrid = HybridUserModel(StubLearned(), llm_user, HybridConfig(weight=choice.weight))
    assert hybrid.fit_summary() == {"weight": expected}
    hybrid.selection = choice
    summary = hybrid.fit_summary()  # what the fidelity report shows
    assert summary["weight"] == expected and summary["validation_users"] == 12
    assert summary["validation_log_likelihood"] == {str(w): choice.log_likelihood[w] for w in grid}


def test_select_weight_refuses_a_choice_of_one_in_one_line(ml100k_split):
    dataset, split = ml100k_split
    with pytest.raises(FidelityError, match="at least 2"):
        select_weight(StubLearned(), StubLearned(), split, len(dataset.catalog), candidates=1)
