"""Trie-constrained beam search and masked sampling on the tiny GPT."""

from __future__ import annotations

import pytest
import torch

from recagora.item_space.errors import ConfigError
from recagora.training.backbones import BackboneConfig, build_backbone
from recagora.training.data import left_pad
from recagora.training.decoding import (
    BeamConfig,
    constrained_beam_search,
    rank_prompts,
    row_uniforms,
    sample_under_trie,
)
from recagora.training.item_tokenizers import tokenize_titles
from recagora.training.tiny_gpt import continue_decoding, start_decoding


def _tiny(titles, seed=0):
    config = BackboneConfig(tiny_n_layer=1, tiny_n_embd=32, tiny_n_head=2, tiny_vocab_size=700)
    backbone = build_backbone(config, titles, torch.Generator().manual_seed(seed))
    backbone.model.eval()
    return backbone, tokenize_titles(titles, backbone.tokenizer, backbone.logits_width)


class _ForcedToward:
    """Wraps a backbone so row b's logits get +30 on the next token of title targets[b].

    It follows the beams through `reorder` and `advance`, as the real model's cache does.
    """

    def __init__(self, backbone, sequences, beams):
        self.backbone, self.tokenizer, self.device = backbone, backbone.tokenizer, backbone.device
        self.wanted = [sequences[t] for t in range(len(sequences)) for _ in range(beams)]
        self.generated = [[] for _ in self.wanted]

    def _boost(self, logits):
        for row, (want, have) in enumerate(zip(self.wanted, self.generated, strict=True)):
            if have == want[: len(have)] and len(have) < len(want):
                logits[row, want[len(have)]] += 30.0
        return logits

    def start(self, ids, mask, repeats):
        logits, state = self.backbone.start(ids, mask, repeats)
        return self._boost(logits), state

    def reorder(self, state, index):
        self.generated = [list(self.generated[i]) for i in index.tolist()]
        return self.backbone.reorder(state, index)

    def advance(self, tokens, state):
        for row, token in enumerate(tokens.tolist()):
            self.generated[row].append(token)
        logits, state = self.backbone.advance(tokens, state)
        return self._boost(logits), state


def test_every_title_is_generated_when_the_model_is_forced_toward_it(video_games):
    titles = video_games.catalog.titles[:150]
    backbone, items = _tiny(titles)
    prompts = [backbone.tokenizer.encode("a user liked")] * len(titles)
    forced = _ForcedToward(backbone, items.sequences, beams=10)
    result = constrained_beam_search(forced, items.trie, prompts, num_beams=10)
    assert result.items[:, 0].tolist() == list(range(len(titles)))
    assert result.invalid == 0
    assert (result.items >= 0).all()
    assert all(len(set(row)) == 10 for row in result.items.tolist())  # 10 distinct valid items
    assert (result.scores[:, :-1] >= result.scores[:, 1:]).all()  # ranked best first


def test_beam_scores_are_the_items_log_probabilities(video_games):
    titles = video_games.catalog.titles[:40]
    backbone, items = _tiny(titles, seed=3)
    prompt = backbone.tokenizer.encode("liked")
    result = constrained_beam_search(backbone, items.trie, [prompt], num_beams=5)
    for item, score in zip(result.items[0].tolist(), result.scores[0].tolist(), strict=True):
        ids = torch.tensor([prompt + items.sequences[item]])
        log_probs = torch.log_softmax(backbone.model(ids)[0][0, len(prompt) - 1 : -1], -1)
        expected = log_probs.gather(1, torch.tensor(items.sequences[item])[:, None]).sum()
        assert abs(expected.item() - score) < 1e-3


def test_cached_decoding_matches_a_full_forward(video_games):
    backbone, _ = _tiny(video_games.catalog.titles[:40])
    prompts = [[5, 6, 7, 8, 9], [10, 11]]
    ids, mask = left_pad(prompts, backbone.tokenizer.pad_id)
    logits, cache = start_decoding(backbone.model, ids, mask, repeats=3)
    extra = torch.arange(20, 32).view(6, 2)
    for step in range(2):
        logits, cache = continue_decoding(backbone.model, extra[:, step], cache)
    for row in range(6):
        full = torch.tensor([prompts[row // 3] + extra[row].tolist()])
        torch.testing.assert_close(
            backbone.model(full)[0][0, -1], logits[row], atol=1e-5, rtol=1e-4
        )


def test_sampling_stays_in_the_catalog_and_is_seeded(video_games):
    titles = video_games.catalog.titles[:200]
    backbone, items = _tiny(titles)
    prompts = [backbone.tokenizer.encode(f"user {i}") for i in range(16)]
    uniforms = row_uniforms(list(range(16)), items.trie.max_depth)
    tokens, lengths, units = sample_under_trie(backbone, items.trie, prompts, uniforms)
    assert (units >= 0).all()
    for row in range(16):
        assert tokens[row, : lengths[row]].tolist() == items.sequences[units[row]]
    again = sample_under_trie(backbone, items.trie, prompts[:4], uniforms[:4])[2]
    assert again.tolist() == units[:4].tolist()  # a row's sample does not depend on its batch


def test_length_penalty_reorders_the_items_found_by_mean_token_log_probability(video_games):
    """Penalty 1 ranks the same K items by total log-prob / tokens (end token included)."""
    titles = video_games.catalog.titles[:300]
    backbone, items = _tiny(titles, seed=5)
    prompts = [backbone.tokenizer.encode(f"user {i} liked") for i in range(6)]
    total = constrained_beam_search(backbone, items.trie, prompts, num_beams=8)
    mean = constrained_beam_search(backbone, items.trie, prompts, num_beams=8, length_penalty=1.0)
    reordered = 0
    for row in range(len(prompts)):
        by_item = dict(zip(total.items[row].tolist(), total.scores[row].tolist(), strict=True))
        assert set(mean.items[row].tolist()) == set(by_item)  # the search finds the same items
        expected = {i: s / len(items.sequences[i]) for i, s in by_item.items()}
        got = dict(zip(mean.items[row].tolist(), mean.scores[row].tolist(), strict=True))
        assert all(abs(got[i] - expected[i]) < 1e-4 for i in got)
        assert (mean.scores[row, :-1] >= mean.scores[row, 1:]).all()
        reordered += mean.items[row].tolist() != total.items[row].tolist()
    assert reordered > 0  # titles differ in length, so some ranking changes


def test_beam_config_refuses_no_beams_and_non_finite_penalties():
    assert BeamConfig().num_beams == 10 and BeamConfig().length_penalty == 0.0
    with pytest.raises(ConfigError, match="num_beams must be at least 1, got 0"):
        BeamConfig(num_beams=0)
    with pytest.raises(ConfigError, match="length_penalty must be a finite number"):
        BeamConfig(length_penalty=float("nan"))


def test_rank_prompts_in_batches_equals_one_search_and_reports_progress(video_games):
    titles = video_games.catalog.titles[:100]
    backbone, items = _tiny(titles, seed=2)
    prompts = [backbone.tokenizer.encode(f"history {i}") for i in range(5)]
    done = []
    beam = BeamConfig(num_beams=4, length_penalty=0.5)
    batched = rank_prompts(backbone, items.trie, prompts, beam, batch_size=2, on_batch=done.append)
    whole = constrained_beam_search(backbone, items.trie, prompts, 4, 0.5)
    assert done == [2, 2, 1] and batched.invalid == whole.invalid == 0
    assert batched.items.tolist() == whole.items.tolist()
    torch.testing.assert_close(batched.scores, whole.scores, atol=1e-5, rtol=1e-5)
