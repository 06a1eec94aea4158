"""The learned user's item-item signal: EASE (Steck, WWW 2019) on the training interactions.

EASE is the closed-form item-item regression B = argmin ||X - X B||^2 + lambda ||B||^2
with diag(B) = 0 (X the binary user x item matrix): P = (X'X + lambda I)^-1,
B_ij = -P_ij / P_jj. The score of item j for a history H is sum_{h in H} B_hj. It sees
co-occurrence across the whole history (the sequence encoder weighs the recent items),
which is what separates a user's next item from a random one two steps ahead.

lambda is chosen on validation (the `choose` callback: the validation log-likelihood of
the targets under softmax of their scores), from a grid scaled by the mean item count.
On catalogs above `max_items`, B covers the `max_items` most popular training items
(an N^3 inverse): the rest score 0, as an item never co-consumed would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from recagora.item_space.types import Interactions


@dataclass(frozen=True)
class ItemItemConfig:
    """EASE size and regularisation grid (the same on every dataset; lambda picked on validation)."""

    lambda_scales: tuple[float, ...] = field(
        default=(4.0, 16.0, 64.0),
        metadata={"help": "lambda grid as multiples of the mean training count per item (chosen on validation)."},
    )
    max_items: int = field(
        default=8000, metadata={"help": "Most items B covers (the most popular); an N^3 inverse bounds it."}
    )


def fit_ease(
    train: Interactions,
    n_items: int,
    config: ItemItemConfig,
    choose: Callable[[np.ndarray], float],
) -> tuple[np.ndarray, dict]:
    """(N, N) float32 B and a log; `choose(B)` scores a candidate B (higher is better)."""
    frame = train.frame
    users = np.unique(frame["user"].to_numpy(str), return_inverse=True)[1]
    items = frame["item"].to_numpy(np.int64)
    x = sp.csr_matrix((np.ones(len(items)), (users, items)), shape=(users.max() + 1, n_items))
    x.data[:] = 1.0  # repeats count once
    counts = np.asarray(x.sum(axis=0)).ravel()
    kept = np.sort(np.argsort(-counts, kind="stable")[: config.max_items])
    gram = torch.from_numpy((x[:, kept].T @ x[:, kept]).toarray().astype(np.float32))
    scale = max(counts[kept].mean(), 1.0)
    best, log = None, []
    for factor in config.lambda_scales:
        b = np.zeros((n_items, n_items), np.float32)
        b[np.ix_(kept, kept)] = _ease_block(gram, factor * scale)
        score = choose(b)
        log.append({"lambda": round(float(factor * scale), 2), "valid_score": round(score, 5)})
        if best is None or score > best[0]:
            best = (score, b, factor * scale)
    return best[1], {"lambda": round(float(best[2]), 2), "grid": log, "items": len(kept)}


def _ease_block(gram: torch.Tensor, lam: float) -> np.ndarray:
    """(M, M) B = -P / diag(P), diag 0, P = (G + lam I)^-1 (float32: lam bounds the condition number)."""
    inverse = torch.linalg.inv(gram + lam * torch.eye(len(gram)))
    block = -inverse / torch.diagonal(inverse)[None, :]
    block.fill_diagonal_(0.0)
    return block.numpy()


def ease_scores(b: np.ndarray, histories: Sequence[Sequence[int]]) -> torch.Tensor:
    """(n, N) float32 sum_{h in H_r} B[h, :] per history (repeats count once)."""
    rows = np.repeat(np.arange(len(histories)), [len(set(h)) for h in histories])
    cols = np.fromiter((i for h in histories for i in sorted(set(h))), np.int64, len(rows))
    x = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(histories), len(b)))
    return torch.from_numpy(np.asarray(x @ b, np.float32))
