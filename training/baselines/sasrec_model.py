"""SASRec network and its training sequences (Kang & McAuley, "Self-Attentive Sequential
Recommendation", ICDM 2018).

Item ids are shifted by one inside the network so that 0 is padding. Sequences are
LEFT-padded: the most recent item always sits at the last position, whose absolute
position embedding is `max_len - 1` whatever the history length (as in the paper).
Blocks are torch's pre-norm `TransformerEncoderLayer` (self-attention + point-wise
feed-forward, each with a residual, LayerNorm first) under a causal mask; the paper's
point-wise FFN has width d, ReLU and dropout, which is what we configure.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Interactions, Sample

PAD = 0


class SASRecNetwork(nn.Module):
    """Causal self-attention over item sequences; scores = hidden · item embeddings.

    n_items: catalog size N (dense ids 0..N-1); embeddings hold N + 1 rows (row 0 = pad).
    """

    def __init__(
        self, n_items: int, hidden: int, n_blocks: int, n_heads: int, max_len: int, dropout: float
    ) -> None:
        super().__init__()
        self.n_items, self.max_len = n_items, max_len
        self.item_embedding = nn.Embedding(n_items + 1, hidden, padding_idx=PAD)
        self.position_embedding = nn.Embedding(max_len, hidden)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                hidden,
                n_heads,
                dim_feedforward=hidden,
                dropout=dropout,
                batch_first=True,
                norm_first=True,
            )
            for _ in range(n_blocks)
        )
        self.final_norm = nn.LayerNorm(hidden)
        self.scale = hidden**0.5
        # torch's N(0, 1) embedding init makes the tied output logits ~ +-sqrt(d) at start
        # (loss far above log N); unit-norm rows keep the first logits near 0.
        nn.init.normal_(self.item_embedding.weight, std=hidden**-0.5)
        nn.init.normal_(self.position_embedding.weight, std=1.0)
        with torch.no_grad():
            self.item_embedding.weight[PAD].zero_()

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """(B, T) shifted ids (0 = pad, left-padded, T <= max_len) -> (B, T, d) hidden states."""
        length = sequences.shape[1]
        positions = torch.arange(self.max_len - length, self.max_len, device=sequences.device)
        keep = (sequences != PAD).unsqueeze(-1)
        hidden = self.item_embedding(sequences) * self.scale + self.position_embedding(positions)
        hidden = self.dropout(hidden) * keep
        causal = nn.Transformer.generate_square_subsequent_mask(length, device=sequences.device)
        for block in self.blocks:
            hidden = block(hidden, src_mask=causal, is_causal=True) * keep
        return self.final_norm(hidden)

    def item_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """(..., d) hidden states -> (..., N) scores of every catalog item (pad excluded)."""
        return hidden @ self.item_embedding.weight[1:].T

    def pair_logits(self, hidden: torch.Tensor, shifted_items: torch.Tensor) -> torch.Tensor:
        """(M, d) hidden states and (M,) shifted ids -> (M,) dot-product scores."""
        return (hidden * self.item_embedding(shifted_items)).sum(-1)


def sequences_from_samples(samples: Sequence[Sample], max_len: int) -> list[list[int]]:
    """One training sequence `history + [target]` per sample, the last max_len + 1 items."""
    return [list(sample.history[-max_len:]) + [sample.target] for sample in samples]


def sequences_from_interactions(interactions: Interactions, max_len: int) -> list[list[int]]:
    """Each user's chronological items, cut from the end into windows of max_len + 1 items.

    Consecutive windows overlap by one item so that every transition is trained once.
    """
    windows: list[list[int]] = []
    for history in interactions.histories().values():
        items = history.items
        end = len(items)
        while end >= 2:
            windows.append(items[max(0, end - max_len - 1) : end])
            end -= max_len
    return windows


def check_sequences(sequences: Sequence[Sequence[int]], n_items: int) -> None:
    """Reject an empty training set and ids outside the catalog before training starts."""
    usable = [seq for seq in sequences if len(seq) >= 2]
    if not usable:
        raise DatasetError("no training sequence with at least 2 items: pass a non-empty split")
    for seq in usable:
        bad = [i for i in seq if not 0 <= i < n_items]
        if bad:
            raise DatasetError(
                f"item id {bad[0]} is outside the catalog of {n_items} items; check the dataset"
            )


def pad_left(sequences: Sequence[Sequence[int]], max_len: int) -> torch.Tensor:
    """(B, T) int64 shifted ids (id + 1), left-padded with 0 to the batch's longest (<= max_len)."""
    clipped = [list(seq)[-max_len:] for seq in sequences]
    length = max(1, max((len(seq) for seq in clipped), default=1))
    batch = torch.zeros((len(clipped), length), dtype=torch.long)
    for row, seq in enumerate(clipped):
        if seq:
            batch[row, length - len(seq) :] = torch.tensor(seq, dtype=torch.long) + 1
    return batch
