"""Reasoner and feedback roles of the grounded loop, on a tiny hand-made catalog."""

from __future__ import annotations

import asyncio
import json

import numpy as np

from recagora.agents.llm import open_llm
from recagora.agents.reasoner import LLMReasoner, SurrogateReasoner, Turn
from recagora.agents.reasoner_feedback import (
    LearnedFeedbackAgent,
    LLMFeedbackAgent,
    SurrogateFeedbackAgent,
)
from recagora.agents.roles.base import ItemFacts
from recagora.agents.surrogate.choice_model import ChoiceModel, ChoiceModelConfig
from recagora.item_space.types import Catalog, Item


def _catalog() -> Catalog:
    items = [Item(id=i, key=str(i), title=f"Game {i}") for i in range(6)]
    vectors = np.eye(6, dtype=np.float32)
    return Catalog(name="tiny", items=items, vectors=vectors, popularity=np.arange(6))


def test_llm_reasoner_reads_replies_and_falls_back_on_bad_ones():
    def script(messages, schema):
        history = next(m["content"] for m in messages if m["role"] == "user").split("\n")[1]
        if history == "- Game 0":
            return json.dumps({"thought": "t", "action": "answer", "title": "Game 4"})
        return (
            "garbage"
            if history == "- Game 2"
            else json.dumps({"action": "search", "title": "<one video games title>"})
        )

    llm = open_llm("fake:", fake_reply_fn=script, use_cache=False)
    reasoner = LLMReasoner(_catalog(), llm)
    moves = asyncio.run(
        reasoner.step(
            [(0, 1), (2,), (3,)], np.zeros((3, 2), np.int64), [(), (), ()], must_answer=False
        )
    )
    assert moves.queries[0] == "Game 4" and moves.answer.tolist() == [True, False, False]
    assert moves.failed.tolist() == [False, True, True]
    assert np.allclose(moves.queries[1], np.eye(6)[2])  # surrogate query: the history centroid


def test_guard_forces_answers():
    reasoner = SurrogateReasoner(_catalog().vectors)
    moves = asyncio.run(reasoner.step([(0,), (1,)], np.zeros((2, 1)), [(), ()], must_answer=True))
    assert moves.answer.all() and not moves.failed.any()


def test_surrogate_answers_once_the_feedback_likes_enough():
    reasoner = SurrogateReasoner(_catalog().vectors)
    assert reasoner.wants_to_answer([Turn("q", (1, 2), "f", (1, 2), ())])
    assert not reasoner.wants_to_answer([Turn("q", (1, 2, 3), "f", (1,), (2, 3))])


def test_surrogate_critic_splits_every_item_by_the_outside_option():
    catalog = _catalog()
    facts = ItemFacts.from_catalog(catalog, np.arange(6))
    # Utility = cosine with the user's mean history vector (weight 1 on feature 0).
    model = ChoiceModel(np.array([1.0, 0.0, 0.0, 0.0]), 1.0, 0.5, ChoiceModelConfig())
    feedback = asyncio.run(SurrogateFeedbackAgent(facts, model).critique([(1,)], [(1, 2, 3)]))
    assert feedback.liked == [(1,)] and feedback.disliked == [(2, 3)]
    assert feedback.texts[0].startswith("Fits: Game 1.")


class _InterestByItem:
    """A user model whose P(yes) is item id / 10, recording what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, tuple[int, ...], int]] = []

    def interest_probabilities(self, users, histories, items):
        self.asked += [
            (int(u), tuple(h), int(i)) for u, h, i in zip(users, histories, items, strict=True)
        ]
        return np.asarray(items, float) / 10


def test_learned_critic_likes_what_the_user_model_would_watch():
    facts = ItemFacts.from_catalog(_catalog(), np.arange(6))
    model = _InterestByItem()
    critic = LearnedFeedbackAgent(facts, model)
    # User 0 sees (2, 5, 4): P(yes) 0.2, 0.5, 0.4; user 1 a short list (5,) padded to width 3.
    feedback = asyncio.run(critic.critique([(0, 1), (3,)], [(2, 5, 4), (5,)]))
    assert feedback.liked == [(5,), (5,)] and feedback.disliked == [(2, 4), ()]
    assert feedback.texts[0] == "Fits: Game 5. Does not fit: Game 2; Game 4."
    # Each item is asked alone with its own user's history (Agent4Rec's yes/no question).
    assert model.asked[:3] == [(0, (0, 1), 2), (0, (0, 1), 5), (0, (0, 1), 4)]
    assert {(u, h) for u, h, _ in model.asked[3:]} == {(1, (3,))}
    assert not feedback.failed.any()


def test_learned_critic_with_nothing_grounded_says_so():
    critic = LearnedFeedbackAgent(
        ItemFacts.from_catalog(_catalog(), np.arange(6)), _InterestByItem()
    )
    feedback = asyncio.run(critic.critique([(0,)], [()]))
    assert feedback.texts == ["Nothing was found."] and feedback.liked == [()]


def test_llm_critic_ignores_out_of_range_numbers():
    facts = ItemFacts.from_catalog(_catalog(), np.arange(6))
    llm = open_llm(
        "fake:",
        fake_replies=[json.dumps({"fits": [2, 9], "misfits": [1, 2], "feedback": "x"})],
        use_cache=False,
    )
    feedback = asyncio.run(LLMFeedbackAgent(facts, llm).critique([(0,)], [(3, 4)]))
    assert feedback.liked == [(4,)] and feedback.disliked == [(3,)] and not feedback.failed.any()


def test_prompt_marks_the_last_search_and_shortens_older_ones():
    reasoner = LLMReasoner(_catalog(), open_llm("fake:", use_cache=False))
    turns = (Turn("q1", (1, 2), "f", (1,), (2,)), Turn("q2", (3, 4), "f", (3,), (4,), "more"))
    prompt = reasoner._prompt((0,), (5,), turns, must_answer=False)
    assert "- fits: Game 1\n" in prompt and "Game 2" not in prompt  # older search: fits only
    assert "- Game 3 (fits)\n- Game 4 (does not fit)\n" in prompt
    assert "The user agent adds: more" in prompt and "<" not in prompt  # nothing to copy


def test_llm_critic_remark_is_kept_apart_from_the_marks():
    facts = ItemFacts.from_catalog(_catalog(), np.arange(6))
    reply = json.dumps({"fits": [1], "misfits": [], "feedback": "more puzzles"})
    llm = open_llm("fake:", fake_replies=[reply], use_cache=False)
    feedback = asyncio.run(LLMFeedbackAgent(facts, llm).critique([(0,)], [(3, 4)]))
    assert feedback.remarks == ["more puzzles"] and feedback.texts[0].endswith("more puzzles")
