"""The learned user's slate context: the weights over its features move with the slate shown.

One w for every slate, fitted on a mix of popularity-drawn and uniform validation slates,
is a compromise: on ML-100K the scale that fits the popularity slates best is 0.75-0.9 of
the fitted w and the uniform slates' 1.15-1.35, on the validation sets and on the test sets
alike, so one w is too confident on popularity slates (choice ECE 0.081) and too timid on
uniform ones. A choice among items that are all popular (all plausible) is harder than
among random ones, and which features tell the chosen item apart differs as well. The
linear context logit (Tomlinson & Benson, KDD 2021) lets the weights depend on the choice
set through its mean features:

    U(i | S) = x_i . (w + A (m(S) - c)),   m(S) = clip(mean_{k in S} x_k, low, high)

w and A maximise the likelihood of the validation choices (both kinds of set), c is the
mean of m over those sets and [low, high] its range there: a slate beyond it (a
recommender's top items, say) is read as the nearest calibrated context, never
extrapolated. The L2 penalty on A is chosen by 2-fold cross-validation over the
validation targets; A = 0 is the plain conditional logit (McFadden, 1974).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.optimize

W_L2 = 1e-4  # the penalty on w (the conditional logit's, unchanged)


@dataclass(frozen=True)
class SlateContext:
    """A (F, F) in U(i | S) = x_i . (w + A (m(S) - center)), m clipped to [low, high] (F,)."""

    matrix: np.ndarray
    center: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def shift(self, x: np.ndarray) -> np.ndarray:
        """(n, F) A (m(S) - c) of (n, K, F) slate features."""
        mean = np.clip(x.mean(axis=1), self.low, self.high)
        return (mean - self.center) @ self.matrix.T


def context_utilities(x: np.ndarray, weights: np.ndarray, context: SlateContext | None) -> np.ndarray:
    """(n, K) utilities of (n, K, F) features; context None = x . w."""
    if context is None:
        return x @ weights
    return np.einsum("nkf,nf->nk", x, weights[None] + context.shift(x))


def fit_context_logit(x: np.ndarray, l2: float) -> tuple[np.ndarray, SlateContext]:
    """(w, context) maximising the mean log-likelihood of column 0 of (S, J, F) choice sets,
    with penalties W_L2 |w|^2 + l2 |A|^2."""
    n, _, f = x.shape
    means = x.mean(axis=1)
    center, low, high = means.mean(axis=0), means.min(axis=0), means.max(axis=0)
    z = means - center

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, a = theta[:f], theta[f:].reshape(f, f)
        u = np.einsum("nkf,nf->nk", x, w[None] + z @ a.T)
        u -= u.max(axis=1, keepdims=True)
        log_p = u - np.log(np.exp(u).sum(axis=1, keepdims=True))
        residual = -np.exp(log_p)
        residual[:, 0] += 1.0  # d log p_0 / d u
        grad_w = -np.einsum("nk,nkf->nf", residual, x) / n  # per-set gradient of the weights
        loss = -log_p[:, 0].mean() + W_L2 * w @ w + l2 * (a**2).sum()
        return float(loss), np.r_[grad_w.sum(axis=0) + 2 * W_L2 * w, (grad_w.T @ z + 2 * l2 * a).ravel()]

    start = np.zeros(f + f * f)
    start[0] = 1.0
    theta = scipy.optimize.minimize(objective, start, jac=True, method="L-BFGS-B").x
    return theta[:f], SlateContext(theta[f:].reshape(f, f), center, low, high)


def mean_log_likelihood(x: np.ndarray, weights: np.ndarray, context: SlateContext | None) -> float:
    """Mean log-probability of column 0 of (S, J, F) choice sets."""
    u = context_utilities(x, weights, context)
    u -= u.max(axis=1, keepdims=True)
    return float((u[:, 0] - np.log(np.exp(u).sum(axis=1))).mean())


def choose_l2(x: np.ndarray, grid: Sequence[float], seed: int, groups: np.ndarray | None = None) -> tuple[float, dict]:
    """The l2 of `grid` with the best 2-fold cross-validated log-likelihood, and a log
    {l2: held-out log-likelihood}. groups: (S,) ids of the sets, a group never split across
    the folds (sets sharing a chosen item); None = every set its own. Folds drawn seeded."""
    groups = np.arange(len(x)) if groups is None else np.asarray(groups)
    ids, inverse = np.unique(groups, return_inverse=True)
    first = (np.random.default_rng(seed).permutation(len(ids)) % 2 == 0)[inverse]
    scores = {}
    for l2 in grid:
        held = [mean_log_likelihood(x[~part], *fit_context_logit(x[part], l2)) * (~part).sum()
                for part in (first, ~first)]
        scores[float(l2)] = sum(held) / len(x)
    return max(scores, key=scores.get), {str(k): round(float(v), 5) for k, v in scores.items()}
