"""TriRec's expected item utility (EIU) against hand-computed values."""

import math

import numpy as np
import pytest

from recagora.item_space.metrics import (
    ctr_probabilities,
    eiu,
    item_utility,
    per_user_eiu,
    position_weights,
    target_eiu,
    user_vectors_from_histories,
)


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# Items at 0, 60 and 90 degrees from the user vector (1, 0): cosines 1, 0.5, 0.
ITEMS = np.array([[1.0, 0.0], [0.5, math.sqrt(3) / 2], [0.0, 3.0], [0.0, 0.0]])
USER = np.array([[2.0, 0.0]])


def test_position_weights_are_inverse_log2():
    assert position_weights(3) == pytest.approx([1.0, 1 / math.log2(3), 0.5])


def test_ctr_uses_std_of_list_cosines_as_temperature():
    # Cosines [1, 0.5, 0]: population std = sqrt(((0.5)^2 + 0 + (0.5)^2) / 3) = 0.40825.
    tau = math.sqrt(0.5 / 3)
    expected = [sigmoid(1 / tau), sigmoid(0.5 / tau), 0.5]
    assert ctr_probabilities(np.array([[0, 1, 2]]), USER, ITEMS)[0] == pytest.approx(expected)


def test_eiu_is_position_weighted_ctr_sum():
    tau = math.sqrt(0.5 / 3)
    ctr = [sigmoid(1 / tau), sigmoid(0.5 / tau), 0.5]
    slot = [ctr[0] * 1.0, ctr[1] / math.log2(3), ctr[2] * 0.5]
    ranked = np.array([[0, 1, 2]])
    assert item_utility(ranked, USER, ITEMS)[0] == pytest.approx(slot)
    assert eiu(ranked, USER, ITEMS) == pytest.approx(sum(slot))
    # EIU@2 truncates AFTER tau was taken over the whole list.
    assert per_user_eiu(ranked, USER, ITEMS, k=2) == pytest.approx([slot[0] + slot[1]])


def test_small_spread_falls_back_to_tau_half_and_padding_has_no_utility():
    # One item: std 0 < 1e-3 -> tau 0.5; cos 1 -> sigmoid(2). Padding -> 0.
    ranked = np.array([[0, -1]])
    assert item_utility(ranked, USER, ITEMS)[0] == pytest.approx([sigmoid(2.0), 0.0])


def test_missing_user_and_item_vectors_use_trirec_fallbacks():
    # Zero user vector -> CTR 0.01 everywhere; zero item vector (item 3) -> 0.001.
    ranked = np.array([[0, 3], [0, 3]])
    users = np.array([[0.0, 0.0], [1.0, 0.0]])
    ctr = ctr_probabilities(ranked, users, ITEMS)
    assert ctr[0] == pytest.approx([0.01, 0.01])
    # Row 1: only item 0 is usable -> std 0 -> tau 0.5 -> sigmoid(2); item 3 -> 0.001.
    assert ctr[1] == pytest.approx([sigmoid(2.0), 0.001])


def test_target_eiu_picks_the_target_slot():
    ranked = np.array([[0, 1, 2], [1, -1, -1]])
    users = np.vstack([USER, USER])
    utility = item_utility(ranked, users, ITEMS)
    # Row 0: target 1 at position 1; row 1: target -1 must not match padding -> 0.
    values = target_eiu(ranked, np.array([1, -1]), users, ITEMS)
    assert values == pytest.approx([utility[0, 1], 0.0])


def test_user_vectors_are_mean_of_history_items():
    users = user_vectors_from_histories([[0, 2], []], ITEMS)
    assert users.tolist() == [[0.5, 1.5], [0.0, 0.0]]


def test_empty_input_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        eiu(np.zeros((0, 3), dtype=np.int64), np.zeros((0, 2)), ITEMS)
