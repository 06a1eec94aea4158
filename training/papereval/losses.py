"""Ranking losses for the PaperEval scorer over one list of B papers.

ListMLE (Xia et al., ICML 2008) at every latent step with a temperature annealed
linearly from tau_max to tau_min: PaperEval's progressive ranking optimisation
(Zheng et al., AAAI'26, eq. for L_rank). ListNet (Cao et al., ICML 2007) and MSE are
the paper's ablation alternatives.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def step_temperatures(steps: int, tau_max: float, tau_min: float) -> torch.Tensor:
    """(m,) tau^(j) = tau_max + (j/m)(tau_min - tau_max) for j = 1..m (the last is tau_min)."""
    j = torch.arange(1, steps + 1, dtype=torch.float32)
    return tau_max + (j / steps) * (tau_min - tau_max)


def listmle_loss(
    scores: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """-log P(true order | scores / temperature) under the Plackett-Luce model.

    Args:
        scores: (B,) predicted scores.
        labels: (B,) ground truth; higher ranks first (ties keep input order).
        temperature: divides the scores.

    Returns:
        Scalar: -sum_i log( exp(s_r(i)) / sum_{k>=i} exp(s_r(k)) ), summed over the B positions.
    """
    order = torch.argsort(labels, descending=True, stable=True)
    ordered = scores[order] / temperature
    # log sum_{k>=i} exp(s_k): a reversed cumulative logsumexp.
    tail_logsumexp = torch.logcumsumexp(ordered.flip(0), dim=0).flip(0)
    return (tail_logsumexp - ordered).sum()


def progressive_listmle_loss(
    step_scores: torch.Tensor, labels: torch.Tensor, tau_max: float, tau_min: float
) -> torch.Tensor:
    """Sum over the m latent steps of ListMLE at that step's temperature; step_scores (B, m)."""
    temperatures = step_temperatures(step_scores.shape[1], tau_max, tau_min)
    return sum(
        listmle_loss(step_scores[:, j], labels, float(t)) for j, t in enumerate(temperatures)
    )


def listnet_loss(
    step_scores: torch.Tensor, labels: torch.Tensor, tau_max: float, tau_min: float
) -> torch.Tensor:
    """Sum over steps of KL(softmax(labels) || softmax(scores / tau^(j))) (top-one ListNet)."""
    target = F.softmax(labels, dim=0)
    temperatures = step_temperatures(step_scores.shape[1], tau_max, tau_min)
    losses = [
        F.kl_div(F.log_softmax(step_scores[:, j] / float(t), dim=0), target, reduction="sum")
        for j, t in enumerate(temperatures)
    ]
    return sum(losses)


def mse_loss(
    step_scores: torch.Tensor, labels: torch.Tensor, tau_max: float, tau_min: float
) -> torch.Tensor:
    """Mean squared error of every step's score against the [0,1] label, summed over steps."""
    del tau_max, tau_min  # pointwise: no temperature
    return ((step_scores - labels[:, None]) ** 2).mean(dim=0).sum()


LOSSES = {"listmle": progressive_listmle_loss, "listnet": listnet_loss, "mse": mse_loss}
