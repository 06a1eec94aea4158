"""PUMA's migration adapter: source prompt space -> target prompt space.

Shape (Zhao et al. 2026, Sec. 4.2): a residual MLP block in the source width, an
up-projection MLP to the target width, a residual block there, an output MLP; each
behind a LayerNorm. `width` is the paper's 4096 scaled to our 135M/270M backbones.
Aggregated migration feeds the concatenation [p_A; p_B] (source width d_A + d_B).
"""

from __future__ import annotations

import torch
from torch import nn

from recagora.item_space.errors import ConfigError


def _mlp(d_in: int, width: int, d_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.LayerNorm(d_in), nn.Linear(d_in, width), nn.SiLU(), nn.Dropout(dropout), nn.Linear(width, d_out))


class MigrationAdapter(nn.Module):
    """(B, source_dim) -> (B, target_dim); `scale` is the target LM's token scale."""

    def __init__(self, source_dim: int, target_dim: int, width: int = 512, dropout: float = 0.1, scale: float = 1.0):
        super().__init__()
        self.source_dim, self.target_dim = source_dim, target_dim
        self.source_block = _mlp(source_dim, width, source_dim, dropout)
        self.up = _mlp(source_dim, width, target_dim, dropout)
        self.target_block = _mlp(target_dim, width, target_dim, dropout)
        self.out = _mlp(target_dim, width, target_dim, dropout)
        self.scale = scale

    def forward(self, prompts: torch.Tensor) -> torch.Tensor:
        check_source(prompts, self.source_dim)
        x = prompts + self.source_block(prompts)
        x = self.up(x)
        x = x + self.target_block(x)
        return self.out(x) * self.scale


class IdentityAdapter(nn.Module):
    """Migration to the same width, unchanged: A -> A must reproduce A (the test's check)."""

    def __init__(self, source_dim: int, target_dim: int):
        super().__init__()
        if source_dim != target_dim:
            raise ConfigError(
                f"no adapter shape for an identity migration from width {source_dim} to width {target_dim}; use the MLP adapter"
            )
        self.source_dim = self.target_dim = source_dim

    def forward(self, prompts: torch.Tensor) -> torch.Tensor:
        check_source(prompts, self.source_dim)
        return prompts


def make_adapter(kind: str, source_dim: int, target_dim: int, width: int, scale: float) -> nn.Module:
    """PUMA's MLP adapter, or the identity (ConfigError when the widths differ)."""
    if kind == "identity":
        return IdentityAdapter(source_dim, target_dim)
    return MigrationAdapter(source_dim, target_dim, width, scale=scale)


def check_source(prompts: torch.Tensor, source_dim: int) -> None:
    """Prompts must have the width the adapter was built for."""
    if prompts.shape[-1] != source_dim:
        raise ConfigError(
            f"no adapter shape for this backbone pair: source prompts have width {prompts.shape[-1]}, "
            f"the adapter expects {source_dim}"
        )


def source_prompts(tables: dict[str, torch.Tensor], users: list[str], wanted: list[str]) -> torch.Tensor:
    """Rows of `wanted` users from a prompt table keyed by `users` (concatenated over sources).

    Raises:
        ConfigError: a wanted user has no source prompt.
    """
    index = {u: i for i, u in enumerate(users)}
    missing = [u for u in wanted if u not in index]
    if missing:
        raise ConfigError(f"user {missing[0]!r} has no source prompt ({len(missing)} such users); migrate only users the source trained")
    rows = torch.tensor([index[u] for u in wanted])
    return torch.cat([table[rows] for table in tables.values()], dim=-1)
