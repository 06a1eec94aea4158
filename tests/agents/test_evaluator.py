"""The paper evaluator, post writer and subscribers."""

from __future__ import annotations

import asyncio
import json

import numpy as np

from recagora.agents.evaluator import NEUTRAL_SCORE, EvaluatorAgent, EvaluatorConfig, ScorerJudge
from recagora.agents.llm import open_llm
from recagora.agents.papereval.feed import READ, SAVE, SKIP, PostWriterAgent, SubscriberAgent
from recagora.item_space.types import Item


def _by_paper(replies: dict[str, str]):
    """fake: reply chosen by which paper the first user message names; "bad" otherwise (also on re-asks)."""

    def reply(messages, schema):
        first = next(m["content"] for m in messages if m["role"] == "user")
        return next((text for name, text in replies.items() if f"Title: {name}\n" in first), "bad")

    return reply


PAPERS = [
    Item(id=i, key=f"p{i}", title=f"Paper {i}", text=f"We study thing {i}. More.") for i in range(3)
]


def test_judge_scores_rescales_and_counts_failures():
    script = _by_paper(
        {
            "Paper 0": json.dumps({"reasoning": "good", "score": 0.8}),
            "Paper 1": json.dumps({"reasoning": "meh", "score": 7}),
        }
    )
    llm = open_llm("fake:", fake_reply_fn=script, use_cache=False)
    judged = asyncio.run(EvaluatorAgent(llm).judge(PAPERS, [[PAPERS[1]], [], []]))
    assert judged.scores.tolist() == [0.8, 0.7, NEUTRAL_SCORE]
    assert judged.failed.tolist() == [False, False, True] and judged.justifications[0] == "good"


def test_prompt_ablations():
    seen = []

    def script(messages, schema):
        seen.append((messages[-1]["content"], sorted(schema["properties"])))
        return json.dumps({"score": 0.5})

    llm = open_llm("fake:", fake_reply_fn=script, use_cache=False)
    agent = EvaluatorAgent(llm, EvaluatorConfig(retrieval=False, reasoning=False))
    asyncio.run(agent.judge(PAPERS[:1], [[PAPERS[2]]]))
    prompt, fields = seen[0]
    assert "Concurrent work" not in prompt and fields == ["score"]


def test_keyphrase_failure_falls_back_to_the_title():
    llm = open_llm(
        "fake:",
        fake_reply_fn=_by_paper({"Paper 0": json.dumps({"keyphrase": "graph nets"})}),
        use_cache=False,
    )
    phrases, failed, _ = asyncio.run(EvaluatorAgent(llm).keyphrases(PAPERS))
    assert (
        phrases[0] == "graph nets"
        and phrases[1] == "Paper 1"
        and failed.tolist() == [False, True, True]
    )


def test_scorer_judge_uses_the_callable():
    judged = asyncio.run(
        ScorerJudge(lambda papers, refs: [0.1 * p.id for p in papers]).judge(PAPERS, [[]] * 3)
    )
    assert np.allclose(judged.scores, [0.0, 0.1, 0.2]) and not judged.failed.any()


def test_post_writer_falls_back_to_template_on_bad_reply():
    llm = open_llm(
        "fake:",
        fake_reply_fn=_by_paper({"Paper 0": json.dumps({"headline": "H", "post": "P"})}),
        use_cache=False,
    )
    posts, failed, _ = asyncio.run(PostWriterAgent(llm).write(PAPERS[:2], ["", ""]))
    assert (posts[0].headline, posts[0].text) == ("H", "P")
    assert (
        posts[1].headline == "Paper 1"
        and posts[1].text == "We study thing 1."
        and failed.tolist() == [False, True]
    )


def test_subscribers_read_on_topic_and_save_good_papers():
    topics = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    papers = np.array([[1.0, 0.0], [1.0, 0.0]], np.float32)
    actions = SubscriberAgent(["a", "b"], topics).react(
        papers, np.array([0.9, 0.1]), np.random.default_rng(0)
    )
    assert actions.tolist() == [[SAVE, READ], [SKIP, SKIP]]
