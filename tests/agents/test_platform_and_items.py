"""Platform candidates/re-ranking over the ML-100K item space, and the template item agent."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from recagora.agents.roles.base import ItemMemoryState, Scores, build_cohort
from recagora.agents.roles.item_memory import ItemAgentConfig
from recagora.agents.roles.item_surrogate import TemplateItemAgent
from recagora.agents.roles.persona import clip_words, item_facts_text, persona_memory
from recagora.agents.roles.platform import PlatformConfig, TriRecPlatform
from recagora.item_space.errors import ConfigError


@pytest.fixture()
def cohort(ml100k_split, hashed_ml100k):
    _, split = ml100k_split
    _, facts = hashed_ml100k
    histories = split.train_interactions.histories()
    keys = sorted(histories)[:12]
    memories = [persona_memory(facts, histories[k].items, histories[k].ratings) for k in keys]
    return build_cohort(facts, keys, [histories[k].items for k in keys], memories)


def test_candidates_come_from_the_item_space_and_never_repeat_the_history(hashed_ml100k, cohort):
    space, facts = hashed_ml100k
    idx = cohort.active_indices()
    for source in (space, None):  # the FAISS item space, and the exact numpy fallback
        found = TriRecPlatform(facts, source).candidates(cohort, idx, np.random.default_rng(0))
        assert found.shape == (12, 10) and (found >= 0).all()
        assert not any(
            set(row) & set(cohort.histories[i]) for i, row in zip(idx, found.tolist(), strict=True)
        )
    exact = TriRecPlatform(facts, None).candidates(cohort, idx, np.random.default_rng(0))
    faiss = TriRecPlatform(facts, space).candidates(cohort, idx, np.random.default_rng(0))
    assert (exact == faiss).mean() > 0.9  # same maths (ties may order differently)


def test_paper_protocol_puts_the_target_in_and_shuffles_with_the_seed(hashed_ml100k, cohort):
    _, facts = hashed_ml100k
    platform = TriRecPlatform(facts)
    idx = cohort.active_indices()
    targets = np.array(
        [next(i for i in range(len(facts)) if i not in cohort.histories[u]) for u in idx]
    )
    first = platform.candidates(cohort, idx, np.random.default_rng(5), targets=targets)
    again = platform.candidates(cohort, idx, np.random.default_rng(5), targets=targets)
    assert (first == targets[:, None]).any(axis=1).all()
    assert first.tolist() == again.tolist()


def test_rerank_returns_permutations_and_accumulates_exposure(hashed_ml100k, cohort):
    _, facts = hashed_ml100k
    platform = TriRecPlatform(facts, None, PlatformConfig(log_slates=False))
    idx = cohort.active_indices()
    cands = platform.candidates(cohort, idx, np.random.default_rng(0))
    scores = Scores(
        np.random.default_rng(1).uniform(0, 10, cands.shape), np.ones(12, bool), [""] * 12
    )
    first = platform.rerank(platform.init_exposure(), cohort, idx, cands, scores)
    assert all(
        sorted(a) == sorted(b) for a, b in zip(first.slates.tolist(), cands.tolist(), strict=True)
    )
    assert (np.take_along_axis(cands, first.order, 1) == first.slates).all()
    second = platform.rerank(first.exposure, cohort, idx, cands, scores)
    assert second.exposure.total == pytest.approx(2 * first.exposure.total)
    assert platform.p_train.sum() == pytest.approx(1.0) and len(platform.p_train) == 8


def test_mode_none_shows_each_candidates_own_catalog_facts_and_buffers_nothing(
    hashed_ml100k, cohort
):
    """TriRec's none arm shows the item's raw memory (its catalog facts), not an empty ad."""
    _, facts = hashed_ml100k
    agent = TemplateItemAgent(facts, ItemAgentConfig(mode="none"))
    idx = cohort.active_indices()
    cands = TriRecPlatform(facts).candidates(cohort, idx, np.random.default_rng(0))
    promos = asyncio.run(agent.promote(agent.init_state(), cohort, idx, cands))
    for row, items in enumerate(cands.tolist()):
        expected = [clip_words(item_facts_text(facts.catalog[i]), 50) for i in items]
        assert promos.row(row) == expected
    assert promos.ids.all() and len(set(promos.table)) == len(promos.table)
    assert any("Categories: " in t for t in promos.table)  # more than the title alone
    state, events = asyncio.run(agent.update_memory(agent.init_state(), cohort, idx, cands, promos))
    assert state == ItemMemoryState() and events == []


def test_personalized_promotions_name_shared_categories_and_stay_short(hashed_ml100k, cohort):
    _, facts = hashed_ml100k
    agent = TemplateItemAgent(facts, ItemAgentConfig(mode="personalized"))
    idx = cohort.active_indices()
    cands = TriRecPlatform(facts).candidates(cohort, idx, np.random.default_rng(0))
    promos = asyncio.run(agent.promote(agent.init_state(), cohort, idx, cands))
    texts = [t for row in promos.texts for t in row]
    assert all(0 < len(t.split()) <= 50 for t in texts)
    assert any("like you" in t for t in texts)
    generic = asyncio.run(
        TemplateItemAgent(facts, ItemAgentConfig(mode="generic")).promote(
            ItemMemoryState(), cohort, idx, cands
        )
    )
    assert not any("like you" in t for row in generic.texts for t in row)


def test_each_personalized_text_names_the_users_shared_top_categories_in_order(
    hashed_ml100k, cohort
):
    """The vectorised angle codes against the rule spelled out per (user, item)."""
    _, facts = hashed_ml100k
    agent = TemplateItemAgent(facts, ItemAgentConfig(mode="personalized"))
    idx = cohort.active_indices()
    cands = TriRecPlatform(facts).candidates(cohort, idx, np.random.default_rng(0))
    promos = asyncio.run(agent.promote(agent.init_state(), cohort, idx, cands))
    for row, user in enumerate(idx.tolist()):
        counts = cohort.category_counts[user].tolist()  # top three by count, ties by label order
        ranked = sorted(range(len(counts)), key=lambda j: (-counts[j], j))[:3]
        likes = [facts.category_labels[j] for j in ranked if counts[j] > 0]
        for col, item in enumerate(cands[row].tolist()):
            text = promos.row(row)[col]
            shared = [c for c in likes if c in facts.catalog[item].categories]
            assert text.startswith(facts.catalog[item].title)
            if shared:
                assert text.endswith(f"Made for fans of {' and '.join(shared)} like you.")
            elif likes:
                assert text.endswith(f"Something new next to your {likes[0]} favourites.")
    assert len(set(promos.table)) == len(promos.table)  # each distinct text stored once


def test_item_memory_is_rewritten_after_every_three_served_promotions(hashed_ml100k, cohort):
    _, facts = hashed_ml100k
    agent = TemplateItemAgent(facts, ItemAgentConfig(mode="generic"))
    state = agent.init_state()
    one = np.array([0])
    item = np.array([[7]])
    for served in range(1, 7):
        promos = asyncio.run(agent.promote(state, cohort, one, item))
        state, events = asyncio.run(agent.update_memory(state, cohort, one, item, promos))
        assert len(state.buffers.get(7, ())) == served % 3
        assert state.rewrites.get(7, 0) == served // 3
        assert (len(events) == 1) == (served % 3 == 0)
    assert "Promoted 6 times" in state.memories[7]


@pytest.mark.parametrize("size", [3, 4])
def test_template_memory_update_equals_the_shared_buffer_and_rewrite_helpers(
    hashed_ml100k, cohort, size
):
    """The template agent's lean update gives the state and events of the full helpers."""
    from recagora.agents.prompts import render
    from recagora.agents.roles.item_memory import apply_rewrites, buffer_promotions, due_rewrites

    _, facts = hashed_ml100k
    agent = TemplateItemAgent(facts, ItemAgentConfig(mode="personalized", buffer_size=size))
    lean = full = agent.init_state()
    idx, rng = cohort.active_indices(), np.random.default_rng(0)
    for _ in range(4):  # a few popular items, so buffers fill, spill over and carry on
        candidates = np.stack([rng.choice(25, 10, replace=False) for _ in idx])
        promos = asyncio.run(agent.promote(lean, cohort, idx, candidates))
        lean, events = asyncio.run(agent.update_memory(lean, cohort, idx, candidates, promos))
        full = buffer_promotions(full, cohort, idx, candidates, promos)
        due = due_rewrites(full, size)
        count = {i: full.rewrites.get(i, 0) * size + len(e) for i, e in due.items()}
        texts = {
            i: clip_words(
                render(
                    "item_template_memory",
                    facts=item_facts_text(facts.catalog[i]),
                    count=count[i],
                    last=e[-1][1],
                ),
                agent.config.max_words,
            )
            for i, e in due.items()
        }
        full = apply_rewrites(full, due, texts)
        assert lean == full
        assert [(e["item"], e["entries"]) for e in events] == [(i, len(e)) for i, e in due.items()]
    assert full.rewrites and full.buffers  # both paths were exercised


def test_unknown_mode_is_a_config_error_with_a_suggestion():
    with pytest.raises(ConfigError, match="did you mean 'personalized'"):
        ItemAgentConfig(mode="personalised")
