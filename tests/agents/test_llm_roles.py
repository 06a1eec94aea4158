"""The LLM user and item agents over the real LLM layer with the scripted `fake:` backend."""

from __future__ import annotations

import asyncio
import json
import re

import numpy as np
import pytest

from recagora.agents.llm import open_llm
from recagora.agents.roles.base import Promotions, build_cohort
from recagora.agents.roles.item_llm import LLMItemAgent
from recagora.agents.roles.item_memory import GENERIC_AUDIENCE, ItemAgentConfig
from recagora.agents.roles.persona import clip_words, item_facts_text, persona_memory
from recagora.agents.roles.user_llm import LLMUserAgent, LLMUserConfig

CANDIDATE_LINE = re.compile(r"^(\d+) \| ", re.MULTILINE)


class CountingLLM:
    """Delegates to a real client and counts structured batches (one per role step expected)."""

    def __init__(self, inner):
        self.inner, self.spec, self.batches = inner, inner.spec, []

    async def structured_batch(self, requests, schema):
        self.batches.append((schema.__name__, len(requests)))
        return await self.inner.structured_batch(requests, schema)


@pytest.fixture()
def cohort(ml100k_split, hashed_ml100k):
    _, split = ml100k_split
    _, facts = hashed_ml100k
    histories = split.train_interactions.histories()
    keys = sorted(histories)[:3]
    memories = [persona_memory(facts, histories[k].items, histories[k].ratings) for k in keys]
    return build_cohort(facts, keys, [histories[k].items for k in keys], memories)


def _candidates(cohort, n=10):
    return np.array([[i for i in range(1, 1600) if i not in h][:n] for h in cohort.histories])


def _numbers(prompt: str) -> list[int]:
    return [int(n) for n in CANDIDATE_LINE.findall(prompt)]


def test_partial_replies_are_asked_again_with_a_hint_naming_the_unscored_ids(hashed_ml100k, cohort):
    _, facts = hashed_ml100k
    prompts: list[str] = []

    def reply(messages, schema):
        prompt = messages[-1]["content"]
        prompts.append(prompt)
        numbers = _numbers(prompt)
        if "did not score" not in prompt:  # first ask: skip 7-10, score 2 twice
            entries = [{"id": n, "score": n / 2} for n in numbers[:6]] + [{"id": 2, "score": 9}]
        else:
            entries = [{"id": n, "score": n / 2} for n in numbers]
        return json.dumps({"scores": entries, "reason": "fits my taste"})

    with open_llm("fake:", fake_reply_fn=reply) as inner:
        llm = CountingLLM(inner)
        scores = asyncio.run(
            LLMUserAgent(facts, llm).score(
                cohort, cohort.active_indices(), _candidates(cohort), Promotions.empty((3, 10))
            )
        )
    hinted = [p for p in prompts if "did not score" in p]
    assert len(hinted) == 3
    assert "did not score IDs 7, 8, 9, 10 and scored IDs 2 more than once" in hinted[0]
    assert llm.batches == [
        ("ScoreReply", 3),
        ("ScoreReply", 3),
    ]  # one batch per attempt, whole cohort
    assert scores.complete.all()
    np.testing.assert_allclose(scores.scores[0], np.arange(1, 11) / 2)
    assert [e["attempts"] for e in scores.events] == [2, 2, 2]


def test_ids_never_scored_after_three_retries_get_zero_at_the_tail(hashed_ml100k, cohort):
    _, facts = hashed_ml100k

    def reply(messages, schema):
        numbers = _numbers(messages[-1]["content"])
        return json.dumps(
            {
                "scores": [{"id": n, "score": 8} for n in numbers[:4]] + [{"id": 42, "score": 10}],
                "reason": "ok",
            }
        )

    with open_llm("fake:", fake_reply_fn=reply) as llm:
        scores = asyncio.run(
            LLMUserAgent(facts, llm, LLMUserConfig(max_retries=3)).score(
                cohort, np.array([1]), _candidates(cohort)[:1], Promotions.empty((1, 10))
            )
        )
    assert scores.scores[0].tolist() == [8.0] * 4 + [0.0] * 6  # out-of-range ID 42 dropped
    assert not scores.complete[0] and scores.events[0]["attempts"] == 4


def test_keyed_score_format_asks_one_field_per_candidate_and_maps_them_back(hashed_ml100k, cohort):
    _, facts = hashed_ml100k
    seen = []

    def reply(messages, schema):
        seen.append(schema)
        assert '"id_10"' in messages[-1]["content"]
        return json.dumps({**{f"id_{n}": 11 - n for n in range(1, 11)}, "reason": "ok"})

    with open_llm("fake:", fake_reply_fn=reply) as llm:
        scores = asyncio.run(
            LLMUserAgent(facts, llm, LLMUserConfig(score_format="keyed")).score(
                cohort, np.array([0]), _candidates(cohort)[:1], Promotions.empty((1, 10))
            )
        )
    # The schema sent to the server requires every ID: a grammar built from it cannot skip one.
    assert seen[0]["required"] == [f"id_{n}" for n in range(1, 11)] + ["reason"]
    assert scores.complete[0] and scores.scores[0].tolist() == list(range(10, 0, -1))


def test_an_unknown_score_format_is_a_one_line_config_error():
    from recagora.item_space.errors import ConfigError

    with pytest.raises(ConfigError, match="did you mean 'keyed'"):
        LLMUserConfig(score_format="keyd")


def test_invalid_replies_are_counted_not_crashing(hashed_ml100k, cohort):
    _, facts = hashed_ml100k
    with open_llm("fake:", fake_replies=["I would watch all of them!"]) as llm:
        agent = LLMUserAgent(facts, llm, LLMUserConfig(max_retries=1))
        scores = asyncio.run(
            agent.score(
                cohort, cohort.active_indices(), _candidates(cohort), Promotions.empty((3, 10))
            )
        )
        slates = _candidates(cohort)
        response = asyncio.run(
            agent.respond(
                cohort,
                cohort.active_indices(),
                slates,
                Promotions.empty((3, 10)),
                np.random.default_rng(0),
            )
        )
    assert (scores.scores == 0).all() and not scores.complete.any()
    assert [e["invalid_replies"] for e in scores.events] == [2, 2, 2]
    assert (response.chosen == -1).all() and all(e["invalid_reply"] for e in response.events)
    np.testing.assert_allclose(response.round_satisfaction, cohort.satisfaction)  # unchanged


def test_respond_and_reflect_map_ids_to_items_and_rewrite_the_memory(hashed_ml100k, cohort):
    _, facts = hashed_ml100k

    def reply(messages, schema):
        if "satisfaction" in json.dumps(schema):
            return json.dumps({"chosen": [3, 99], "satisfaction": 8, "reason": "a good list"})
        return json.dumps(
            {"memory": "I now love slow dramas and still enjoy comedies; I dislike horror."}
        )

    slates = _candidates(cohort)
    idx = cohort.active_indices()
    with open_llm("fake:", fake_reply_fn=reply) as llm:
        agent = LLMUserAgent(facts, llm)
        response = asyncio.run(
            agent.respond(cohort, idx, slates, Promotions.empty((3, 10)), np.random.default_rng(0))
        )
        after, events = asyncio.run(
            agent.reflect(cohort, idx, slates, response, np.random.default_rng(0))
        )
    assert response.chosen.tolist() == slates[:, 2].tolist()
    np.testing.assert_allclose(response.round_satisfaction, 0.8)
    assert all(h[-1] == c for h, c in zip(after.histories, slates[:, 2].tolist(), strict=True))
    assert after.memories[0].startswith("I now love slow dramas") and after.active.all()
    assert sum(e["kind"] == "reflect" and e["accepted"] for e in events) == 3


def test_mode_none_makes_no_call_and_the_user_reads_each_items_facts(hashed_ml100k, cohort):
    """TriRec's none arm: no item call; the user's Ad column holds the item's catalog facts."""
    _, facts = hashed_ml100k
    prompts = []

    def score_only(messages, schema):
        assert "promotion" not in json.dumps(schema), "mode none must not call the item LLM"
        prompts.append(messages[-1]["content"])
        return json.dumps({"scores": [{"id": n, "score": 5} for n in range(1, 5)], "reason": "ok"})

    candidates = _candidates(cohort, 4)
    with open_llm("fake:", fake_reply_fn=score_only) as llm:
        agent = LLMItemAgent(facts, llm, ItemAgentConfig(mode="none"))
        idx = cohort.active_indices()
        promos = asyncio.run(agent.promote(agent.init_state(), cohort, idx, candidates))
        asyncio.run(LLMUserAgent(facts, llm).score(cohort, idx, candidates, promos))
    assert len(prompts) == len(idx) and all("(no ad)" not in p for p in prompts)
    for prompt, items in zip(prompts, candidates.tolist(), strict=True):
        for number, item in enumerate(items, start=1):
            entry = facts.catalog[item]
            facts_line = clip_words(item_facts_text(entry), 50)
            assert facts_line.startswith(entry.title)  # the title is shown once, not twice
            rest = facts_line[len(entry.title) :].lstrip(" .:-")
            assert f"{number} | {entry.title} | {rest}\n" in prompt


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("personalized", "I enjoy movies"),
        ("generic", GENERIC_AUDIENCE),
        ("grounded", "The ONLY facts"),
    ],
)
def test_promotion_prompts_follow_the_mode_and_ads_are_cut_to_50_words(
    hashed_ml100k, cohort, mode, expected
):
    _, facts = hashed_ml100k
    prompts = []

    def reply(messages, schema):
        prompts.append(messages[-1]["content"])
        return json.dumps({"promotion": "word " * 70})

    with open_llm("fake:", fake_reply_fn=reply) as inner:
        llm = CountingLLM(inner)
        promos = asyncio.run(
            LLMItemAgent(facts, llm, ItemAgentConfig(mode=mode)).promote(
                ItemMemoryStateFactory(), cohort, cohort.active_indices(), _candidates(cohort, 4)
            )
        )
    assert llm.batches == [("PromotionReply", 12)]
    assert all(expected in p for p in prompts)
    assert all(len(t.split()) == 50 for row in promos.texts for t in row)
    assert promos.events[0]["clipped"] == 12


def ItemMemoryStateFactory():  # noqa: N802 - reads like the type it builds
    from recagora.agents.roles.base import ItemMemoryState

    return ItemMemoryState()


def test_item_memory_rewrite_every_three_promotions_and_long_rewrites_rejected(
    hashed_ml100k, cohort
):
    _, facts = hashed_ml100k
    rewrites = []

    def reply(messages, schema):
        if "promotion" in json.dumps(schema):
            return json.dumps({"promotion": "A tender drama for viewers who like quiet films."})
        rewrites.append(messages[-1]["content"])
        return json.dumps(
            {
                "memory": "Quiet drama; promoted to drama fans."
                if len(rewrites) == 1
                else "long " * 90
            }
        )

    item, one = np.array([[7]]), np.array([0])
    with open_llm("fake:", fake_reply_fn=reply) as llm:
        agent = LLMItemAgent(facts, llm)
        state = agent.init_state()
        for served in range(1, 7):
            promos = asyncio.run(agent.promote(state, cohort, one, item))
            state, events = asyncio.run(agent.update_memory(state, cohort, one, item, promos))
            assert len(rewrites) == served // 3 and len(state.buffers.get(7, ())) == served % 3
    assert rewrites[0].count("Audience: users whose profile indicates: I enjoy movies") == 3
    assert (
        state.memories[7] == "Quiet drama; promoted to drama fans."
    )  # the 90-word rewrite was rejected
    assert events[0]["accepted"] is False and state.rewrites[7] == 1
