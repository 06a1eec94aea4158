"""Item-side utility of ranked lists: TriRec's expected item utility (EIU).

TriRec (Gong et al., arXiv 2603.10673, `evaluate/data_statistics_platform_second.py`):
    CTR(u, i) = sigmoid(cos(u, i) / tau), tau = std of the cosines of the list's items
                (0.5 when that std is below 1e-3); z = cos / tau is clipped to [-20, 20].
    EIU(u, i at 0-based position k) = w(k) * CTR(u, i), w(k) = 1 / log2(k + 2).
    EIU@K of a list = sum of its first K EIU values; the reported figure is its mean
    over users. tau is computed over the WHOLE list, before truncation to K.
The user vector is the mean of the vectors of the user's TRAINING items (TriRec's
evaluation leaked the test item into it; `user_vectors_from_histories` does not).
Fallbacks as in TriRec: a user without a usable vector gets CTR 0.01 for every item, an
item without one (zero norm) gets CTR 0.001. Padding slots (-1) have utility 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "position_weights",
    "ctr_probabilities",
    "item_utility",
    "per_user_eiu",
    "eiu",
    "target_eiu",
    "user_vectors_from_histories",
]

MISSING_USER_CTR = 0.01
MISSING_ITEM_CTR = 0.001
MIN_TAU, FALLBACK_TAU = 1e-3, 0.5


def position_weights(length: int) -> np.ndarray:
    """(L,) w(k) = 1 / log2(k + 2) for 0-based positions k."""
    return 1.0 / np.log2(np.arange(length) + 2.0)


def _norms(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1)
    return np.where(np.isfinite(norms), norms, 0.0)


def _list_ctr(user: np.ndarray, items: np.ndarray) -> np.ndarray:
    """(m,) CTR of the m items of one list (no padding) for one user vector."""
    user_norm, item_norms = float(_norms(user)), _norms(items)
    if user_norm == 0.0:
        return np.full(len(items), MISSING_USER_CTR)
    usable = item_norms > 0
    cosines = np.clip(items @ user / (user_norm * item_norms + 1e-8), -1.0, 1.0)
    tau = float(np.std(cosines[usable])) if usable.any() else 0.0
    if not np.isfinite(tau) or tau < MIN_TAU:
        tau = FALLBACK_TAU
    ctr = 1.0 / (1.0 + np.exp(-np.clip(cosines / tau, -20.0, 20.0)))
    return np.where(usable, ctr, MISSING_ITEM_CTR)


def ctr_probabilities(
    ranked: np.ndarray, user_vectors: np.ndarray, item_vectors: np.ndarray
) -> np.ndarray:
    """(n, L) TriRec CTR of each slot; 0 at padding.

    ranked: (n, L) int ids, -1 padding; user_vectors: (n, d); item_vectors: (N, d).
    """
    lists = np.asarray(ranked, dtype=np.int64)
    users = np.asarray(user_vectors, dtype=np.float64)
    items = np.asarray(item_vectors, dtype=np.float64)
    ctr = np.zeros(lists.shape)
    for row, ids in enumerate(lists):
        valid = ids >= 0
        if valid.any():
            ctr[row, valid] = _list_ctr(users[row], items[ids[valid]])
    return ctr


def item_utility(
    ranked: np.ndarray, user_vectors: np.ndarray, item_vectors: np.ndarray
) -> np.ndarray:
    """(n, L) per-slot expected item utility w(k) * CTR(u, i); 0 at padding."""
    ctr = ctr_probabilities(ranked, user_vectors, item_vectors)
    return ctr * position_weights(ctr.shape[1])


def per_user_eiu(
    ranked: np.ndarray, user_vectors: np.ndarray, item_vectors: np.ndarray, k: int | None = None
) -> np.ndarray:
    """(n,) EIU@k of each list: the sum of its first k slot utilities (all if k is None)."""
    return item_utility(ranked, user_vectors, item_vectors)[:, :k].sum(axis=1)


def eiu(
    ranked: np.ndarray, user_vectors: np.ndarray, item_vectors: np.ndarray, k: int | None = None
) -> float:
    """TriRec's EIU@k averaged over users."""
    values = per_user_eiu(ranked, user_vectors, item_vectors, k)
    if len(values) == 0:
        raise ValueError("no rows to evaluate: ranked is empty")
    return float(values.mean())


def target_eiu(
    ranked: np.ndarray, targets: np.ndarray, user_vectors: np.ndarray, item_vectors: np.ndarray
) -> np.ndarray:
    """(n,) utility of the slot holding each row's target (first occurrence); 0 if absent."""
    utility = item_utility(ranked, user_vectors, item_vectors)
    lists = np.asarray(ranked, dtype=np.int64)
    hits = (lists == np.asarray(targets, dtype=np.int64)[:, None]) & (lists >= 0)
    first = hits.argmax(axis=1)
    return np.where(hits.any(axis=1), utility[np.arange(len(utility)), first], 0.0)


def user_vectors_from_histories(
    histories: Sequence[Sequence[int]], item_vectors: np.ndarray
) -> np.ndarray:
    """(n, d) mean vector of each history's items; a zero row for an empty history."""
    items = np.asarray(item_vectors, dtype=np.float64)
    users = np.zeros((len(histories), items.shape[1]))
    for row, history in enumerate(histories):
        if len(history):
            users[row] = items[np.asarray(history, dtype=np.int64)].mean(axis=0)
    return users
