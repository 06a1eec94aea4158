"""Generation under the item trie: constrained beam search and masked sampling.

Beam search is the papers' evaluation protocol (Flower, D3, BIGRec: 10 beams over
the full catalog trie, Gao et al. SIGIR 2025 section 1.6 of our notes); masked
ancestral sampling is Flower's on-policy rollout. Both run batched with the
backbone's key/value cache, and every step asks the trie for the allowed tokens of
all rows at once, so an output is always a catalog item (the invalid count is 0
unless the step budget runs out).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from recagora.training.backbones import Backbone
from recagora.training.data import left_pad
from recagora.training.tries import NO_NODE, PrefixTrie

NEG_INF = float("-inf")


@dataclass(frozen=True)
class BeamResult:
    """Ranked items per prompt.

    items: (B, K) int64 item ids, best first, -1 where fewer than K valid items exist.
    scores: (B, K) float32 total log-probability of each item's tokens (-inf for -1).
    invalid: number of finished beams that did not end on an item.
    """

    items: torch.Tensor
    scores: torch.Tensor
    invalid: int


def _prompt_state(backbone: Backbone, prompts, repeats: int):
    ids, mask = left_pad(prompts, backbone.tokenizer.pad_id)
    return backbone.start(ids.to(backbone.device), mask.to(backbone.device), repeats)


@torch.no_grad()
def constrained_beam_search(
    backbone: Backbone,
    trie: PrefixTrie,
    prompts: list[list[int]],
    num_beams: int = 10,
    length_penalty: float = 0.0,
) -> BeamResult:
    """The `num_beams` best items for each prompt under the trie.

    Finished beams (at a leaf) stay in the beam with a frozen score and compete with
    the open ones, so the result is the K best complete items the search reached.

    Args:
        backbone: model + tokenizer (eval mode is the caller's choice).
        trie: item trie on the backbone's device.
        prompts: B prompt token lists.
        num_beams: K, beams kept and items returned per prompt.
        length_penalty: final scores are divided by length**length_penalty for ranking
            (0 = total log-probability, HF's default is 1).

    Returns:
        BeamResult with (B, K) items and scores.
    """
    batch, beams = len(prompts), num_beams
    logits, state = _prompt_state(backbone, prompts, beams)
    device = logits.device
    scores = torch.full((batch, beams), NEG_INF, device=device)
    scores[:, 0] = 0.0  # one live beam at the root; the others fill from its children
    nodes = trie.root(batch * beams)
    lengths = torch.zeros(batch * beams, dtype=torch.long, device=device)
    for _ in range(trie.max_depth):
        done = trie.items_at(nodes) >= 0
        candidates = _candidate_scores(logits, trie, nodes, done, scores.view(-1))
        top_scores, flat = candidates.view(batch, -1).topk(beams, dim=1)
        parent = (
            flat // trie.vocab_size + torch.arange(batch, device=device)[:, None] * beams
        ).view(-1)
        tokens = (flat % trie.vocab_size).view(-1)
        parent_done = done[parent]
        nodes = torch.where(parent_done, nodes[parent], trie.step(nodes[parent], tokens))
        lengths = lengths[parent] + (~parent_done).long()
        scores = top_scores
        if bool((trie.items_at(nodes) >= 0).all()):
            break
        logits, state = backbone.advance(tokens, backbone.reorder(state, parent))
    return _finish(trie, nodes, scores, lengths, length_penalty, batch, beams)


def _candidate_scores(logits, trie, nodes, done, beam_scores):
    """(B*K, V) beam score + token log-prob where the trie allows it, else -inf.

    A finished beam keeps one candidate (token 0) carrying its frozen score.
    """
    log_probs = torch.log_softmax(logits, dim=-1)
    allowed = trie.allowed_mask(nodes)
    candidates = torch.where(allowed, log_probs + beam_scores[:, None], NEG_INF)
    frozen = torch.full_like(candidates, NEG_INF)
    frozen[:, 0] = beam_scores
    return torch.where(done[:, None], frozen, candidates)


def _finish(trie, nodes, scores, lengths, length_penalty, batch, beams):
    items = trie.items_at(nodes).view(batch, beams)
    alive = torch.isfinite(scores)
    invalid = int((alive & (items < 0)).sum())
    ranked = scores / lengths.view(batch, beams).clamp(min=1).float() ** length_penalty
    ranked = torch.where(alive & (items >= 0), ranked, NEG_INF)
    order = ranked.argsort(dim=1, descending=True)
    items = torch.where(torch.isfinite(ranked), items, NO_NODE).gather(1, order)
    return BeamResult(items=items.cpu(), scores=ranked.gather(1, order).cpu(), invalid=invalid)


def row_uniforms(seeds: list[int], steps: int) -> torch.Tensor:
    """(B, steps) uniforms, row b drawn from its own generator seeded with seeds[b].

    Per-row streams make a row's rollout independent of which other rows share its
    batch, so gradient accumulation over micro-batches sees the same rollouts.
    """
    rows = [
        torch.rand(steps, generator=torch.Generator().manual_seed(s), dtype=torch.float64)
        for s in seeds
    ]
    return torch.stack(rows)


@torch.no_grad()
def sample_under_trie(
    backbone: Backbone,
    trie: PrefixTrie,
    prompts: list[list[int]],
    uniforms: torch.Tensor,
    temperature: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One trajectory per prompt by ancestral sampling from the trie-masked policy.

    Args:
        uniforms: (B, >= trie.max_depth) float64 in [0, 1): step t of row b takes the
            token where the masked CDF first exceeds uniforms[b, t] (inverse-CDF sampling).

    Returns:
        tokens (B, L) int64 (pad after each row ends), lengths (B,) int64 including the
        end token, items (B,) int64 unit reached (always valid under the trie).
    """
    logits, state = _prompt_state(backbone, prompts, 1)
    nodes = trie.root(len(prompts))
    uniforms = uniforms.to(logits.device)
    steps, pad = [], backbone.tokenizer.pad_id
    for t in range(trie.max_depth):
        done = trie.items_at(nodes) >= 0
        masked = torch.where(trie.allowed_mask(nodes), logits.double() / temperature, NEG_INF)
        cdf = torch.softmax(masked.masked_fill(done[:, None], 0.0), dim=-1).cumsum(-1)
        drawn = torch.searchsorted(cdf, uniforms[:, t : t + 1] * cdf[:, -1:], side="right").clamp(
            max=cdf.shape[1] - 1
        )
        tokens = torch.where(done, pad, drawn.view(-1))
        nodes = torch.where(done, nodes, trie.step(nodes, tokens))
        steps.append(torch.where(done, -1, tokens))
        if bool((trie.items_at(nodes) >= 0).all()):
            break
        logits, state = backbone.advance(tokens, state)
    tokens = torch.stack(steps, dim=1)
    lengths = (tokens >= 0).sum(dim=1)
    return tokens.clamp(min=0).masked_fill(tokens < 0, pad), lengths, trie.items_at(nodes)
