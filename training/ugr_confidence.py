"""UGR's explicit confidence (Fan et al., KDD 2026, mechanism 3; cxfann/UGR
`train/RL/my_trainer.py` as read in ../shared/reference/policies-from-papers.md 3.2).

For a prompt and one generated item, the item's tokens (end token included) are fed back
followed by the text " Confidence scores:", and the next-token logits are read at the two
confidence tokens: c = softmax([z_neg, z_pos])[pos], in [0, 1]. Training aligns c with
correctness (`ugr_rewards.confidence_loss`); at inference c re-ranks a user's beams and
the top beam's c ranks users for selective rejection (the least confident are refused).

Not done: the paper's smart initialisation of the two token embeddings from " wrong" and
" correct" (a tiny GPT trained from scratch has no such prior; rows start as N(0, 0.02)).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from recagora.item_space.errors import ConfigError
from recagora.training.backbones import Backbone
from recagora.training.data import prompt_response_batch
from recagora.training.item_tokenizers import ItemTokenization

CONFIDENCE_SUFFIX = " Confidence scores:"


def require_confidence(items: ItemTokenization) -> tuple[int, int]:
    """(neg, pos) ids of the confidence tokens (ConfigError when the catalog has none)."""
    if items.confidence_ids is None:
        raise ConfigError(
            "confidence needs UGR's confidence tokens, which only semantic-ID catalogs "
            "(dataset games-semids) carry; use a semantic-ID checkpoint"
        )
    return items.confidence_ids


def beam_confidence(
    backbone: Backbone,
    items: ItemTokenization,
    prompts: Sequence[Sequence[int]],
    units: np.ndarray,
) -> torch.Tensor:
    """(B, G) confidence of each prompt's G units (-1 -> 0); differentiable.

    prompts: B token lists; units: (B, G) unit ids of the generated items.
    """
    neg, pos = require_confidence(items)
    batch, groups = units.shape
    flat = units.reshape(-1)
    keep = np.flatnonzero(flat >= 0)
    out = torch.zeros(batch * groups, device=backbone.device)
    if len(keep) == 0:
        return out.view(batch, groups)
    suffix = backbone.tokenizer.encode(CONFIDENCE_SUFFIX)
    rows = [list(items.sequences[u]) + suffix for u in flat[keep].tolist()]
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    response = torch.full((len(rows), int(lengths.max())), backbone.tokenizer.pad_id)
    for row, tokens in enumerate(rows):
        response[row, : len(tokens)] = torch.tensor(tokens)
    feed = [prompts[i // groups] for i in keep.tolist()]
    tokens = prompt_response_batch(feed, response, lengths, backbone.tokenizer.pad_id)
    tokens = tokens.to(backbone.device)
    logits, _ = backbone.forward(tokens.input_ids, tokens.attention_mask)
    # the logits after each row's last real token (responses are right-padded)
    last = tokens.prompt_width - 1 + lengths.to(backbone.device)
    read = logits[torch.arange(len(rows), device=logits.device), last][:, [neg, pos]]
    confidence = torch.softmax(read.float(), dim=-1)[:, 1]
    index = torch.as_tensor(keep, device=backbone.device)
    return out.index_put((index,), confidence).view(batch, groups)


def partial_matches(items: ItemTokenization, beams: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(B, G) bool: the beam's first token (the coarse code) equals the target's, item wrong."""
    first = np.asarray([s[0] for s in items.sequences], dtype=np.int64)
    beam_first = np.where(beams >= 0, first[np.clip(beams, 0, None)], -1)
    return (beam_first == first[targets][:, None]) & (beams != targets[:, None])


def rejection_curve(
    user_confidence: np.ndarray, gains: np.ndarray, shares: Sequence[float]
) -> list[float]:
    """Mean of `gains` (e.g. per-user NDCG@10) over the users kept when the least
    confident share of users is rejected, for each share in `shares` (ties by position)."""
    gains = np.asarray(gains)
    return [float(np.mean(gains[~rejected_users(user_confidence, s)])) for s in shares]


def rejected_users(user_confidence: np.ndarray, share: float) -> np.ndarray:
    """(n,) bool: the least confident `share` of users (at least one user is always kept;
    among equal confidences the later users go first)."""
    order = np.argsort(-np.asarray(user_confidence, np.float64), kind="stable")
    kept = max(1, int(round(len(order) * (1.0 - share)))) if len(order) else 0
    out = np.ones(len(order), dtype=bool)
    out[order[:kept]] = False
    return out


def rerank_by_confidence(ranked: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """(n, K) `ranked` reordered per row by descending confidence (beam order breaks ties;
    -1 padding stays last)."""
    keyed = np.where(ranked >= 0, -np.asarray(confidence, np.float64), np.inf)
    order = np.argsort(keyed, axis=1, kind="stable")
    return np.take_along_axis(ranked, order, axis=1)
