"""MindRec's forward (masking) process and its training loss.

LLaDA (Nie et al., "Large Language Diffusion Models", 2025) masks every answer token
independently with probability t ~ U(0, 1) and weights the masked tokens'
cross-entropy by 1/t (an upper bound of the negative log-likelihood). MindRec
(arXiv 2511.12597, `MindRec/lora_finetune.py`) raises the floor of the ratio:
p = (1 - eps) t + eps, and normalises each sample's loss by its answer length:

    L = (1/B) sum_b sum_{i masked in b} CE(logits_bi, x_bi) / p_b / |answer_b|
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F


def mask_ratio(t: torch.Tensor, eps: float) -> torch.Tensor:
    """p_mask = (1 - eps) t + eps, elementwise."""
    return (1.0 - eps) * t + eps


def mask_answers(
    answer: torch.Tensor, seeds: Sequence[int], eps: float, mask_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mask each row of (B, L) `answer` with its own seeded t; (noisy, masked, p).

    Row b draws t and then its L uniforms from `torch.Generator().manual_seed(seeds[b])`,
    so a sample's mask depends on its seed only (not on the micro-batch it lands in).
    """
    draws = []
    for seed in seeds:
        generator = torch.Generator().manual_seed(int(seed))
        draws.append(torch.rand(1 + answer.shape[1], generator=generator))
    uniforms = torch.stack(draws).to(answer.device)  # (B, 1 + L)
    p = mask_ratio(uniforms[:, 0], eps)
    masked = uniforms[:, 1:] < p[:, None]
    return torch.where(masked, torch.full_like(answer, mask_id), answer), masked, p


def diffusion_loss_sum(
    logits: torch.Tensor, answer: torch.Tensor, masked: torch.Tensor, p: torch.Tensor
) -> torch.Tensor:
    """sum_b sum_{i masked} CE(logits_bi, answer_bi) / p_b / L (a scalar; divide by B).

    logits: (B, L, V); answer: (B, L) true token ids; masked: (B, L) bool; p: (B,).
    """
    ce = F.cross_entropy(logits.flatten(0, 1).float(), answer.flatten(), reduction="none")
    per_sample = (ce.view_as(answer) * masked).sum(dim=1) / p / answer.shape[1]
    return per_sample.sum()
