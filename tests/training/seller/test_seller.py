"""SELLER on a tiny random LM: targets, both paths, the MoE adapter, training, text metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recagora.item_space.types import Catalog, Item
from recagora.training.seller.config import SellerConfig
from recagora.training.seller.data import Pair, collate, make_pairs
from recagora.training.seller.encoders import MoEAdapter, time_buckets
from recagora.training.seller.model import SellerModel
from recagora.training.seller.run import fit, retrieve
from recagora.training.seller.targets import explanation, history_genres
from recagora.training.seller.text_metrics import bleu, distinct, rouge_l, unique_sentence_ratio

from ..soft_lm_fixture import tiny_lm

VOCAB = ["the", "explanation", "user's", "viewing", "history", "and", "movie", "are", "encoded", "in", "explain", "why", "would", "like", "you", "often", "watch", "movies", "this", "is", "a", "film", "from", "change", "your", "comedy", "drama", "action", "m0", "m1", "m2", "m3", '"', "'", ":", "(", ")"]


@pytest.fixture
def catalog():
    genres = [("Comedy",), ("Drama",), ("Action", "Comedy"), ("Drama", "Action")]
    return Catalog("toy", [Item(id=i, key=str(i), title=f"m{i}", categories=g, attributes={"release_year": "1995"})
                           for i, g in enumerate(genres)])


def test_targets_name_the_shared_genre_or_the_change(catalog):
    assert history_genres(catalog, [0, 2, 1]) == ["Comedy", "Drama"]  # Comedy twice; Drama more recent than Action
    assert explanation(catalog, [0, 2], 2) == "You often watch comedy movies, and this is a action and comedy film from 1995."
    assert explanation(catalog, [1, 1], 0) == "A change from your drama movies: a comedy film from 1995."


def test_time_gaps_fall_in_log_hour_buckets():
    gaps = torch.tensor([0, 3600, 3 * 3600, 10**9])
    assert time_buckets(gaps, 16).tolist() == [0, 1, 2, 15]


def test_bleu_rouge_and_distinctness_by_hand():
    assert bleu(["a b c d e"], ["a b c d e"]) == pytest.approx(1.0)
    assert bleu(["x y z w"], ["a b c d"]) == 0.0
    assert rouge_l(["a b c d"], ["a c d e"]) == pytest.approx(0.75)  # LCS a c d: 2*3/(4+4)
    assert distinct(["a b", "a c"], 1) == pytest.approx(3 / 4)
    assert unique_sentence_ratio(["x", "x", "y"]) == pytest.approx(2 / 3)


def test_the_moe_adapter_mixes_experts_densely():
    adapter = MoEAdapter(6, 3, 5, experts=4).eval()
    x = torch.randn(2, 6)
    out = adapter(x)
    weights = torch.softmax(adapter.gate(x), -1)
    by_hand = sum(weights[:, e, None] * ((x - adapter.bias[e]) @ adapter.experts[e]) for e in range(4))
    assert out.shape == (2, 3, 5) and torch.allclose(out.reshape(2, -1), by_hand, atol=1e-5)


def _model(catalog, cfg):
    model, tokenizer = tiny_lm(vocab_words=VOCAB)
    torch.manual_seed(0)
    return SellerModel(model, tokenizer, torch.randn(len(catalog.items), 8), cfg)


def test_order_and_timing_of_the_history_change_the_soft_tokens(catalog):
    cfg = SellerConfig(max_history=4, seq_dim=16, seq_layers=1, soft_tokens=2)
    model = _model(catalog, cfg).eval()
    base = Pair("u", [0, 1, 2], [60, 60, 60], 3)
    swapped = Pair("u", [1, 0, 2], [60, 60, 60], 3)
    later = Pair("u", [0, 1, 2], [60, 60, 10**7], 3)
    rows = [model.soft_rows(*collate([p], 4)) for p in (base, swapped, later)]
    assert not torch.allclose(rows[0], rows[1]) and not torch.allclose(rows[0], rows[2])


def test_training_lowers_the_explanation_loss_and_leaves_the_lm_frozen(catalog):
    cfg = SellerConfig(max_history=4, seq_dim=16, seq_layers=1, soft_tokens=2, epochs=30, batch_size=4,
                       learning_rate=1e-2)
    model = _model(catalog, cfg)
    frozen = {n: p.clone() for n, p in model.lm.model.state_dict().items()}
    pairs = [Pair("u", [i % 4, (i + 1) % 4], [60, 60], (i + 2) % 4) for i in range(8)]
    targets = [explanation(catalog, p.history, p.target) for p in pairs]
    losses = fit(model, pairs, targets, catalog, cfg, torch.Generator().manual_seed(0), lambda _: None)
    assert np.mean(losses[-6:]) < 0.75 * np.mean(losses[:6])
    assert all(torch.equal(frozen[n], p) for n, p in model.lm.model.state_dict().items())


def test_pairs_and_retrieval(catalog):
    sequences = {"a": (np.array([0, 1, 2, 3]), np.array([0, 10, 20, 30])), "b": (np.array([3, 2, 1]), np.array([0, 5, 9]))}
    train, test = make_pairs(sequences, 6, 1, 2, np.random.default_rng(0))
    assert len(test) == 1 and test[0].target == sequences[test[0].user][0][-1]
    assert all(len(p.history) == len(p.gaps) <= 2 for p in train + test)
    vectors = torch.eye(4)
    assert retrieve(train[:1], ["only"], test, vectors) == ["only"]
