"""Popularity groups: items cut into equal-size buckets by training interaction count.

Two published definitions, both with group 0 = MOST popular here:
- "flower" (Flower, SIGIR 2025, `process.ipynb::split_dict_into_groups`): only items that
  occur in training are grouped; they are sorted by count, descending, and cut into G
  groups of floor(n/G) items, the first n mod G groups taking one extra. Unseen items
  get group -1. Flower counts item occurrences in TRAINING HISTORIES (`history_counts`)
  and groups TITLES, so items sharing a title are merged: summing the counts by raw title
  reproduces its hard-coded group shares exactly (tests/item_space/test_popularity.py).
- "trirec" (TriRec, arXiv 2603.10673, `build_popularity_groups`): every item is grouped;
  sorted ascending, cut into chunks of floor(n/G), the remainder going to the most
  popular group. TriRec counts training interactions (`interaction_counts`).
Ties: both papers keep dict insertion order; we break ties by item id, ascending within
each paper's own sort direction, so results are deterministic. Group shares do not
depend on how ties are broken.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Interactions, Sample

SCHEMES = ("flower", "trirec")


@dataclass(frozen=True)
class PopularityGroups:
    """Per-item group ids and per-group shares.

    group: (N,) int64, 0 = most popular group, -1 = not grouped (unseen, "flower").
    share: (G,) float64, group's share of all training interactions (sums to 1).
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


def _group_sizes(n: int, n_groups: int, scheme: str) -> np.ndarray:
    """Items per group, most popular group first."""
    base, remainder = divmod(n, n_groups)
    sizes = np.full(n_groups, base, np.int64)
    if scheme == "flower":
        sizes[:remainder] += 1
    else:
        sizes[0] += remainder  # TriRec's last ascending chunk (the most popular) takes the rest
    return sizes


def popularity_groups(
    counts: np.ndarray, n_groups: int = 8, *, scheme: str = "flower"
) -> PopularityGroups:
    """Equal-size popularity groups over `counts` ((N,) training counts per item).

    Raises:
        DatasetError: unknown scheme, n_groups < 1, or fewer groupable items than groups.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if scheme not in SCHEMES:
        raise DatasetError(
            f"unknown popularity scheme {scheme!r} (choose one of {', '.join(SCHEMES)})"
        )
    grouped = np.flatnonzero(counts > 0) if scheme == "flower" else np.arange(len(counts))
    if n_groups < 1 or len(grouped) < n_groups:
        raise DatasetError(
            f"cannot cut {len(grouped)} items into {n_groups} popularity groups (use fewer groups)"
        )
    if scheme == "flower":
        order = grouped[np.lexsort((grouped, -counts[grouped]))]  # count descending, then id
    else:  # TriRec sorts ascending (ties by id); we read that order from the popular end
        order = grouped[np.lexsort((grouped, counts[grouped]))][::-1]
    sizes = _group_sizes(len(order), n_groups, scheme)
    group = np.full(len(counts), -1, np.int64)
    group[order] = np.repeat(np.arange(n_groups), sizes)
    totals = np.bincount(group[order], weights=counts[order], minlength=n_groups)
    share = totals / totals.sum() if totals.sum() > 0 else np.zeros(n_groups)
    return PopularityGroups(group=group, share=share, sizes=sizes, counts=counts)


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
    try:
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
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, suffix=".png.tmp", delete=False
        ) as handle:
            temporary = Path(handle.name)
        try:
            figure.savefig(temporary, format="png")
            temporary.chmod(0o644)  # NamedTemporaryFile creates 0600 files
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    finally:
        plt.close(figure)
    return path
