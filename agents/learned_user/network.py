"""The learned user's sequence encoder: a SASRec next-item model with content-aware item embeddings.

SASRec (Kang & McAuley, ICDM 2018): a causal self-attention encoder over the last L items
of a history gives h_t (d,); the logit of item i as the next choice is

    s(h, i) = h . e_i + b_i,     e_i = E_i + W v_i

with E a free item embedding, v_i the item's (fixed, unit) text vector and W a learned
projection (content keeps rarely-seen items placed, as in content-aware SASRec
variants), b_i an item bias (popularity). Trained with the full softmax over the catalog
at every position (cross-entropy, which Klenitskiy & Vasilev, RecSys 2023, show beats
SASRec's sampled binary loss), so exp(s) is a next-choice distribution over all items
and a choice among K candidates is its restriction (Luce's axiom).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class EncoderConfig:
    """Size and regularisation of the sequence encoder (the same on every dataset)."""

    dim: int = field(default=64, metadata={"help": "Width d of item embeddings and hidden states."})
    max_len: int = field(default=50, metadata={"help": "L: most recent history items encoded."})
    layers: int = field(default=2, metadata={"help": "Self-attention blocks."})
    heads: int = field(default=1, metadata={"help": "Attention heads per block."})
    dropout: float = field(default=0.2, metadata={"help": "Dropout on embeddings and blocks."})


class SequenceEncoder(nn.Module):
    """Causal transformer over item ids (0 = padding, item i is token i + 1).

    vectors: (N, v) float32 item text vectors (frozen).
    """

    def __init__(self, vectors: np.ndarray, config: EncoderConfig) -> None:
        super().__init__()
        n_items, d = len(vectors), config.dim
        self.config = config
        self.register_buffer("vectors", torch.as_tensor(vectors, dtype=torch.float32))
        self.items = nn.Embedding(n_items + 1, d, padding_idx=0)
        self.content = nn.Linear(vectors.shape[1], d, bias=False)
        self.bias = nn.Parameter(torch.zeros(n_items))
        self.positions = nn.Embedding(config.max_len, d)
        block = nn.TransformerEncoderLayer(
            d, config.heads, 2 * d, config.dropout, batch_first=True, norm_first=True
        )
        self.blocks = nn.TransformerEncoder(block, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.drop = nn.Dropout(config.dropout)
        nn.init.normal_(self.items.weight, std=0.05)

    def item_table(self) -> torch.Tensor:
        """(N, d) e_i = E_i + W v_i."""
        return self.items.weight[1:] + self.content(self.vectors)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, L) tokens (left-padded with 0) -> (B, L, d) hidden state after each position."""
        length = tokens.shape[1]
        table = self.item_table()
        table = torch.cat([table.new_zeros(1, table.shape[1]), table])
        x = table[tokens] * self.config.dim**0.5 + self.positions.weight[-length:]
        x = self.drop(x) * (tokens > 0).unsqueeze(-1)
        causal = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
        # left padding: the first real token may only see padding before it, so padding
        # keys are not masked (that would leave rows with nothing to attend to); their
        # inputs are zero and they are never read as outputs.
        return self.norm(self.blocks(x, mask=causal))

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., d) hidden states -> (..., N) next-item logits s(h, i)."""
        return hidden @ self.item_table().T + self.bias


def left_padded(histories: list[list[int]] | tuple, max_len: int) -> torch.Tensor:
    """(B, max_len) int64 tokens of the last max_len items of each history, left-padded with 0."""
    out = np.zeros((len(histories), max_len), np.int64)
    for row, history in enumerate(histories):
        tail = list(history)[-max_len:]
        if tail:
            out[row, max_len - len(tail) :] = np.asarray(tail, np.int64) + 1
    return torch.from_numpy(out)


@torch.no_grad()
def final_states(encoder: SequenceEncoder, histories, batch: int = 1024) -> torch.Tensor:
    """(B, d) hidden state after the last item of each history (eval mode, no dropout)."""
    encoder.eval()
    parts = []
    for start in range(0, len(histories), batch):
        tokens = left_padded(histories[start : start + batch], encoder.config.max_len)
        parts.append(encoder(tokens)[:, -1])
    return torch.cat(parts) if parts else torch.zeros(0, encoder.config.dim)
