"""FLAME's step-wise rewards for list editing (Fan et al., NeurIPS 2025; arXiv 2505.20218).

A list editor reads a proposed medication list M_0 and writes one drug per line; line n
adds (or, for the remove instruction, removes) its drug, giving M_n. With the potential

    phi(n) = Jaccard(M_n, truth) - alpha * DDI(M_n) - beta * RefusalRate(lines 1..n)

the list reward is R = phi(N) - phi(0), and every token of line n gets the advantage

    A = norm_group(R) + lam * (phi(n) - phi(n - 1))        (gamma = 1)

whose shaped terms add up over the lines to R itself (potential-based shaping keeps the
optimal policy; the paper's theorem). FLAME's code computes the refusal step term as the
running refusal LEVEL -(#unmatched so far)/(t+1), not a difference of the potential, so its
shaped terms do not telescope; here every term, refusal included, is a difference of phi.
An unmatched line (None: strict name matching, the caller's) changes no list and counts as
a refusal. `outcome_advantages` is plain GRPO's (lam = 0) for the ablation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from recagora.item_space.errors import ConfigError
from recagora.item_space.metrics.medication import ddi_rate, jaccard

Interacting = Callable[[int, int], bool]


def potentials(
    initial: set[int],
    lines: Sequence[int | None],
    truth: set[int],
    interacting: Interacting,
    *,
    op: str = "add",
    alpha: float = 0.0,
    beta: float = 0.2,
) -> np.ndarray:
    """phi(0..N) of one completion (FLAME's defaults: alpha 0, beta 0.2)."""
    if op not in ("add", "remove"):
        raise ConfigError(f"op must be 'add' or 'remove', got {op!r}")
    current, refused = set(initial), 0
    values = [_phi(current, truth, interacting, alpha, beta, 0.0)]
    for n, drug in enumerate(lines, start=1):
        if drug is None:
            refused += 1
        elif op == "add":
            current.add(drug)
        else:
            current.discard(drug)
        values.append(_phi(current, truth, interacting, alpha, beta, refused / n))
    return np.array(values)


def _phi(current, truth, interacting, alpha: float, beta: float, refusal: float) -> float:
    penalty = alpha * ddi_rate(current, interacting) if alpha else 0.0
    return jaccard(current, truth) - penalty - beta * refusal


def list_reward(phi: np.ndarray) -> float:
    """R = phi(N) - phi(0)."""
    return float(phi[-1] - phi[0])


def group_normalised(rewards: Sequence[float], eps: float = 1e-6) -> np.ndarray:
    """GRPO's (R - mean) / (std + eps) over one prompt's G completions."""
    r = np.asarray(rewards, dtype=float)
    if r.size < 2:
        raise ConfigError(f"a group needs at least 2 completions, got {r.size}")
    return (r - r.mean()) / (r.std() + eps)


def stepwise_advantages(group_phi: Sequence[np.ndarray], lam: float = 0.5) -> list[np.ndarray]:
    """Per completion, one advantage per line: norm_group(R) + lam * (phi(n) - phi(n-1))."""
    base = group_normalised([list_reward(phi) for phi in group_phi])
    return [b + lam * np.diff(phi) for b, phi in zip(base, group_phi, strict=True)]


def outcome_advantages(group_phi: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Outcome-only GRPO: every line of a completion gets norm_group(R)."""
    return stepwise_advantages(group_phi, lam=0.0)
