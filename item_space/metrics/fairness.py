"""Popularity fairness and exposure of recommendation lists.

Two papers define DGU and MGU differently; both are here, named apart. Each compares the
share of recommendations falling in each popularity group with the share of TRAINING
interactions of that group, d_g = p_rec(g) - p_train(g). The groups themselves come from
`recagora.item_space.popularity.popularity_groups` (scheme "flower" or "trirec", which
documents each paper's cut; its `group` and `share` are the `item_group` and
`train_group_share` arguments here):

  Flower (Gao et al., SIGIR 2025, `with_history/code/calc.py`):
      p_rec: every slot of every top-10 list counts 1; shares are normalised over the
      slots whose item has a group (invalid/padded slots are left out);
      DGU = max_g d_g - min_g d_g,  MGU = mean_g |d_g|.
  TriRec (Gong et al., arXiv 2603.10673, `evaluate/data_statistics_platform_second.py`):
      p_rec: slot r (1-based) of a top-K list weighs 1 / log2(r + 1); shares are
      normalised over the total weight of the slots whose item has a group;
      DGU = 1/2 sum_g |d_g| (total variation),  MGU = max_g |d_g|.

Group ids are (N,) int64 arrays over the catalog, -1 for "no group". Both metrics are
invariant to the order of group ids. Flower's code drops a group that received no
recommendation from its list and then misaligns the others; here an empty group has
share 0 (d_g = -p_train(g)), as the definition intends.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "GroupUnfairness",
    "recommended_group_share",
    "dgu_mgu_flower",
    "dgu_mgu_trirec",
    "exposure_gini",
    "exposure_counts",
    "coverage",
    "tail_share",
]


class GroupUnfairness(NamedTuple):
    """DGU and MGU of one definition (lower is fairer)."""

    dgu: float
    mgu: float


def _position_weights(length: int, weighted: bool) -> np.ndarray:
    """(L,) slot weights: 1 everywhere, or TriRec's 1 / log2(r + 1) for 1-based r."""
    if not weighted:
        return np.ones(length)
    return 1.0 / np.log2(np.arange(length) + 2.0)


def recommended_group_share(
    recommended: np.ndarray,
    item_group: np.ndarray,
    n_groups: int = 8,
    k: int | None = None,
    position_weighted: bool = False,
) -> np.ndarray:
    """(G,) share of recommendation slots per group, over the slots whose item has a group.

    recommended: (n, L) int64 ids, -1 padding; only the first k columns count (all if None).
    Returns zeros when no slot has a group.
    """
    lists = np.asarray(recommended, dtype=np.int64)[:, :k]
    weights = np.broadcast_to(_position_weights(lists.shape[1], position_weighted), lists.shape)
    valid = lists >= 0
    groups = np.full(lists.shape, -1, dtype=np.int64)
    groups[valid] = np.asarray(item_group, dtype=np.int64)[lists[valid]]
    grouped = groups >= 0
    totals = np.bincount(groups[grouped], weights=weights[grouped], minlength=n_groups)
    return totals / totals.sum() if totals.sum() > 0 else totals


def dgu_mgu_flower(
    recommended: np.ndarray,
    item_group: np.ndarray,
    train_group_share: np.ndarray,
    n_groups: int = 8,
    k: int | None = 10,
) -> GroupUnfairness:
    """Flower's DGU = max_g d_g - min_g d_g and MGU = mean_g |d_g| over top-k lists.

    recommended: (n, L) ids (-1 padding); item_group: (N,) group per item, -1 = ungrouped
    (`popularity_groups(..., scheme="flower").group`); train_group_share: (G,) p_train.
    """
    gap = recommended_group_share(recommended, item_group, n_groups, k) - np.asarray(
        train_group_share, dtype=np.float64
    )
    return GroupUnfairness(dgu=float(gap.max() - gap.min()), mgu=float(np.abs(gap).mean()))


def dgu_mgu_trirec(
    recommended: np.ndarray,
    item_group: np.ndarray,
    train_group_share: np.ndarray,
    n_groups: int = 8,
    k: int | None = None,
) -> GroupUnfairness:
    """TriRec's DGU@k = 1/2 sum_g |d_g| and MGU@k = max_g |d_g|, slots weighted 1/log2(r+1).

    recommended: (n, L) ids (-1 padding), all users' lists pooled; item_group:
    `popularity_groups(..., scheme="trirec").group`; train_group_share: (G,) its `share`.
    """
    shares = recommended_group_share(recommended, item_group, n_groups, k, position_weighted=True)
    gap = np.abs(shares - np.asarray(train_group_share, dtype=np.float64))
    return GroupUnfairness(dgu=float(gap.sum() / 2.0), mgu=float(gap.max()))


def exposure_gini(exposure_counts: np.ndarray) -> float:
    """Gini coefficient of item exposure, 0 (equal) .. (N-1)/N (one item takes all).

    exposure_counts: (N,) non-negative exposure per catalog item, zeros INCLUDED (an item
    never shown is the inequality). G = sum_i (2i - N - 1) x_(i) / (N sum x), x sorted
    ascending, i 1-based (Gini mean-difference form). 0.0 when there is no exposure.
    """
    values = np.sort(np.asarray(exposure_counts, dtype=np.float64))
    n, total = len(values), values.sum()
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float(((2 * ranks - n - 1) * values).sum() / (n * total))


def exposure_counts(recommended: np.ndarray, n_items: int) -> np.ndarray:
    """(N,) float64 number of slots each item fills in `recommended` (-1 padding ignored)."""
    ids = np.asarray(recommended, dtype=np.int64).ravel()
    return np.bincount(ids[ids >= 0], minlength=n_items).astype(np.float64)


def coverage(recommended: np.ndarray, n_items: int) -> float:
    """Catalog coverage: distinct items recommended / n_items (padding ignored)."""
    ids = np.asarray(recommended, dtype=np.int64).ravel()
    return float(len(np.unique(ids[ids >= 0])) / n_items)


def tail_share(
    recommended: np.ndarray, tail: np.ndarray, tail_groups: tuple[int, ...] | None = None
) -> float:
    """Share of recommendation slots (padding ignored) filled by long-tail items.

    tail: (N,) bool mask of tail items, or (N,) int group ids together with `tail_groups`,
    the group ids that count as tail. 0.0 when there is no filled slot.
    """
    mask = np.asarray(tail)
    if tail_groups is not None:
        mask = np.isin(mask, tail_groups)
    elif mask.dtype != bool:
        raise ValueError("tail must be a bool mask, or group ids with tail_groups given")
    ids = np.asarray(recommended, dtype=np.int64).ravel()
    ids = ids[ids >= 0]
    return float(mask[ids].mean()) if len(ids) else 0.0
