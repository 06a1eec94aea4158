"""UGR's three mechanisms as functions (Fan et al., "Uncertainty-aware Generative
Recommendation", KDD 2026, arXiv 2602.11719; code cxfann/UGR `train/RL/my_trainer.py`, as
read in ../shared/reference/policies-from-papers.md section 3.2).

For one prompt the G rollouts are the top-G constrained beams y_1..y_G in beam order with
length-normalised beam scores l_k, and y* is the held-out item.
"""

from __future__ import annotations

import numpy as np
import torch


def uncertainty_rewards(beams: np.ndarray, scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(B, G) +1 for a beam equal to y*; a wrong beam gets -softmax over the wrong beams'
    scores (a confident error costs up to -1, a tentative one about 0); all 0 when no beam
    hits (the whole group then has no advantage).

    beams: (B, G) item/unit ids (-1 = none); scores: (B, G) beam scores; targets: (B,).
    """
    correct = beams == targets[:, None]
    wrong = ~correct & (beams >= 0)
    logits = np.where(wrong, scores, -np.inf)
    top = np.max(logits, axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    weights = np.where(wrong, np.exp(logits - top), 0.0)
    share = weights / np.maximum(weights.sum(1, keepdims=True), 1e-300)
    rewards = correct.astype(np.float64) - share
    return np.where(correct.any(1, keepdims=True), rewards, 0.0)


def difficulty_weights(beams: np.ndarray, targets: np.ndarray, alpha_min: float) -> np.ndarray:
    """(B,) alpha = alpha_min + (1 - alpha_min) * rank(y*) / (G - 1); 1 when y* is missed.

    Easy prompts (y* the top beam) weigh alpha_min, hard ones (y* deep in the beam) up to 1.
    """
    found = beams == targets[:, None]
    rank = found.argmax(1)
    alpha = alpha_min + (1.0 - alpha_min) * rank / (beams.shape[1] - 1)
    return np.where(found.any(1), alpha, 1.0)


def confidence_loss(
    confidence: torch.Tensor,
    correct: torch.Tensor,
    partial: torch.Tensor,
    coeff_partial: float = 0.0,
    coeff_wrong: float = 0.5,
) -> torch.Tensor:
    """Pairwise softplus(c_k - c_y*) over partial and wrong beams, per prompt with a hit.

    confidence: (B, G) c_k in [0, 1]; correct, partial: (B, G) bool (partial = first code
    right, item wrong); wrong = neither. Returns the loss summed over prompts (0 without hits).
    """
    has = correct.any(1)
    c_star = (confidence * correct).sum(1) / correct.sum(1).clamp(min=1)
    gap = torch.nn.functional.softplus(confidence - c_star[:, None])
    wrong = ~correct & ~partial
    total = coeff_partial * _masked_mean(gap, partial) + coeff_wrong * _masked_mean(gap, wrong)
    return (total * has).sum()


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum(1) / mask.sum(1).clamp(min=1)
