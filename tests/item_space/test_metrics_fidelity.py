"""Fidelity metrics, each against an example worked by hand in the comments."""

import math

import numpy as np
import pytest

from recagora.item_space.metrics.fidelity import (
    binary_report,
    choice_gini,
    choice_reliability,
    expected_calibration_error,
    expected_ratings,
    group_distribution,
    js_divergence,
    level_distribution,
    low_rating_share,
    mae,
    mean_log_likelihood,
    ndcg_of_positive,
    popularity_group_jsd,
    reliability_bins,
    renormalise,
    rmse,
    top1_accuracy,
    user_mean_correlation,
)

# Three rows of K=3: a clear hit, a miss at rank 1, a two-way tie at the top.
PROBS = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.4, 0.4, 0.2]])
POSITIVES = np.array([0, 2, 1])


def test_renormalise_scales_rows_and_makes_empty_rows_uniform():
    out = renormalise(np.array([[0.2, 0.2, 0.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(out, [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_top1_accuracy_counts_a_tie_as_a_fraction():
    # hit 1, miss 0, tie of two at the top 1/2 -> 1.5 / 3
    assert top1_accuracy(PROBS, POSITIVES) == pytest.approx(0.5)


def test_top1_accuracy_ignores_an_outside_option():
    # Rows summing to 0.5 (half kept for "none") rank the same way.
    assert top1_accuracy(PROBS / 2, POSITIVES) == pytest.approx(0.5)


def test_ndcg_of_positive_by_hand():
    # row 0: rank 0 -> 1; row 1: rank 1 -> 1/log2(3); row 2: tie over ranks 0,1 -> mean.
    g1 = 1 / math.log2(3)
    expected = (1 + g1 + (1 + g1) / 2) / 3
    assert ndcg_of_positive(PROBS, POSITIVES, k=5) == pytest.approx(expected)
    # At k=1 only rank 0 counts: 1, 0, and half of the tie.
    assert ndcg_of_positive(PROBS, POSITIVES, k=1) == pytest.approx(0.5)


def test_ndcg_of_a_constant_model_is_the_closed_form_chance_value():
    # (1/10) * sum_{p=1..5} 1/log2(p+1) = 0.2948 (README's random-order NDCG@5 at K=10)
    uniform = np.full((4, 10), 0.1)
    chance = sum(1 / math.log2(p + 1) for p in range(1, 6)) / 10
    assert ndcg_of_positive(uniform, np.array([0, 3, 7, 9]), k=5) == pytest.approx(chance)
    assert chance == pytest.approx(0.2948, abs=1e-4)


def test_mean_log_likelihood_renormalises_first():
    expected = (math.log(0.5) + math.log(0.3) + math.log(0.4)) / 3
    assert mean_log_likelihood(PROBS, POSITIVES) == pytest.approx(expected)
    assert mean_log_likelihood(PROBS * 0.25, POSITIVES) == pytest.approx(expected)


def test_mean_log_likelihood_clips_a_zero_probability():
    assert mean_log_likelihood(np.array([[1.0, 0.0]]), np.array([1])) == pytest.approx(
        math.log(1e-12)
    )


def test_choice_ece_by_hand():
    # Top-1 confidences 0.5, 0.6, 0.4 land alone in bins 5, 6, 4 with hits 1, 0, 0.5:
    # ECE = (|1 - .5| + |0 - .6| + |.5 - .4|) / 3 = 0.4
    assert expected_calibration_error(PROBS, POSITIVES) == pytest.approx(0.4)
    bins = choice_reliability(PROBS, POSITIVES)
    assert bins.count.tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0]
    assert bins.accuracy[4:7].tolist() == pytest.approx([0.5, 1.0, 0.0])
    assert bins.as_dict()["accuracy"][0] is None


def test_reliability_bins_put_a_confidence_of_one_in_the_last_bin_and_pool_a_bin():
    bins = reliability_bins(np.array([1.0, 0.95, 0.05]), np.array([1.0, 0.0, 0.0]))
    assert bins.count[-1] == 2 and bins.count[0] == 1
    # last bin: confidence .975, accuracy .5 (2 rows); first: .05 vs 0 (1 row)
    assert bins.ece == pytest.approx((2 * 0.475 + 0.05) / 3)


def test_a_perfectly_calibrated_model_has_zero_ece():
    bins = reliability_bins(np.array([0.25, 0.25, 0.25, 0.25]), np.array([1, 0, 0, 0]))
    assert bins.ece == pytest.approx(0.0)


def test_binary_report_by_hand():
    # says yes to rows 0 and 2; truth is rows 0 and 1 -> TP 1, FP 1, FN 1, TN 1
    report = binary_report(np.array([0.9, 0.4, 0.6, 0.1]), np.array([1, 1, 0, 0], bool))
    assert report == pytest.approx({"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5})


def test_binary_report_threshold_is_inclusive_and_no_yes_means_zero_precision():
    assert binary_report(np.array([0.5]), np.array([True]))["recall"] == 1.0
    never = binary_report(np.array([0.1, 0.2]), np.array([True, False]))
    assert never == pytest.approx({"accuracy": 0.5, "precision": 0.0, "recall": 0.0, "f1": 0.0})


def test_rmse_and_mae_by_hand():
    # errors -1, 0, -2: RMSE sqrt(5/3), MAE 1
    assert rmse(np.array([1, 2, 3]), np.array([2, 2, 5])) == pytest.approx(math.sqrt(5 / 3))
    assert mae(np.array([1, 2, 3]), np.array([2, 2, 5])) == pytest.approx(1.0)


def test_expected_ratings_and_level_distribution():
    levels = np.arange(1, 6)
    probs = np.array([[0, 0, 1, 0, 0], [0.5, 0, 0, 0, 0.5], [0.2, 0, 0, 0, 0]])
    np.testing.assert_allclose(expected_ratings(probs, levels), [3, 3, 1])
    np.testing.assert_allclose(
        level_distribution(np.array([1, 1, 5, 3]), levels), [0.5, 0, 0.25, 0, 0.25]
    )


def test_js_divergence_is_the_squared_distance_in_bits():
    assert js_divergence(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    # M = (.75, .25); KL(p||M) = .5 log2(.5/.75) + .5 log2(2) = .20752;
    # KL(q||M) = log2(4/3) = .41504; JSD = mean = .31128 (distance would be .5579)
    assert js_divergence(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == pytest.approx(
        0.311278, abs=1e-6
    )
    assert js_divergence(np.array([2, 2]), np.array([1, 1])) == pytest.approx(0.0)


def test_js_divergence_refuses_an_empty_distribution():
    with pytest.raises(ValueError, match="positive mass"):
        js_divergence(np.array([0, 0]), np.array([1, 0]))


def test_low_rating_share_counts_one_and_two_stars():
    assert low_rating_share(np.array([1, 2, 3, 4, 5, 5])) == pytest.approx(2 / 6)


def test_user_mean_correlation_by_hand():
    # per-user means: sim a=2, b=4, c=5; real a=2, b=3, c=5 -> Pearson r = 13/14
    users = np.array(["a", "a", "b", "c"])
    r = user_mean_correlation(users, np.array([1, 3, 4, 5.0]), np.array([2, 2, 3, 5.0]))
    assert r == pytest.approx(13 / 14)
    assert math.isnan(user_mean_correlation(np.array(["a"]), np.array([1.0]), np.array([2.0])))


def test_group_distribution_ignores_ungrouped_items():
    group = np.array([0, 0, 1, 2, -1])
    np.testing.assert_allclose(
        group_distribution(np.array([0, 1, 2, 2, 4]), group, 3), [0.5, 0.5, 0.0]
    )


def test_popularity_group_jsd_of_disjoint_groups_is_one_bit():
    group = np.array([0, 0, 1, 2])
    assert popularity_group_jsd(np.array([0, 1]), np.array([2, 3]), group, 3) == pytest.approx(1)
    assert popularity_group_jsd(np.array([0, 2]), np.array([1, 3, 2, 0]), group, 3) == (
        pytest.approx(js_divergence(np.array([0.5, 0.5, 0]), np.array([0.5, 0.25, 0.25])))
    )


def test_choice_gini_from_equal_to_one_item_takes_all():
    assert choice_gini(np.array([0, 1, 2, 3]), 4) == pytest.approx(0.0)
    assert choice_gini(np.array([0, 0, 0, 0]), 4) == pytest.approx(0.75)  # (N-1)/N
