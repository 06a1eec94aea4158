"""The explanation-utility metrics of one round: each without / with explanations, and the gain.

Sampled (any user agent): hit = the user chose their held-out item (the item they really
chose next), accept = the user chose some item; both over the round's active users.
Perceived (users with utilities, i.e. learned / surrogate): top1 = the held-out item has
the highest perceived utility on the slate; p_hit / p_accept = the model's own
probabilities of choosing the held-out item / any item, with the examination weights of
`SurrogateUserAgent.respond` (w_j = exam_j exp(u_j - outside), p_accept = sum w / (1 + sum w)).
"""

from __future__ import annotations

import numpy as np

from recagora.agents.roles.base import Promotions


def decision_metrics(
    slates: np.ndarray, targets: np.ndarray, without: np.ndarray, with_text: np.ndarray,
    explanations: Promotions,
) -> dict[str, float]:
    """active_users, hit_* / accept_* (without, with, gain) and the share of items explained."""
    m = max(len(slates), 1)
    out = {"active_users": float(len(slates))}
    out |= _pair("hit", (without == targets).sum() / m, (with_text == targets).sum() / m)
    out |= _pair("accept", (without >= 0).sum() / m, (with_text >= 0).sum() / m)
    out["explained_share"] = float((explanations.ids > 0).mean()) if explanations.ids.size else 0.0
    return out


def perceived_metrics(
    user, cohort, idx: np.ndarray, slates: np.ndarray, targets: np.ndarray,
    plain: Promotions, explained: Promotions,
) -> dict[str, float]:
    """top1_*, p_hit_*, p_accept_* (without, with, gain) from the user's perceived utilities."""
    if not len(idx):
        return {}
    column = np.argmax(slates == targets[:, None], axis=1)  # every active slate holds its target
    rows = np.arange(len(idx))
    values = {}
    for arm, promotions in (("without", plain), ("with", explained)):
        u = user.utilities(cohort, idx, slates, promotions) / user.model.temperature
        weight = np.exp(u - user.model.outside_utility / user.model.temperature)
        weight *= 1.0 / np.log2(np.arange(slates.shape[1]) + 2.0)
        total = weight.sum(axis=1)
        values[arm] = (
            (u.argmax(axis=1) == column).mean(),
            (weight[rows, column] / (1.0 + total)).mean(),
            (total / (1.0 + total)).mean(),
        )
    out: dict[str, float] = {}
    for j, name in enumerate(("top1", "p_hit", "p_accept")):
        out |= _pair(name, values["without"][j], values["with"][j])
    return out


def _pair(name: str, without: float, with_text: float) -> dict[str, float]:
    return {
        f"{name}_without": float(without),
        f"{name}_with": float(with_text),
        f"{name}_gain": float(with_text - without),
    }
