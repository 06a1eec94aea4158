"""Popularity groups: a hand-checked example and Flower's published group shares."""

from __future__ import annotations

import numpy as np
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
    # 6 items into 4 groups: sizes 2, 2, 1, 1 from the most popular (the first 6 mod 4
    # groups take one extra); ids count from the least popular group, 0.
    assert groups.sizes.tolist() == [1, 1, 2, 2]
    assert groups.group.tolist() == [3, 1, 2, 3, 0, -1, 2]
    assert np.allclose(groups.share, np.array([1, 1, 7, 14]) / 23)


def test_trirec_scheme_by_hand():
    counts = np.array([5, 1, 5, 9, 1, 0, 2])
    groups = popularity_groups(counts, n_groups=3, scheme="trirec")
    # all 7 items, ascending chunks of 7 // 3 = 2, the last (most popular) takes 3:
    # ascending by (count, id): 5(0) 1(1) 4(1) 6(2) 0(5) 2(5) 3(9)
    assert groups.sizes.tolist() == [2, 2, 3]
    assert groups.group.tolist() == [2, 0, 2, 2, 1, 0, 1]
    assert np.allclose(groups.share, np.array([1, 3, 19]) / 23)


def test_schemes_on_the_fairness_papers_example():
    # 7 items; item 6 never seen. Seen counts sorted descending (ties by id):
    # item 0 (9), 2 (5), 1 (3), 3 (3), 4 (2), 5 (1). 6 items in 4 groups -> sizes 2,2,1,1
    # from the most popular, numbered 3, 2, 1, 0.
    counts = np.array([9, 3, 5, 3, 2, 1, 0])
    flower = popularity_groups(counts, n_groups=4, scheme="flower")
    assert flower.group.tolist() == [3, 2, 3, 2, 1, 0, -1]
    assert flower.share == pytest.approx(np.array([1, 2, 6, 14]) / 23)
    # TriRec: 7 items in 3 groups, chunk 7 // 3 = 2 -> sizes 2, 2, 3; ascending order:
    # 6 (0), 5 (1), 4 (2), 1 (3), 3 (3), 2 (5), 0 (9).
    trirec = popularity_groups(counts, n_groups=3, scheme="trirec")
    assert trirec.group.tolist() == [2, 1, 2, 2, 1, 0, 0]
    assert trirec.share == pytest.approx(np.array([1, 5, 17]) / 23)


def test_flower_groups_pool_items_sharing_a_title():
    # Items 1 and 3 share title "b": counts pool to 3 + 3 = 6 and they share a group.
    # Titles by count: a (9), b (6), c (5), d (2), e (1) -> 2 groups of 3 (popular) and 2 titles.
    counts = np.array([9, 3, 5, 3, 2, 1])
    groups = popularity_groups(counts, 2, titles=["a", "b", "c", "b", "d", "e"])
    assert groups.group.tolist() == [1, 1, 1, 1, 0, 0]
    assert groups.sizes.tolist() == [2, 4]  # items, not titles
    assert np.allclose(groups.share, np.array([3, 20]) / 23)


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
    raw_titles = [item.attributes["raw_title"] for item in dataset.catalog.items]
    groups = popularity_groups(counts, 8, scheme="flower", titles=raw_titles)
    # Flower lists its shares most popular first; our group 0 is the least popular.
    assert np.abs(groups.share[::-1] - FLOWER_SHARES[name]).max() < 1e-12


def test_bad_arguments():
    with pytest.raises(DatasetError, match="unknown popularity scheme 'flwoer'"):
        popularity_groups(np.ones(10), scheme="flwoer")
    with pytest.raises(DatasetError, match="cannot cut 2 items into 8"):
        popularity_groups(np.array([1, 1, 0]), 8)


def _paper_flower(counts: list[int], n_groups: int) -> list[int]:
    """Flower's split_dict_into_groups, spelled out: seen items by count desc (ties by id),
    the first n % G groups one item larger; numbered back so that 0 = least popular."""
    seen = sorted((i for i, c in enumerate(counts) if c > 0), key=lambda i: (-counts[i], i))
    base, extra = divmod(len(seen), n_groups)
    group, start = [-1] * len(counts), 0
    for g in range(n_groups):
        size = base + (g < extra)
        for i in seen[start : start + size]:
            group[i] = n_groups - 1 - g
        start += size
    return group


def _paper_trirec(counts: list[int], n_groups: int) -> list[int]:
    """TriRec's build_popularity_groups, spelled out: all items ascending (ties by id),
    chunks of n // G, the last chunk taking the rest."""
    order = sorted(range(len(counts)), key=lambda i: (counts[i], i))
    chunk = len(order) // n_groups
    group = [0] * len(counts)
    for position, i in enumerate(order):
        group[i] = min(position // chunk, n_groups - 1)
    return group


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_both_schemes_match_the_papers_procedures_on_random_counts(seed):
    rng = np.random.default_rng(seed)
    counts = rng.zipf(1.6, size=1001).clip(max=500) * (rng.random(1001) > 0.1)
    flower = popularity_groups(counts, 8, scheme="flower")
    assert flower.group.tolist() == _paper_flower(counts.tolist(), 8)
    trirec = popularity_groups(counts, 8, scheme="trirec")
    assert trirec.group.tolist() == _paper_trirec(counts.tolist(), 8)
    assert np.isclose(flower.share.sum(), 1) and np.isclose(trirec.share.sum(), 1)
