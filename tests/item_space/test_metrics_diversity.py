"""Word entropy, type-token ratio, distinct items and ILD against hand-computed values."""

import math

import numpy as np
import pytest

from recagora.item_space.metrics import (
    distinct_items,
    entropy,
    intra_list_diversity,
    per_list_ild,
    type_token_ratio,
)

TITLES = ["Super Mario", "Mario Kart", "Zelda"]


def test_entropy_over_title_words():
    # Slots 0, 1, 0 (padding ignored): words Super Mario Mario Kart Super Mario
    # -> Mario 3, Super 2, Kart 1 of 6: H = -(1/2 log2 1/2 + 1/3 log2 1/3 + 1/6 log2 1/6).
    recommended = np.array([[0, 1], [0, -1]])
    expected = 0.5 * 1 + (1 / 3) * math.log2(3) + (1 / 6) * math.log2(6)
    assert entropy(recommended, TITLES) == pytest.approx(expected)
    # The same slots given as strings, per list or flat.
    assert entropy([["Super Mario", "Mario Kart"], ["Super Mario"]]) == pytest.approx(expected)
    assert entropy(["Super Mario", "Mario Kart", "Super Mario"]) == pytest.approx(expected)


def test_type_token_ratio_over_title_words():
    # 3 distinct words (Super, Mario, Kart) among 6 -> 0.5.
    assert type_token_ratio(np.array([[0, 1], [0, -1]]), TITLES) == pytest.approx(0.5)
    assert type_token_ratio(["Zelda", "Zelda"]) == pytest.approx(0.5)


def test_entropy_and_ttr_over_item_ids_without_titles():
    # Ids 0, 0, 1, 2: p = [1/2, 1/4, 1/4] -> H = 1.5 bits; TTR = 3 / 4.
    recommended = np.array([[0, 0], [1, 2]])
    assert entropy(recommended) == pytest.approx(1.5)
    assert type_token_ratio(recommended) == pytest.approx(0.75)


def test_empty_recommendations_give_zero():
    assert entropy(np.array([[-1, -1]])) == 0.0
    assert type_token_ratio([]) == 0.0


def test_distinct_items_ignores_padding():
    assert distinct_items(np.array([[3, 3, -1], [4, 3, -1]])) == 2


def test_ild_mean_pairwise_cosine_distance():
    # Items: e1, e2, and (e1 + e2)/sqrt2 (given unnormalised as (2, 2)).
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    # List [0, 1, 2]: cosines 0, 1/sqrt2, 1/sqrt2 -> distances 1, 0.2929, 0.2929 -> mean 0.5286.
    # List [0, 0, -1]: identical items -> 0. List [1, -1, -1]: a single item -> NaN.
    ranked = np.array([[0, 1, 2], [0, 0, -1], [1, -1, -1]])
    expected_first = (1 + 2 * (1 - 1 / math.sqrt(2))) / 3
    scores = per_list_ild(ranked, vectors)
    assert scores[:2] == pytest.approx([expected_first, 0.0])
    assert math.isnan(scores[2])
    assert intra_list_diversity(ranked, vectors) == pytest.approx(expected_first / 2)
    assert math.isnan(intra_list_diversity(np.array([[1, -1]]), vectors))
