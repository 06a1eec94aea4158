"""Features of the surrogate user's choice model, identical at fit time and in the simulation.

For user u and item i (vectors are unit length, d = embedding size):
    affinity         cos(mean of u's history vectors, v_i)
    recent_affinity  cos(sum_a RECENT_DECAY**a v_(history[-1-a]), v_i)   (a = age, 0 = last)
    popularity       standardised log(1 + training interactions of i)
    category_taste   log(p_u . m_i): p_u = u's category distribution (add-one smoothed),
                     m_i = i's categories, uniform over them (uniform over all when none)

A promotion with text vector p makes the user perceive the item at
v' = normalise((1 - rho) v + rho p) in both affinities (rho = `promotion_weight`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recagora.agents.roles.base import ItemFacts, UserCohort, history_weights

FEATURES = ("affinity", "recent_affinity", "popularity", "category_taste")
# Floats per gathered (block, K, d) tensor (4 MiB): cache-sized blocks run ~30% faster
# than 16 MiB ones, with the same numbers (each product is computed alone).
GATHER_BUDGET = 2**20


@dataclass(frozen=True)
class UserFeatures:
    """Per-user inputs of the choice model.

    mean, recent: (m, d) float32 unit vectors; category_pref: (m, C) float32 rows summing to 1.
    """

    mean: np.ndarray
    recent: np.ndarray
    category_pref: np.ndarray


@dataclass(frozen=True)
class PromotionVectors:
    """Promotion text vectors aligned with a (m, K) candidate array.

    ids: (m, K) int64 rows of `vectors`, -1 = no promotion; vectors: (P, d) float32 unit.
    """

    ids: np.ndarray
    vectors: np.ndarray


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def _smoothed(counts: np.ndarray) -> np.ndarray:
    """Add-one smoothing of category counts into a distribution, (m, C)."""
    if counts.shape[1] == 0:
        return counts.astype(np.float32)
    smoothed = counts + 1.0
    return (smoothed / smoothed.sum(axis=1, keepdims=True)).astype(np.float32)


def from_histories(facts: ItemFacts, histories: Sequence[Sequence[int]]) -> UserFeatures:
    """User features of many histories at once (sparse user x item weights times item arrays)."""
    counts, decayed, _ = history_weights(histories, len(facts))
    return UserFeatures(
        mean=_unit(counts @ facts.vectors),
        recent=_unit(decayed @ facts.vectors),
        category_pref=_smoothed(np.asarray(counts @ facts.categories)),
    )


def from_cohort(cohort: UserCohort, idx: np.ndarray) -> UserFeatures:
    """User features of cohort rows `idx` (their running sums already hold the histories)."""
    return UserFeatures(
        mean=cohort.taste_vectors(idx),
        recent=cohort.recent_vectors(idx),
        category_pref=_smoothed(cohort.category_counts[idx]),
    )


def item_category_weights(facts: ItemFacts) -> np.ndarray:
    """(N, C) float32 m_i: uniform over the item's categories, over all categories when it has none."""
    cats = facts.categories
    if cats.shape[1] == 0:
        return cats
    n_cats = cats.sum(axis=1, keepdims=True)
    return np.where(n_cats > 0, cats / np.maximum(n_cats, 1.0), 1.0 / cats.shape[1]).astype(
        np.float32
    )


def standardised_log_popularity(popularity: np.ndarray) -> np.ndarray:
    """(N,) float32 (log1p(pop) - mean) / std over the catalog."""
    logged = np.log1p(np.asarray(popularity, np.float64))
    return ((logged - logged.mean()) / max(logged.std(), 1e-12)).astype(np.float32)


def candidate_features(
    facts: ItemFacts,
    users: UserFeatures,
    candidates: np.ndarray,
    promotions: PromotionVectors | None = None,
    promotion_weight: float = 0.0,
) -> np.ndarray:
    """(m, K, F) float32 features of each user's candidates, F = len(FEATURES)."""
    out = np.empty((*candidates.shape, len(FEATURES)), np.float32)
    popularity = standardised_log_popularity(facts.popularity)
    category_weights = item_category_weights(facts)
    block = max(1, GATHER_BUDGET // max(1, candidates.shape[1] * facts.vectors.shape[1]))
    for start in range(0, len(candidates), block):
        part = slice(start, start + block)
        cands = candidates[part]
        item_vecs = facts.vectors[cands]  # (B, K, d)
        promo = _gather_promotions(promotions, part, item_vecs, promotion_weight)
        for column, user_vecs in ((0, users.mean[part]), (1, users.recent[part])):
            out[part, :, column] = _perceived_cosine(user_vecs, item_vecs, promo, promotion_weight)
        out[part, :, 2] = popularity[cands]
        out[part, :, 3] = _category_taste(users.category_pref[part], category_weights[cands])
    return out


def _gather_promotions(
    promotions: PromotionVectors | None, part: slice, items: np.ndarray, rho: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(B, K, d) promotion vectors (row 0 where there is none), the (B, K) bool "has one",
    and the (B, K) norm |(1 - rho) v + rho p| of each perceived item (see below), which
    depends on the item and its ad only: computed once for both user vectors."""
    if promotions is None or rho == 0.0:
        return None
    ids = promotions.ids[part]
    present = ids >= 0
    if not present.any():
        return None
    vectors = promotions.vectors[np.maximum(ids, 0)]
    overlap = np.einsum("bkd,bkd->bk", items, vectors)
    norm = np.sqrt(np.maximum((1 - rho) ** 2 + rho**2 + 2 * rho * (1 - rho) * overlap, 1e-12))
    return vectors, present, norm


def _perceived_cosine(
    users: np.ndarray, items: np.ndarray, promo: tuple | None, rho: float
) -> np.ndarray:
    """(B, K) cos(u, normalise((1 - rho) v + rho p)); plain cos(u, v) where there is no promotion.

    With unit u, v, p: |(1 - rho) v + rho p|^2 = (1 - rho)^2 + rho^2 + 2 rho (1 - rho) v.p,
    so only three dot products per pair are needed (no (B, K, d) mixture is built).
    """
    plain = np.einsum("bd,bkd->bk", users, items)
    if promo is None or rho == 0.0:
        return plain
    vectors, present, norm = promo
    toward = np.einsum("bd,bkd->bk", users, vectors)
    return np.where(present, ((1 - rho) * plain + rho * toward) / norm, plain)


def _category_taste(prefs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, K) log(p_u . m_i); 0 when the catalog has no categories."""
    if prefs.shape[1] == 0:
        return np.zeros(weights.shape[:2], np.float32)
    return np.log(np.einsum("bc,bkc->bk", prefs, weights) + 1e-6)
