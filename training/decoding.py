"""Generation under the item trie: constrained beam search and masked sampling.

Beam search is the papers' evaluation protocol (Flower, "Process-Supervised LLM
Recommenders via Flow-guided Tuning", Gao et al., SIGIR 2025, arXiv 2503.07377; D3 and
BIGRec likewise: 10 beams over the full catalog trie); masked ancestral sampling is
Flower's on-policy rollout. Both run batched with the backbone's key/value cache, and
every step asks the trie for the allowed tokens of all rows at once, so an output is
always a catalog item (the invalid count is 0 unless the step budget runs out).

Length penalty (`BeamConfig.length_penalty`): the K items the search found are ranked
by total log-probability / tokens ** length_penalty, tokens counting the item's end
token. 0 (the default, used for every figure in the READMEs) ranks by total
log-probability, which favours items with short token sequences; 1 ranks by mean
per-token log-probability (Hugging Face `generate`'s default). The search itself keeps
the beams with the highest TOTAL log-probability at every step, so the penalty reorders
the K items found; it does not change which items are found.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from recagora.item_space.errors import ConfigError
from recagora.training.backbones import Backbone
from recagora.training.data import left_pad
from recagora.training.tries import NO_NODE, PrefixTrie

NEG_INF = float("-inf")


@dataclass(frozen=True)
class BeamResult:
    """Ranked items per prompt.

    items: (B, K) int64 item ids, best first, -1 where fewer than K valid items exist.
    scores: (B, K) float32 ranking score: the total log-probability of each item's tokens
        divided by tokens ** length_penalty (the total itself at 0; -inf for -1).
    invalid: number of finished beams that did not end on an item.
    """

    items: torch.Tensor
    scores: torch.Tensor
    invalid: int


@dataclass(frozen=True)
class BeamConfig:
    """How trie-constrained beam search ranks the catalog for one prompt."""

    num_beams: int = field(
        default=10,
        metadata={"help": "Beams kept = items returned per prompt (Flower, D3, BIGRec: 10)."},
    )
    length_penalty: float = field(
        default=0.0,
        metadata={
            "help": "Rank the found items by total log-prob / tokens ** this: 0 = total log-prob (default), 1 = mean per token (HF's default)."
        },
    )

    def __post_init__(self) -> None:
        if self.num_beams < 1:
            raise ConfigError(f"num_beams must be at least 1, got {self.num_beams}")
        if not math.isfinite(self.length_penalty):
            raise ConfigError(f"length_penalty must be a finite number, got {self.length_penalty}")


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
        length_penalty: the K items found are ranked by score / tokens**length_penalty
            (0 = total log-probability; see the module docstring and `BeamConfig`).

    Returns:
        BeamResult with (B, K) items and their ranking scores (the total log-probability
        when length_penalty is 0).
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


def rank_prompts(
    backbone: Backbone,
    trie: PrefixTrie,
    prompts: list[list[int]],
    beam: BeamConfig | None = None,
    batch_size: int = 32,
    on_batch: Callable[[int], None] | None = None,
) -> BeamResult:
    """`constrained_beam_search` over `prompts` in batches of `batch_size`, concatenated.

    on_batch: called with the number of prompts ranked after each batch (progress).
    """
    beam = beam or BeamConfig()
    items, scores, invalid = [], [], 0
    for start in range(0, len(prompts), batch_size):
        part = prompts[start : start + batch_size]
        result = constrained_beam_search(backbone, trie, part, beam.num_beams, beam.length_penalty)
        items.append(result.items)
        scores.append(result.scores)
        invalid += result.invalid
        if on_batch is not None:
            on_batch(len(part))
    return BeamResult(torch.cat(items), torch.cat(scores), invalid)


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
