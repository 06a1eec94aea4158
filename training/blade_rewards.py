"""BLADE's list rewards and its Bayesian dynamic CDF (Chen et al., "Beyond Static Best-of-N:
Bayesian List-wise Alignment for LLM-based Recommendation", SIGIR 2026, arXiv 2605.04559).

What the paper's public traces confirm (../shared/reference/policies-from-papers-more.md
section 1): list rewards Hit, NDCG, MGU, ILD combined with a weight lambda; the prior is the
static reference distribution (lists from the SFT model), the evidence the current policy's
rollouts; a Beta model with a closed-form Bayesian update gives a dynamic CDF of the reward,
turned into a surrogate reward optimised with GRPO; tau = 0 is static BoN alignment.

RECONSTRUCTED here (the paper's formulas could not be read; every choice is a config field):
  - F_ref(r): mid-rank empirical CDF of r among the M reference lists' rewards;
  - prior Beta(c F_ref + a0, c (1 - F_ref) + b0) with c = M, a0 = b0 = 1 (Laplace);
  - evidence k(r) = #{g : r_g < r} + 1/2 #{g : r_g = r} among the current group's G lists,
    weighted so that the evidence's share of the posterior is tau: the posterior mean is
    F(r) = (1 - tau) * (M F_ref + a0) / (M + a0 + b0) + tau * k(r) / G;
  - surrogate reward log F(r) (vBoN's log-CDF), group-normalised by GRPO.
"""

from __future__ import annotations

import numpy as np

from recagora.item_space.metrics.diversity import per_list_ild


def hit_at_k(lists: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(..., ) 1.0 where the target is in the list. lists: (..., K) ids (-1 pad); targets (...)."""
    return (lists == targets[..., None]).any(-1).astype(np.float64)


def ndcg_at_k(lists: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(..., ) 1 / log2(rank + 2) of the target's 0-based rank in the list, 0 if absent."""
    found = lists == targets[..., None]
    rank = found.argmax(-1)
    return np.where(found.any(-1), 1.0 / np.log2(rank + 2.0), 0.0)


def mgu(lists: np.ndarray, histories: list, group: np.ndarray, n_groups: int) -> np.ndarray:
    """(B, G) mean |share_list(g) - share_history(g)| over popularity groups (lower = fairer).

    lists: (B, G, K) item ids (-1 pad); histories: B item-id sequences; group: (N,) group
    id per item (-1 = ungrouped, left out). The SPRec/Flower MGU, per list and per user.
    """
    out = np.zeros(lists.shape[:2])
    for b, history in enumerate(histories):
        wanted = _shares(np.asarray(history, np.int64), group, n_groups)
        for g, items in enumerate(lists[b]):
            out[b, g] = np.abs(_shares(items[items >= 0], group, n_groups) - wanted).mean()
    return out


def _shares(items: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    groups = group[items]
    counts = np.bincount(groups[groups >= 0], minlength=n_groups).astype(np.float64)
    return counts / counts.sum() if counts.sum() else counts


def ild(lists: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(B, G) intra-list diversity: mean pairwise 1 - cosine (0 for lists of < 2 items)."""
    flat = per_list_ild(lists.reshape(-1, lists.shape[-1]), vectors)
    return np.nan_to_num(flat, nan=0.0).reshape(lists.shape[:2])


def mid_rank_cdf(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(B, G) share of each row's reference values below v, ties counted half.

    values: (B, G); reference: (B, M).
    """
    below = (reference[:, None, :] < values[:, :, None]).sum(-1)
    equal = (reference[:, None, :] == values[:, :, None]).sum(-1)
    return (below + 0.5 * equal) / reference.shape[1]


def prior_cdf(ref_cdf: np.ndarray, m: int, a0: float = 1.0, b0: float = 1.0) -> np.ndarray:
    """Mean of the prior Beta(m F_ref + a0, m (1 - F_ref) + b0): the smoothed static CDF."""
    return (m * ref_cdf + a0) / (m + a0 + b0)


def beta_posterior(
    ref_cdf: np.ndarray, cur_cdf: np.ndarray, m: int, g: int, tau: float, a0=1.0, b0=1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta) of the posterior Beta after G rollouts, the evidence weighted so that it
    holds a share tau of the posterior (tau in [0, 1); w = tau n0 / ((1 - tau) G))."""
    n0 = m + a0 + b0
    weight = tau * n0 / ((1.0 - tau) * g)
    alpha = m * ref_cdf + a0 + weight * g * cur_cdf
    beta = m * (1.0 - ref_cdf) + b0 + weight * g * (1.0 - cur_cdf)
    return alpha, beta


def posterior_cdf(
    rewards: np.ndarray, reference: np.ndarray, tau: float, a0: float = 1.0, b0: float = 1.0
) -> np.ndarray:
    """(B, G) posterior-mean CDF of each rollout's reward: the static CDF from the (B, M)
    reference rewards fused with the current group's (B, G) rewards (tau = 0: static)."""
    static = prior_cdf(mid_rank_cdf(rewards, reference), reference.shape[1], a0, b0)
    return (1.0 - tau) * static + tau * mid_rank_cdf(rewards, rewards)


def log_cdf_reward(
    rewards: np.ndarray, reference: np.ndarray, tau: float, a0: float = 1.0, b0: float = 1.0
) -> np.ndarray:
    """(B, G) BLADE's surrogate reward log F(r) (finite: F >= min(a0 / n0, 1 / 2G) > 0)."""
    return np.log(posterior_cdf(rewards, reference, tau, a0, b0))
