"""The latent-reasoning scorer head over frozen backbone features.

PaperEval (Zheng et al., AAAI'26) appends m reasoning tokens to the LLM prompt and
scores the hidden state at each with one shared MLP. With a FROZEN backbone (the
cheap path here: features computed once), the m latent steps are taken in a small
recurrent latent space instead, in the Coconut style the paper cites (Hao et al.
2024, "continuous thought": each latent state is fed back as the next input). The
shared scorer and the per-step scores keep the paper's shape, so progressive ListMLE
applies unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


class LatentReasoningScorer(nn.Module):
    """features (B, d_in) -> per-step scores (B, m); the last column is the prediction."""

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        steps: int,
        dropout: float,
        generator: torch.Generator,
    ):
        super().__init__()
        self.steps = steps
        self.encode = nn.Sequential(
            nn.LayerNorm(input_dim), nn.Linear(input_dim, hidden_dim), nn.GELU()
        )
        self.think = nn.Sequential(nn.Linear(2 * hidden_dim, hidden_dim), nn.GELU())
        self.dropout = dropout
        self.generator = generator  # dropout masks come from it, not from torch's global RNG
        self.norm = nn.LayerNorm(hidden_dim)
        self.scorer = nn.Sequential(
            nn.Linear(hidden_dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, 1)
        )
        self._init(generator)

    def _init(self, generator: torch.Generator) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight, generator=generator)
                nn.init.zeros_(module.bias)

    def _dropout(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.dropout == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator) >= self.dropout
        return x * keep / (1 - self.dropout)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features (B, d_in) float32 -> scores (B, m), one column per latent step."""
        context = self.encode(features)  # (B, h)
        state, scores = context, []
        for _ in range(self.steps):
            update = self._dropout(self.think(torch.cat([state, context], dim=-1)))
            state = self.norm(state + update)  # (B, h)
            scores.append(self.scorer(state).squeeze(-1))  # (B,)
        return torch.stack(scores, dim=1)
