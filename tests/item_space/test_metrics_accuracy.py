"""HR, Recall, NDCG and MRR at K against values worked out by hand."""

import math

import numpy as np
import pytest

from recagora.item_space.metrics import (
    accuracy_report,
    hit_rate_at_k,
    mrr_at_k,
    ndcg_at_k,
    per_user_hit_rate_at_k,
    per_user_mrr_at_k,
    per_user_ndcg_at_k,
    per_user_recall_at_k,
    recall_at_k,
)

# Row 0: target 5 at rank 1 (0-based). Row 1: target 4 absent, list padded with -1.
# Row 2: target 2 at rank 0, then repeated at rank 1 (the repeat earns nothing).
# Row 3: target -1 ("no target") must not match the -1 padding.
RANKED = np.array([[3, 5, 7], [1, -1, -1], [2, 2, 9], [8, -1, -1]])
TARGETS = np.array([5, 4, 2, -1])


def test_hit_rate_counts_target_in_top_k():
    # k=1: only row 2 hits -> 1/4; k=2: rows 0 and 2 -> 2/4.
    assert per_user_hit_rate_at_k(RANKED, TARGETS, 1).tolist() == [0, 0, 1, 0]
    assert hit_rate_at_k(RANKED, TARGETS, 1) == pytest.approx(0.25)
    assert hit_rate_at_k(RANKED, TARGETS, 2) == pytest.approx(0.5)


def test_ndcg_single_target_is_inverse_log_rank():
    # Row 0: rank 1 -> 1/log2(3) = 0.6309; row 2: rank 0 -> 1; others 0.
    expected = [1 / math.log2(3), 0.0, 1.0, 0.0]
    assert per_user_ndcg_at_k(RANKED, TARGETS, 3) == pytest.approx(expected)
    assert ndcg_at_k(RANKED, TARGETS, 3) == pytest.approx((1 / math.log2(3) + 1) / 4)
    # k=1 cuts row 0's hit away: only row 2 counts.
    assert ndcg_at_k(RANKED, TARGETS, 1) == pytest.approx(0.25)


def test_mrr_is_inverse_rank_of_first_hit():
    # Row 0: 1/2, row 2: 1/1 -> mean (0.5 + 1) / 4 = 0.375.
    assert per_user_mrr_at_k(RANKED, TARGETS, 3).tolist() == [0.5, 0.0, 1.0, 0.0]
    assert mrr_at_k(RANKED, TARGETS, 3) == pytest.approx(0.375)
    assert mrr_at_k(RANKED, TARGETS, 1) == pytest.approx(0.25)


def test_recall_equals_hit_rate_for_single_targets():
    for k in (1, 2, 3):
        assert recall_at_k(RANKED, TARGETS, k) == hit_rate_at_k(RANKED, TARGETS, k)


def test_multi_target_recall_and_ndcg():
    ranked = np.array([[3, 5, 7], [1, 6, 2], [4, 4, 4]])
    targets = [{5, 7}, {1, 4}, set()]
    # Row 0: 2 of 2 found; row 1: 1 of 2; row 2: no targets -> 0.
    assert per_user_recall_at_k(ranked, targets, 3) == pytest.approx([1.0, 0.5, 0.0])
    # Row 0: DCG = 1/log2(3) + 1/log2(4) = 1.1309, IDCG = 1 + 1/log2(3) = 1.6309 -> 0.6934.
    # Row 1: DCG = 1 (rank 0), IDCG = 1.6309 -> 0.6131.
    idcg = 1 + 1 / math.log2(3)
    expected = [(1 / math.log2(3) + 0.5) / idcg, 1 / idcg, 0.0]
    assert per_user_ndcg_at_k(ranked, targets, 3) == pytest.approx(expected)
    # HR: any target found -> rows 0 and 1.
    assert per_user_hit_rate_at_k(ranked, targets, 3).tolist() == [1, 1, 0]
    # Row 0 with k=1: IDCG uses min(|T|, k) = 1 ideal item, DCG 0 (rank 1 cut) -> 0.
    assert per_user_ndcg_at_k(ranked, targets, 1)[0] == 0.0


def test_multi_target_duplicates_count_once():
    # 4 appears three times; recall is 1 of 1 and NDCG is exactly 1, not more.
    ranked = np.array([[4, 4, 4]])
    assert per_user_recall_at_k(ranked, [{4}], 3) == pytest.approx([1.0])
    assert per_user_ndcg_at_k(ranked, [[4]], 3) == pytest.approx([1.0])


def test_targets_as_plain_list_and_k_beyond_list_length():
    assert hit_rate_at_k(RANKED, [5, 4, 2, -1], 10) == pytest.approx(0.5)


def test_accuracy_report_keys():
    report = accuracy_report(RANKED, TARGETS, ks=(1, 3))
    assert set(report) == {"HR@1", "NDCG@1", "HR@3", "NDCG@3"}
    assert report["HR@3"] == pytest.approx(0.5)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="k must be"):
        hit_rate_at_k(RANKED, TARGETS, 0)
    with pytest.raises(ValueError, match="targets"):
        hit_rate_at_k(RANKED, TARGETS[:2], 1)
    with pytest.raises(ValueError, match="empty"):
        ndcg_at_k(np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64), 3)
