"""Popularity groups: items cut into equal-size buckets by training interaction count.

The ONE grouping of the repo (metrics, TriRec's platform, training evaluation, the
benchmarks and the dataset report all call `popularity_groups`). Convention: group ids
run from the LEAST popular group, 0, to the most popular, G-1; -1 = not grouped. Every
group metric here (Flower's and TriRec's DGU/MGU) is invariant to how groups are numbered.

Two published definitions:
- "flower" (Flower, SIGIR 2025, `process.ipynb::split_dict_into_groups`): only items that
  occur in training are grouped; they are sorted by count, descending, and cut into G
  groups of floor(n/G) items, the n mod G MOST popular groups taking one extra. Unseen
  items get group -1. Flower counts item occurrences in TRAINING HISTORIES
  (`history_counts`) and groups TITLES: pass `titles` and items sharing a title pool
  their counts and share a group, which reproduces its hard-coded group shares exactly
  (tests/item_space/test_popularity.py).
- "trirec" (TriRec, arXiv 2603.10673, `build_popularity_groups`): every item is grouped;
  sorted ascending, cut into chunks of floor(n/G), the remainder going to the most
  popular group. TriRec counts training interactions (`interaction_counts`).
Ties: both papers keep dict insertion order; we break ties by item id within each
paper's own sort direction, so results are deterministic. Group shares do not depend on
how ties are broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recagora.item_space.errors import DatasetError
from recagora.item_space.figures import save_figure
from recagora.item_space.types import Interactions, Sample

SCHEMES = ("flower", "trirec")


@dataclass(frozen=True)
class PopularityGroups:
    """Per-item group ids and per-group shares, least popular group first.

    group: (N,) int64, 0 = least popular group .. G-1 = most popular, -1 = not grouped
        (unseen, "flower").
    share: (G,) float64, group's share of the grouped training interactions (sums to 1).
    sizes: (G,) int64 number of items per group.
    counts: (N,) int64 the counts the groups were built from.
    """

    group: np.ndarray
    share: np.ndarray
    sizes: np.ndarray
    counts: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.share)


def interaction_counts(interactions: Interactions, n_items: int) -> np.ndarray:
    """(n_items,) int64 number of training interactions per item."""
    return interactions.item_counts(n_items)


def history_counts(samples: Sequence[Sample], n_items: int) -> np.ndarray:
    """(n_items,) int64 occurrences of each item in the samples' histories (Flower's count)."""
    lengths = [len(sample.history) for sample in samples]
    flat = np.fromiter(
        (item for sample in samples for item in sample.history), np.int64, sum(lengths)
    )
    return np.bincount(flat, minlength=n_items).astype(np.int64)


def popularity_groups(
    counts: np.ndarray,
    n_groups: int = 8,
    *,
    scheme: str = "flower",
    titles: Sequence[str] | None = None,
) -> PopularityGroups:
    """Equal-size popularity groups over `counts` ((N,) training counts per item).

    titles: (N,) item titles; items sharing a title pool their counts and are grouped as
        one unit (Flower's way: Video_Games has 3,858 ids and 3,806 titles). None = by id.

    Raises:
        DatasetError: unknown scheme, n_groups < 1, or fewer groupable units than groups.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if scheme not in SCHEMES:
        raise DatasetError(
            f"unknown popularity scheme {scheme!r} (choose one of {', '.join(SCHEMES)})"
        )
    if titles is None:
        group = _unit_groups(counts, n_groups, scheme)
    else:
        _, unit_of_item = np.unique(np.asarray(titles, dtype=object), return_inverse=True)
        pooled = np.bincount(unit_of_item, weights=counts).astype(np.int64)
        group = _unit_groups(pooled, n_groups, scheme)[unit_of_item]
    grouped = group >= 0
    sizes = np.bincount(group[grouped], minlength=n_groups).astype(np.int64)
    return PopularityGroups(
        group=group, share=group_shares(counts, group, n_groups), sizes=sizes, counts=counts
    )


def group_shares(counts: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """(G,) share of the grouped counts per group (zeros when nothing is counted)."""
    grouped = np.asarray(group) >= 0
    totals = np.bincount(
        np.asarray(group)[grouped],
        weights=np.asarray(counts, np.float64)[grouped],
        minlength=n_groups,
    )
    return totals / totals.sum() if totals.sum() > 0 else totals


def _unit_groups(counts: np.ndarray, n_groups: int, scheme: str) -> np.ndarray:
    """(N,) group per unit: the units from least to most popular, cut as `scheme` cuts."""
    order, sizes = _ascending_cut(counts, n_groups, scheme)
    group = np.full(len(counts), -1, np.int64)
    group[order] = np.repeat(np.arange(n_groups), sizes)
    return group


def _ascending_cut(counts: np.ndarray, n_groups: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """Grouped units least popular first, and the group sizes in that order."""
    grouped = np.flatnonzero(counts > 0) if scheme == "flower" else np.arange(len(counts))
    if n_groups < 1 or len(grouped) < n_groups:
        raise DatasetError(
            f"cannot cut {len(grouped)} items into {n_groups} popularity groups (use fewer groups)"
        )
    base, remainder = divmod(len(grouped), n_groups)
    sizes = np.full(n_groups, base, np.int64)
    if scheme == "trirec":  # ascending (ties by id); the last, most popular chunk takes the rest
        sizes[-1] += remainder
        return grouped[np.lexsort((grouped, counts[grouped]))], sizes
    # Flower sorts descending (ties by id), the first (most popular) n mod G groups one
    # item larger; reading that order backwards keeps its exact membership.
    sizes[n_groups - remainder :] += 1
    return grouped[np.lexsort((grouped, -counts[grouped]))][::-1], sizes


def save_popularity_curve(counts: np.ndarray, path: Path, *, title: str) -> Path:
    """Save the popularity curve (items ranked by count, log-scaled counts) as a PNG.

    Written to a temp file then renamed, so a failure leaves no partial PNG behind.
    Items with zero count cannot sit on a log axis; the legend says how many there are.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = np.sort(np.asarray(counts))[::-1]
    seen = ranked[ranked > 0]
    figure, axis = plt.subplots(figsize=(6, 4), dpi=100)
    axis.plot(
        np.arange(1, len(seen) + 1),
        seen,
        color="tab:blue",
        label=f"{len(seen)} items seen in training",
    )
    axis.set(
        yscale="log",
        xlabel="item rank (most popular first)",
        ylabel="training interactions",
        title=title,
    )
    axis.plot([], [], " ", label=f"{len(ranked) - len(seen)} items never seen")
    axis.legend(loc="upper right")
    return save_figure(figure, path)
