"""Popularity groups: a hand-checked example and Flower's published group shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.errors import DatasetError
from recagora.item_space.popularity import history_counts, interaction_counts, popularity_groups
from recagora.item_space.types import Sample

# Flower's `gh_genre` (code/calc.py), share of training interactions per group, most popular first.
FLOWER_SHARES = {
    "video-games": [0.48097812357904307, 0.17252196598430114, 0.10991029886599027, 0.07947254079725155,
                    0.06112813069818072, 0.0467336937301066, 0.033188960284398064, 0.01606628606072854],
    "cds-vinyl": [0.42919059700842693, 0.17071915707144072, 0.11809153627846408, 0.09089901560700277,
                  0.07123886274308015, 0.05642744900907605, 0.04134688077643157, 0.022086501506077747],
}  # fmt: skip


def test_flower_scheme_by_hand():
    # counts of items 0..6; item 5 unseen. Seen by count desc, ties by id: 3(9) 0(5) 2(5) 6(2) 1(1) 4(1)
    counts = np.array([5, 1, 5, 9, 1, 0, 2])
    groups = popularity_groups(counts, n_groups=4, scheme="flower")
    # 6 items into 4 groups: sizes 2, 2, 1, 1 (the first 6 mod 4 groups take one extra)
    assert groups.sizes.tolist() == [2, 2, 1, 1]
    assert groups.group.tolist() == [0, 2, 1, 0, 3, -1, 1]
    assert np.allclose(groups.share, np.array([14, 7, 1, 1]) / 23)


def test_trirec_scheme_by_hand():
    counts = np.array([5, 1, 5, 9, 1, 0, 2])
    groups = popularity_groups(counts, n_groups=3, scheme="trirec")
    # all 7 items, ascending chunks of 7 // 3 = 2, the last (most popular) takes 3:
    # ascending by (count, id): 5(0) 1(1) 4(1) 6(2) 0(5) 2(5) 3(9)
    assert groups.sizes.tolist() == [3, 2, 2]
    assert groups.group.tolist() == [0, 2, 0, 0, 1, 2, 1]
    assert np.allclose(groups.share, np.array([19, 3, 1]) / 23)


def test_counts_from_interactions_and_histories():
    samples = [Sample(user="a", history=(0, 1), target=2), Sample(user="a", history=(1,), target=0)]
    assert history_counts(samples, 4).tolist() == [1, 2, 0, 0]
    ml = load_dataset("ml-100k")
    counts = interaction_counts(ml.interactions, len(ml.catalog))
    assert counts.sum() == 100_000 and counts.max() == 583  # Star Wars (1977)
    assert ml.catalog[int(counts.argmax())].title == "Star Wars (1977)"


@pytest.mark.parametrize("name", ["video-games", "cds-vinyl"])
def test_flower_group_shares_are_reproduced_exactly(name):
    """Flower counts titles in training histories; merging duplicate titles gives its shares."""
    dataset = load_dataset(name)
    counts = history_counts(dataset.given_split.train, len(dataset.catalog))
    raw_titles = pd.Series([item.attributes["raw_title"] for item in dataset.catalog.items])
    by_title = pd.Series(counts).groupby(raw_titles).sum().to_numpy()
    groups = popularity_groups(by_title, 8, scheme="flower")
    assert np.abs(groups.share - FLOWER_SHARES[name]).max() < 1e-12


def test_bad_arguments():
    with pytest.raises(DatasetError, match="unknown popularity scheme 'flwoer'"):
        popularity_groups(np.ones(10), scheme="flwoer")
    with pytest.raises(DatasetError, match="cannot cut 2 items into 8"):
        popularity_groups(np.array([1, 1, 0]), 8)


def test_agrees_with_the_metrics_module_groupings():
    """item_space.metrics.fairness groups too (TriRec numbering 0 = least exposed)."""
    from recagora.item_space.metrics.fairness import (
        popularity_groups_flower,
        popularity_groups_trirec,
    )

    counts = np.random.default_rng(5).zipf(1.6, size=1001).clip(max=500) * (np.arange(1001) % 9 > 0)
    flower = popularity_groups(counts, 8, scheme="flower")
    assert np.array_equal(flower.group, popularity_groups_flower(counts, 8))
    trirec = popularity_groups(counts, 8, scheme="trirec")
    assert np.array_equal(trirec.group, 7 - popularity_groups_trirec(counts, 8))
