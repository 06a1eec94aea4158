"""The MindRec denoiser: a small bidirectional transformer over history + answer slots.

MindRec runs LLaDA-8B (a masked-diffusion LM) on a text prompt of the history's codes.
Trained from scratch here, each history item is ONE input token, the sum of the
embeddings of its code tokens (category path and semantic ID: the same vocabulary the
answer uses), followed by the answer's slots (a code token, or the mask token); the head
predicts every answer slot. Attention has no causal mask: the answer slots see each other
and the whole history. The history tokens see only the history, so their keys and values
do not depend on the answer and the beam search computes them once per user
(`encode`), then runs only the answer's few slots per step (`denoise`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Memory = tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]  # per-layer (k, v), mask


class Block(nn.Module):
    """Pre-norm transformer block whose keys/values may be prefixed by a cached memory."""

    def __init__(self, d_model: int, n_heads: int, dropout: float):
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv, self.proj = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model)
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x, key_mask, prefix=None):
        """x: (B, T, d); key_mask: (B, P + T) bool, True = attend; prefix: (k, v) (B, h, P, dh).

        Returns the new x and this block's own (k, v) for x's tokens.
        """
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.n_heads, -1).permute(2, 0, 3, 1, 4)
        own = (k, v)
        if prefix is not None:
            k, v = torch.cat([prefix[0], k], dim=2), torch.cat([prefix[1], v], dim=2)
        attended = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=key_mask[:, None, None, :],
            dropout_p=self.dropout if self.training else 0.0,
        )
        x = x + self.drop(self.proj(attended.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.mlp(self.norm2(x))), own


class MindRecModel(nn.Module):
    """logits(history, answer) -> (B, L, V) over the code vocabulary (mask id = V)."""

    def __init__(
        self,
        codes: torch.Tensor,
        vocab_size: int,
        max_history: int,
        d_model: int = 128,
        n_layers: int = 2,
        n_heads: int = 4,
        dropout: float = 0.1,
    ):
        """codes: (N, L) int64 token ids of every catalog item's response."""
        super().__init__()
        self.register_buffer("codes", codes.long(), persistent=False)
        self.vocab_size, self.max_history = vocab_size, max_history
        self.token = nn.Embedding(vocab_size + 1, d_model)  # + the mask token
        self.history_position = nn.Embedding(max_history, d_model)
        self.slot = nn.Embedding(codes.shape[1], d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, dropout) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, history: torch.Tensor, answer: torch.Tensor) -> torch.Tensor:
        """history: (B, H) item ids, -1 = padding (left); answer: (B, L) token ids or mask."""
        return self.denoise(self.encode(history), answer)

    def encode(self, history: torch.Tensor) -> Memory:
        """Per-layer keys/values of the history tokens and their (B, H) presence mask."""
        present = history >= 0
        items = self.codes[history.clamp(min=0)]  # (B, H, L)
        # Positions count back from the newest item, so the newest always reads position 0.
        recency = self.history_position.weight[: history.shape[1]].flip(0)
        x = (self.token(items).sum(dim=2) + recency) * present[..., None]
        # A row with no history attends to its padding (zeros) rather than to nothing.
        mask = present | ~present.any(dim=1, keepdim=True)
        layers = []
        for block in self.blocks:
            x, own = block(x, mask)
            layers.append(own)
        return layers, present

    def denoise(self, memory: Memory, answer: torch.Tensor) -> torch.Tensor:
        """(B, L, V) logits of every answer slot given the encoded history."""
        layers, present = memory
        x = self.token(answer) + self.slot.weight[None]
        mask = torch.cat([present, torch.ones_like(answer, dtype=torch.bool)], dim=1)
        for block, prefix in zip(self.blocks, layers, strict=True):
            x, _ = block(x, mask, prefix)
        return self.head(self.norm(x))


def select_memory(memory: Memory, rows: torch.Tensor) -> Memory:
    """The memory of the given (k,) batch rows (a user's memory for each of its beams)."""
    layers, present = memory
    return [(k[rows], v[rows]) for k, v in layers], present[rows]


def history_tensor(histories, max_history: int) -> torch.Tensor:
    """(B, H) int64 last `max_history` items of each history, left-padded with -1 (H >= 1)."""
    kept = [list(h)[-max_history:] for h in histories]
    width = max(1, max((len(k) for k in kept), default=1))
    out = torch.full((len(kept), width), -1, dtype=torch.long)
    for row, items in enumerate(kept):
        if items:
            out[row, width - len(items) :] = torch.as_tensor(items, dtype=torch.long)
    return out
