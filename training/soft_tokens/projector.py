"""Any vector -> k rows in an LM's embedding space."""

from __future__ import annotations

import torch
from torch import nn

from recagora.item_space.errors import ConfigError


class Projector(nn.Module):
    """(B, in_dim) -> (B, k, hidden): a linear map, or an MLP with one hidden layer.

    `scale` sets the output's initial standard deviation to the LM's token embeddings'
    (a soft row far larger than any real token drowns the prompt at step 0).
    """

    def __init__(
        self,
        in_dim: int,
        k: int,
        hidden_size: int,
        *,
        mlp_width: int = 0,
        scale: float = 1.0,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if k < 1:
            raise ConfigError(f"soft-token count must be at least 1 (got {k})")
        self.k, self.hidden_size = k, hidden_size
        out = k * hidden_size
        layers = [nn.Linear(in_dim, out)] if mlp_width <= 0 else [
            nn.Linear(in_dim, mlp_width), nn.GELU(), nn.Linear(mlp_width, out)
        ]
        self.net = nn.Sequential(*layers)
        self._init(scale, generator)

    def _init(self, scale: float, generator: torch.Generator | None) -> None:
        with torch.no_grad():
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    std = (1.0 / layer.weight.shape[1]) ** 0.5
                    layer.weight.normal_(0.0, std, generator=generator)
                    layer.bias.zero_()
            self.net[-1].weight.mul_(scale)  # unit-variance inputs -> rows of std ~scale

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        return self.net(vectors).view(len(vectors), self.k, self.hidden_size)
