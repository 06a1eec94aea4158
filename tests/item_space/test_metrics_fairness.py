"""Popularity-group fairness (Flower and TriRec DGU/MGU), Gini, coverage, tail share."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from recagora.item_space.metrics import (
    coverage,
    dgu_mgu_flower,
    dgu_mgu_trirec,
    exposure_counts,
    exposure_gini,
    recommended_group_share,
    tail_share,
)
from recagora.item_space.popularity import popularity_groups


def test_dgu_mgu_flower_by_hand():
    item_group = np.array([0, 0, 1, 1, -1])
    # Slots: [0, 2], [1, 4(no group)], [3, -1 pad] -> grouped slots: 0,2,1,3 -> g0 2, g1 2.
    recommended = np.array([[0, 2], [1, 4], [3, -1]])
    p_train = np.array([0.75, 0.25])
    # d = [0.5 - 0.75, 0.5 - 0.25] = [-0.25, 0.25]; DGU = 0.25 - (-0.25) = 0.5, MGU = 0.25.
    dgu, mgu = dgu_mgu_flower(recommended, item_group, p_train, n_groups=2)
    assert (dgu, mgu) == pytest.approx((0.5, 0.25))


def test_dgu_mgu_flower_empty_group_counts_as_zero_share():
    # Three groups, nothing recommended from group 2: p_rec = [0.5, 0.5, 0].
    item_group = np.array([0, 1, 2])
    p_train = np.array([0.5, 0.3, 0.2])
    # d = [0, 0.2, -0.2] -> DGU = 0.4, MGU = (0 + 0.2 + 0.2) / 3.
    result = dgu_mgu_flower(np.array([[0, 1]]), item_group, p_train, n_groups=3)
    assert result.dgu == pytest.approx(0.4)
    assert result.mgu == pytest.approx(0.4 / 3)


def test_dgu_mgu_flower_uses_top_k_columns_only():
    item_group = np.array([0, 1])
    # k=1 keeps item 0 only: p_rec = [1, 0], d = [0.5, -0.5] -> DGU 1, MGU 0.5.
    result = dgu_mgu_flower(np.array([[0, 1]]), item_group, np.array([0.5, 0.5]), 2, k=1)
    assert result == pytest.approx((1.0, 0.5))


def test_dgu_mgu_trirec_position_weighted_by_hand():
    item_group = np.array([0, 1, 1])
    # Two lists of length 2; weights w1 = 1/log2(2) = 1, w2 = 1/log2(3) = 0.6309.
    # List A = [0, 1]: g0 += 1, g1 += 0.6309. List B = [1, 2]: g1 += 1 + 0.6309.
    # Total = 3.2619; p_rec = [1/3.2619, 2.2619/3.2619] = [0.30657, 0.69343].
    recommended = np.array([[0, 1], [1, 2]])
    p_train = np.array([0.5, 0.5])
    w2 = 1 / math.log2(3)
    p_rec0 = 1 / (2 + 2 * w2)
    gap = abs(p_rec0 - 0.5)  # both groups deviate by the same amount
    dgu, mgu = dgu_mgu_trirec(recommended, item_group, p_train, n_groups=2)
    assert dgu == pytest.approx(gap)  # 1/2 (gap + gap)
    assert mgu == pytest.approx(gap)
    assert recommended_group_share(recommended, item_group, 2, position_weighted=True) == (
        pytest.approx([p_rec0, 1 - p_rec0])
    )
    # @1 keeps only the first slot of each list: p_rec = [0.5, 0.5] -> perfectly fair.
    assert dgu_mgu_trirec(recommended, item_group, p_train, 2, k=1) == pytest.approx((0, 0))


def test_definitions_differ_on_the_same_lists():
    item_group = np.array([0, 1, 2])
    p_train = np.array([0.6, 0.3, 0.1])
    recommended = np.array([[2, 1, 0]])
    # Flower (unweighted): p_rec = 1/3 each, d = [-0.2667, 0.0333, 0.2333]
    # -> DGU 0.5, MGU (0.2667 + 0.0333 + 0.2333) / 3 = 0.1778.
    flower = dgu_mgu_flower(recommended, item_group, p_train, 3)
    assert flower == pytest.approx((0.5, (0.8 / 3 + 0.1 / 3 + 0.7 / 3) / 3))
    # TriRec: weights 1, 0.6309, 0.5 on groups 2, 1, 0; total 2.1309.
    w = np.array([0.5, 1 / math.log2(3), 1.0]) / (1.5 + 1 / math.log2(3))
    gap = np.abs(w - p_train)
    trirec = dgu_mgu_trirec(recommended, item_group, p_train, 3)
    assert trirec == pytest.approx((gap.sum() / 2, gap.max()))


def test_no_grouped_slot_gives_zero_share():
    share = recommended_group_share(np.array([[-1, 3]]), np.array([0, 0, 0, -1]), 2)
    assert share.tolist() == [0.0, 0.0]


def test_flower_train_share_matches_paper_on_video_games(shared_data):
    """Flower hard-codes Video_Games' group shares in calc.py; we rebuild them from train.csv.

    Flower groups titles (52 titles belong to two ids), which is why `titles` is passed.
    """
    folder = shared_data / "amazon2018-Video_Games"
    train = pd.read_csv(folder / "train.csv")
    ids = np.concatenate([json.loads(h) for h in train["history_item_id"]])
    counts = np.bincount(ids, minlength=3858)
    items = pd.read_csv(
        folder / "items.tsv", sep="\t", header=None, names=["title", "id"], quoting=3
    )
    titles = items.sort_values("id")["title"].tolist()
    groups = popularity_groups(counts, 8, scheme="flower", titles=titles)
    assert len(np.unique(groups.group[groups.group >= 0])) == 8
    paper = [
        0.48097812,
        0.17252197,
        0.10991030,
        0.07947254,
        0.06112813,
        0.04673369,
        0.03318896,
        0.01606629,
    ]  # most popular first; our group 0 is the least popular
    assert groups.share[::-1] == pytest.approx(paper, abs=1e-6)


def test_exposure_gini_by_hand():
    # Sorted [0, 0, 1, 3], N = 4, sum 4: (2*1-5)*0 + (2*2-5)*0 + (2*3-5)*1 + (2*4-5)*3 = 10
    # -> G = 10 / (4 * 4) = 0.625.
    assert exposure_gini(np.array([3, 0, 1, 0])) == pytest.approx(0.625)
    assert exposure_gini(np.array([2, 2, 2])) == pytest.approx(0.0)
    assert exposure_gini(np.array([0, 0, 5])) == pytest.approx(2 / 3)
    assert exposure_gini(np.zeros(3)) == 0.0


def test_exposure_counts_coverage_and_tail_share():
    recommended = np.array([[0, 1, -1], [1, 4, 4]])
    assert exposure_counts(recommended, 6).tolist() == [1, 2, 0, 0, 2, 0]
    # Distinct {0, 1, 4} of 6 items.
    assert coverage(recommended, 6) == pytest.approx(0.5)
    tail = np.array([False, False, False, True, True, True])
    # Filled slots 0, 1, 1, 4, 4 -> 2 of 5 are tail.
    assert tail_share(recommended, tail) == pytest.approx(0.4)
    groups = np.array([0, 0, 1, 1, 2, 2])
    assert tail_share(recommended, groups, tail_groups=(2,)) == pytest.approx(0.4)
    assert tail_share(np.array([[-1, -1]]), tail) == 0.0
    with pytest.raises(ValueError, match="tail_groups"):
        tail_share(recommended, groups)
