"""TriRec stage 2: platform-led sequential multi-objective re-ranking (closed form, no LLM).

Gong et al., "Breaking User-Centric Agency: A Tri-Party Framework for Agent-Based
Recommendation", arXiv 2603.10673, stage 2. For each position k = 0..K-1 in turn, every
candidate j not yet placed gets

    score_j = [a_k * acc_j + (1 - a_k) * (l1 * dgu_j + l2 * mgu_j)] * eiu_j ** l_item

where acc, dgu, mgu and eiu are the min-max normalised (over the remaining candidates)
deltas of accuracy rel_j * w(k), group fairness, max-group fairness and item utility
ctr_j * w(k); the best candidate takes position k and its popularity group's exposure
grows by w(k). w(k) = 1 / log2(k + 2); a_k = a_min + (a_max - a_min) (w(k) / w(0)) ** a_p;
rel_j = sigmoid(beta (r_j - mean r)); ctr_j = sigmoid(slope * cos(u, i_j)).

The exposure state persists across users and rounds. With `users_per_step` = 1 users are
re-ranked strictly one after another (the paper). Larger values re-rank a block of users
in parallel against one exposure snapshot, the snapshot advancing after each POSITION by
the block's placements: an approximation that vectorises 100k-user cohorts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recagora.agents.roles.base import ExposureState


@dataclass(frozen=True)
class TriRecConfig:
    """Weights of TriRec's re-ranker; defaults are the paper's (arXiv 2603.10673, sec. 4)."""

    alpha_min: float = field(
        default=0.1,
        metadata={"help": "Participation a_k of accuracy at the last positions (paper: 0.1)."},
    )
    alpha_max: float = field(
        default=0.5,
        metadata={
            "help": "Participation a_0 of accuracy at the top position; the paper sweeps 0.1..1.0."
        },
    )
    alpha_p: float = field(
        default=0.1,
        metadata={"help": "Exponent of the position-aware participation curve (paper: 0.1)."},
    )
    lambda_dgu: float = field(
        default=0.5, metadata={"help": "Weight l1 of the group-fairness (DGU) delta (paper: 0.5)."}
    )
    lambda_mgu: float = field(
        default=0.5,
        metadata={"help": "Weight l2 of the max-group-fairness (MGU) delta (paper: 0.5)."},
    )
    lambda_item: float = field(
        default=10.0,
        metadata={
            "help": "Exponent on the normalised item-utility (EIU) delta; 0 disables it (paper: 10)."
        },
    )
    beta: float = field(
        default=1.0,
        metadata={
            "help": "Slope of the soft normalisation sigmoid(beta (r - mean r)) of user scores (paper: 1)."
        },
    )
    ctr_slope: float = field(
        default=1.0,
        metadata={"help": "Slope of the CTR proxy sigmoid(slope * cos(u, i)) (paper: 1)."},
    )
    n_groups: int = field(
        default=8, metadata={"help": "Equal-size popularity groups over the catalog (paper: 8)."}
    )
    users_per_step: int = field(
        default=1,
        metadata={
            "help": "Re-ranking block: users re-ranked in parallel against one exposure snapshot (it advances after each position by the block's placements); 1 = the paper's strict one-user-at-a-time order; the 100k-user scale figures use 256."
        },
    )

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha_min <= self.alpha_max <= 1.0:
            raise ValueError(
                f"need 0 <= alpha_min ({self.alpha_min}) <= alpha_max ({self.alpha_max}) <= 1"
            )
        if self.n_groups < 1 or self.users_per_step < 1:
            raise ValueError(
                f"n_groups ({self.n_groups}) and users_per_step ({self.users_per_step}) must be >= 1"
            )


def position_weight(k: np.ndarray | int) -> np.ndarray:
    """w(k) = 1 / log2(k + 2) for 0-based positions k (the DCG discount)."""
    return 1.0 / np.log2(np.asarray(k, dtype=np.float64) + 2.0)


def participation(k: int, cfg: TriRecConfig) -> float:
    """a_k = a_min + (a_max - a_min) * (w(k) / w(0)) ** a_p."""
    ratio = float(position_weight(k) / position_weight(0))
    return cfg.alpha_min + (cfg.alpha_max - cfg.alpha_min) * ratio**cfg.alpha_p


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def minmax_remaining(values: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    """(..., B, K) min-max normalisation over the remaining (B, K) entries of each row; a flat
    row gives 0."""
    low = np.where(remaining, values, np.inf).min(axis=-1, keepdims=True)
    high = np.where(remaining, values, -np.inf).max(axis=-1, keepdims=True)
    spread = high - low
    safe = np.where(spread > 0, spread, 1.0)
    return np.where(remaining & (spread > 0), (values - low) / safe, 0.0)


def fairness_gains(exposure: ExposureState, p_train: np.ndarray, weight: float) -> np.ndarray:
    """(G,) how much adding `weight` to group g closes its gap |c_g / N - p_train(g)| (>= 0).

    The share of every group is 0 while N = 0.
    """
    counts, total = exposure.group_weight, exposure.total
    share_now = counts / total if total > 0 else np.zeros_like(counts)
    share_after = (counts + weight) / (total + weight)
    return np.maximum(0.0, np.abs(share_now - p_train) - np.abs(share_after - p_train))


def max_gap_group(exposure: ExposureState, p_train: np.ndarray) -> int:
    """The group whose exposure share is farthest from its training share."""
    counts, total = exposure.group_weight, exposure.total
    share_now = counts / total if total > 0 else np.zeros_like(counts)
    return int(np.argmax(np.abs(share_now - p_train)))


def rerank(
    user_scores: np.ndarray,
    affinity: np.ndarray,
    groups: np.ndarray,
    exposure: ExposureState,
    p_train: np.ndarray,
    cfg: TriRecConfig,
) -> tuple[np.ndarray, ExposureState]:
    """Re-rank every user's candidates, users in order, carrying the exposure state along.

    Args:
        user_scores: (n, K) user-agent relevance r(u, i) (0-10 scale).
        affinity: (n, K) cosine between the user's history vector and each candidate.
        groups: (n, K) int popularity group of each candidate, 0..G-1.
        exposure: the state before these users; p_train: (G,) training exposure shares.

    Returns:
        order: (n, K) int64 candidate COLUMNS best first; the exposure state after all users.
    """
    n_users, n_candidates = np.shape(user_scores)
    if not n_users:
        return np.zeros((0, n_candidates), np.int64), exposure
    scores = np.asarray(user_scores, np.float64)
    rel = _sigmoid(cfg.beta * (scores - scores.mean(axis=1, keepdims=True)))  # (n, K)
    ctr = _sigmoid(cfg.ctr_slope * np.asarray(affinity, np.float64))  # (n, K)
    plan = _Positions.of(n_candidates, cfg)
    group_weight, total = exposure.group_weight, exposure.total
    order = np.empty((n_users, n_candidates), np.int64)
    for start in range(0, n_users, cfg.users_per_step):
        block = slice(start, start + cfg.users_per_step)
        group_weight, total = _rerank_block(
            rel[block], ctr[block], groups[block], group_weight, total, p_train, plan, order[block]
        )
    return order, ExposureState(group_weight, total)


@dataclass(frozen=True)
class _Positions:
    """Per position k: w(k) and a_k as Python floats, and the weighted-sum coefficients
    (computed once per call, not once per user and position)."""

    weights: tuple[float, ...]
    alphas: tuple[float, ...]
    cfg: TriRecConfig

    @classmethod
    def of(cls, n_candidates: int, cfg: TriRecConfig) -> _Positions:
        weights = tuple(float(position_weight(k)) for k in range(n_candidates))
        return cls(weights, tuple(participation(k, cfg) for k in range(n_candidates)), cfg)


def _rerank_block(
    rel: np.ndarray,
    ctr: np.ndarray,
    groups: np.ndarray,
    group_weight: np.ndarray,
    total: float,
    p_train: np.ndarray,
    plan: _Positions,
    order: np.ndarray,
) -> tuple[np.ndarray, float]:
    """Greedy fill of K positions for a block of B users sharing one exposure snapshot;
    writes the (B, K) columns into `order` and returns the exposure after the block.

    The same arithmetic as the per-position formula in the module docstring, element by
    element (so the same slates bit for bit), laid out candidates-first, (K, B): the
    min/max/argmax over a user's K candidates then run across B-long contiguous rows
    (numpy reduces a short last axis one row at a time, ~3x slower at B = 256).
    """
    n_users, n_candidates = rel.shape
    rel, ctr, groups = rel.T.copy(), ctr.T.copy(), groups.T.copy()  # (K, B)
    remaining = np.ones((n_candidates, n_users), bool)
    deltas = np.empty((4, n_candidates, n_users))
    users = np.arange(n_users)
    for k, (weight, alpha) in enumerate(zip(plan.weights, plan.alphas, strict=True)):
        _fill_deltas(deltas, rel, ctr, groups, group_weight, total, p_train, weight)
        step_score = _mix(_minmax_candidates(deltas, remaining), alpha, plan.cfg)
        best = np.where(remaining, step_score, -np.inf).argmax(axis=0)  # ties: lowest column
        order[:, k] = best
        remaining[best, users] = False
        placed = np.bincount(groups[best, users], minlength=len(p_train)).astype(np.float64)
        group_weight, total = group_weight + weight * placed, total + weight * n_users
    return group_weight, total


def _minmax_candidates(values: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    """`minmax_remaining` for the candidates-first layout: (4, K, B) values, (K, B) mask."""
    low = np.where(remaining, values, np.inf).min(axis=-2, keepdims=True)
    high = np.where(remaining, values, -np.inf).max(axis=-2, keepdims=True)
    spread = high - low
    safe = np.where(spread > 0, spread, 1.0)
    return np.where(remaining & (spread > 0), (values - low) / safe, 0.0)


def _fill_deltas(deltas, rel, ctr, groups, group_weight, total, p_train, weight) -> None:
    """deltas[0..3] = accuracy rel * w, DGU, MGU and item-utility ctr * w deltas."""
    share_now = group_weight / total if total > 0 else np.zeros_like(group_weight)
    gap_now = np.abs(share_now - p_train)
    share_after = (group_weight + weight) / (total + weight)
    gains = np.maximum(0.0, gap_now - np.abs(share_after - p_train))  # = fairness_gains
    np.multiply(rel, weight, out=deltas[0])
    np.take(gains, groups, out=deltas[1])
    deltas[2] = 0.0
    np.copyto(deltas[2], deltas[1], where=groups == int(np.argmax(gap_now)))  # = max_gap_group
    np.multiply(ctr, weight, out=deltas[3])


def _mix(normalised: np.ndarray, alpha: float, cfg: TriRecConfig) -> np.ndarray:
    """TriRec score from the four normalised deltas (acc, dgu, mgu, eiu)."""
    acc, dgu, mgu, eiu = normalised
    mix = alpha * acc + (1.0 - alpha) * (cfg.lambda_dgu * dgu + cfg.lambda_mgu * mgu)
    return mix * eiu**cfg.lambda_item
