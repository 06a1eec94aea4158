"""A dataset's summary: counts, sparsity, split sizes and popularity concentration."""

from __future__ import annotations

from typing import Any

import numpy as np

from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.popularity import interaction_counts, popularity_groups


def dataset_report(
    dataset: Dataset, *, protocol: str = "auto", max_history: int | None = None, n_groups: int = 8
) -> tuple[dict[str, Any], np.ndarray]:
    """(report, counts): JSON-ready facts and the (N,) training interaction count per item.

    The counts come from the split's training interactions (what a model may see).
    """
    report: dict[str, Any] = dataset.summary()
    report["format"] = dataset.meta.get("format", "")
    report["source"] = dataset.meta.get("source", "")
    n_items = len(dataset.catalog)
    if dataset.interactions is None and dataset.given_split is None:
        return report, np.zeros(n_items, np.int64)
    split = dataset.split(protocol, max_history=max_history)
    report["split"] = {"protocol": split.protocol, **split.sizes()}
    counts = interaction_counts(split.train_interactions, n_items)
    report["train_interactions"] = int(counts.sum())
    report["items_never_seen_in_training"] = int((counts == 0).sum())
    if (counts > 0).sum() >= n_groups:
        groups = popularity_groups(counts, n_groups, scheme="flower")
        report["popularity_group_shares"] = [round(float(share), 4) for share in groups.share]
    return report, counts
