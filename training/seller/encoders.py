"""SELLER's two paths and the mixture-of-experts adapter.

Path 1 (SASRec, Kang & McAuley 2018, plus time): item rows (a learned id embedding
plus the projected text vector) + position + log-bucketed gap to the next event,
causal self-attention, the last position's state. Path 2: the item's text vector.
The adapter (XRec, Ma et al. 2024): 8 "parametric whitening" experts
((x - b) -> dropout -> linear), a softmax gate with softplus noise while training,
a dense mixture -> k soft rows.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def time_buckets(gaps_seconds: torch.Tensor, n_buckets: int) -> torch.Tensor:
    """Bucket b = floor(log2(1 + gap in hours)), capped at n_buckets - 1."""
    hours = gaps_seconds.clamp(min=0).float() / 3600.0
    return torch.log2(1 + hours).floor().long().clamp(max=n_buckets - 1)


class SequenceEncoder(nn.Module):
    """(B, L) item ids (0 = padding, ids shifted by 1), (B, L) gaps -> (B, dim)."""

    def __init__(self, item_text: torch.Tensor, dim: int, layers: int, max_len: int, buckets: int):
        super().__init__()
        self.register_buffer("item_text", torch.cat([torch.zeros(1, item_text.shape[1]), item_text]))
        self.ids = nn.Embedding(len(item_text) + 1, dim, padding_idx=0)
        self.text = nn.Linear(item_text.shape[1], dim)
        self.positions = nn.Embedding(max_len, dim)
        self.gaps = nn.Embedding(buckets, dim)
        self.buckets = buckets
        block = nn.TransformerEncoderLayer(dim, 2, 2 * dim, dropout=0.1, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, items: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
        length = items.shape[1]
        x = self.ids(items) + self.text(self.item_text[items])
        x = x + self.positions(torch.arange(length, device=items.device)) + self.gaps(time_buckets(gaps, self.buckets))
        causal = torch.triu(torch.full((length, length), float("-inf"), device=items.device), 1)
        # Histories are left-padded, so the last column is every row's latest event.
        h = self.blocks(x, mask=causal, src_key_padding_mask=items == 0)
        return self.norm(h[:, -1])


class MoEAdapter(nn.Module):
    """(B, in_dim) -> (B, k, hidden): a dense, noisy-gated mixture of whitening experts."""

    def __init__(self, in_dim: int, k: int, hidden: int, experts: int = 8, scale: float = 1.0):
        super().__init__()
        self.k, self.hidden, self.scale = k, hidden, scale
        self.bias = nn.Parameter(torch.zeros(experts, in_dim))
        self.experts = nn.Parameter(torch.randn(experts, in_dim, k * hidden) / math.sqrt(in_dim))
        self.gate = nn.Linear(in_dim, experts, bias=False)
        self.noise = nn.Linear(in_dim, experts, bias=False)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        logits = self.gate(x)
        if self.training:  # XRec's noisy gate: std softplus(x W_noise) + 0.01
            std = nn.functional.softplus(self.noise(x)) + 0.01
            logits = logits + torch.randn(logits.shape, generator=generator) * std
        weights = torch.softmax(logits, -1)  # (B, E)
        centred = self.dropout(x[:, None, :] - self.bias[None])  # (B, E, in)
        out = torch.einsum("bei,eio,be->bo", centred, self.experts, weights)
        return out.view(len(x), self.k, self.hidden) * self.scale
