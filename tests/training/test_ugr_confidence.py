"""Semantic-ID training and UGR's confidence tokens: tokenization, loss, inference."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Catalog, Item, Sample
from recagora.training.item_tokenizers import CONFIDENCE_TOKENS, item_names
from recagora.training.policy import GenerativeRecommender
from recagora.training.registry import make_trainer
from recagora.training.ugr_confidence import (
    partial_matches,
    rejection_curve,
    rerank_by_confidence,
)

# 6 items, two coarse codes; items 4 and 5 share their codes (one unit, as in games-semids)
CODES = [
    ("<a_0>", "<b_0>"),
    ("<a_0>", "<b_1>"),
    ("<a_1>", "<b_0>"),
    ("<a_1>", "<b_1>"),
    ("<a_1>", "<b_2>"),
    ("<a_1>", "<b_2>"),
]


@pytest.fixture
def semantic_world():
    items = [
        Item(id=i, key=str(i), title="".join(c) + f" [{i}]", attributes={"semantic_id": c})
        for i, c in enumerate(CODES)
    ]
    catalog = Catalog("toy-semids", items)
    train = [Sample(user=f"u{i}", history=(i % 6, (i + 1) % 6), target=2) for i in range(48)]
    return catalog, train


def test_semantic_ids_become_added_tokens_with_one_unit_per_code(
    semantic_world, tiny_overrides, tmp_path
):
    catalog, train = semantic_world
    trainer = make_trainer("sft", catalog, train, overrides=tiny_overrides(tmp_path))
    items, tokenizer = trainer.items, trainer.backbone.tokenizer
    assert items.kind == "semantic_id" and items.n_units == 5
    assert items.unit_of_item.tolist() == [0, 1, 2, 3, 4, 4]
    assert item_names(catalog)[5] == "<a_1><b_2>"  # the codes, without the ' [5]' suffix
    neg, pos = items.confidence_ids
    assert tokenizer.add_tokens(list(CONFIDENCE_TOKENS)) == [neg, pos]  # already there
    # each item: its two code tokens (whole added tokens) and the end token
    assert items.sequences[2] == [
        *tokenizer.add_tokens(["<a_1>", "<b_0>"]),
        tokenizer.end_of_item_id,
    ]
    assert trainer.backbone.model.config.vocab_size == trainer.trie.vocab_size > max(neg, pos)
    prompt = trainer.prompts(train[:1])[0]
    assert tokenizer.add_tokens(["<a_0>", "<b_0>"])[0] in prompt  # the history in codes


def test_partial_matches_rerank_and_rejection_by_hand():
    from recagora.training.item_tokenizers import ItemTokenization

    items = ItemTokenization("semantic_id", [[7, 1, 0], [7, 2, 0], [8, 1, 0]], None, "", None, None)
    beams = np.array([[1, 0, 2], [2, 1, -1]])
    got = partial_matches(items, beams, np.array([0, 2]))
    np.testing.assert_array_equal(got, [[True, False, False], [False, False, False]])
    ranked = np.array([[10, 11, 12, -1]])
    reranked = rerank_by_confidence(ranked, np.array([[0.2, 0.9, 0.2, 0.0]]))
    np.testing.assert_array_equal(reranked, [[11, 10, 12, -1]])  # ties keep beam order
    # users ranked by confidence 0.9, 0.5, 0.1, 0.3 -> reject the least confident first
    curve = rejection_curve(
        np.array([0.9, 0.5, 0.1, 0.3]), np.array([1.0, 0.0, 0.0, 1.0]), [0, 0.25, 0.5]
    )
    assert curve == pytest.approx([0.5, 2 / 3, 0.5])


def test_ugr_confidence_loss_separates_right_from_wrong_beams(
    semantic_world, tiny_overrides, tmp_path
):
    catalog, train = semantic_world
    settings = {"max_steps": 16, "num_generations": 5, "alpha_min": 0.5, "coeff_wrong": 4.0}
    trainer = make_trainer(
        "ugr", catalog, train, overrides=tiny_overrides(tmp_path, learning_rate=1e-2, **settings)
    )
    trainer.train()
    with (tmp_path / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    gap = [
        float(r["conf_right"]) / float(r["n_right"])
        - float(r["conf_wrong"]) / (8 * 5 - float(r["n_right"]))
        for r in rows
    ]
    assert float(rows[0]["conf_loss"]) > 0 and float(rows[-1]["n_right"]) == 8.0  # a hit per prompt
    assert np.mean(gap[-3:]) > np.mean(gap[:3]) + 0.1  # the right beam's confidence pulls away

    policy = GenerativeRecommender.load(tmp_path, catalog, order="confidence")
    histories = [s.history for s in train[:4]]
    ranked, _, _ = policy.rank(histories, num_beams=5)
    confidence = policy.confidence(histories, ranked)
    assert confidence.shape == (4, 5) and ((confidence > 0) & (confidence < 1)).all()
    top = np.argmax(confidence, axis=1)
    assert (ranked[np.arange(4), top] == 2).all()  # the most confident beam is the answer
    scores = policy.score_batch(histories, num_beams=5)  # served re-ranked by confidence
    np.testing.assert_allclose(scores[np.arange(4)[:, None], ranked], confidence)


def test_confidence_needs_confidence_tokens(toy_catalog, tiny_overrides, tmp_path):
    catalog = toy_catalog(["alpha", "beta", "gamma", "delta"])
    train = [Sample(user=f"u{i}", history=(i % 4,), target=2) for i in range(16)]
    make_trainer("sft", catalog, train, overrides=tiny_overrides(tmp_path)).train()
    with pytest.raises(ConfigError, match="order=confidence needs"):
        GenerativeRecommender.load(tmp_path, catalog, order="confidence")
    policy = GenerativeRecommender.load(tmp_path, catalog)
    with pytest.raises(ConfigError, match="semantic-ID"):
        policy.confidence([(0,)], np.array([[1, 2]]))


def test_semantic_policy_ranks_as_the_trainer_beams(semantic_world, tiny_overrides, tmp_path):
    from recagora.training.decoding import constrained_beam_search

    catalog, train = semantic_world
    trainer = make_trainer("sft", catalog, train, overrides=tiny_overrides(tmp_path))
    trainer.train()
    trainer.backbone.model.eval()
    expected = constrained_beam_search(
        trainer.backbone, trainer.trie, trainer.prompts(train[:3]), 4
    )
    policy = GenerativeRecommender.load(tmp_path, catalog)
    ranked, scores, _ = policy.rank([s.history for s in train[:3]], num_beams=4)
    np.testing.assert_array_equal(ranked, trainer.items.unit_item[expected.items.numpy()])
    torch.testing.assert_close(torch.as_tensor(scores), expected.scores)
