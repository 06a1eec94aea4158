"""Candidate sets (TriRec protocol): ground truth once, k items, no history, seeded; the config."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.environments.scenario import MemorySink, RunServices
from recagora.environments.trirec.candidates import (
    candidate_function,
    hard_negative_candidates,
    popularity_candidates,
)
from recagora.environments.trirec.cohort import training_popularity
from recagora.environments.trirec.config import CandidateConfig, TrirecConfig
from recagora.environments.trirec.prepare import prepare_trirec
from recagora.item_space.errors import ConfigError


@pytest.fixture(scope="module")
def ml100k():
    """Histories, held-out items and training popularity of 200 ML-100K users."""
    from recagora.item_space.datasets import load_dataset

    dataset = load_dataset("ml-100k")
    split = dataset.split("loo")
    tests = split.test[:200]
    histories = [tuple(s.history) for s in tests]
    targets = np.asarray([s.target for s in tests], np.int64)
    return histories, targets, training_popularity(dataset, split)


def _check_protocol(candidates: np.ndarray, histories, targets: np.ndarray, k: int) -> None:
    assert candidates.shape == (len(histories), k) and candidates.dtype == np.int64
    for row, history, target in zip(candidates.tolist(), histories, targets.tolist(), strict=True):
        assert len(set(row)) == k
        assert row.count(target) == 1
        assert not set(row) & set(history)


def test_popularity_candidates_follow_the_protocol_and_the_seed(ml100k):
    histories, targets, popularity = ml100k
    draw = popularity_candidates(popularity, histories, targets, 10, np.random.default_rng(3))
    _check_protocol(draw, histories, targets, 10)
    again = popularity_candidates(popularity, histories, targets, 10, np.random.default_rng(3))
    other = popularity_candidates(popularity, histories, targets, 10, np.random.default_rng(4))
    assert np.array_equal(draw, again) and not np.array_equal(draw, other)
    # Popularity sampling: negatives lean to popular items.
    negatives = draw[draw != targets[:, None]]
    assert popularity[negatives].mean() > 2 * popularity.mean()


def test_hard_negatives_are_the_top_scored_items_and_never_the_target(ml100k):
    histories, targets, popularity = ml100k
    scores = np.tile(popularity.astype(np.float64), (len(histories), 1))
    scores[np.arange(len(targets)), targets] = 1e9  # the scorer's top pick is the ground truth
    draw = hard_negative_candidates(scores, histories, targets, 10, np.random.default_rng(0))
    _check_protocol(draw, histories, targets, 10)
    for row, history, target in zip(draw.tolist(), histories, targets.tolist(), strict=True):
        allowed = [i for i in np.argsort(-popularity, kind="stable") if i not in history]
        expected = [i for i in allowed if i != target][:9]
        assert sorted(i for i in row if i != target) == sorted(expected)
    # Shuffled: the ground truth is not parked in one column.
    assert len({row.index(t) for row, t in zip(draw.tolist(), targets.tolist(), strict=True)}) > 3
    again = hard_negative_candidates(scores, histories, targets, 10, np.random.default_rng(0))
    assert np.array_equal(draw, again)


def test_a_consumed_target_leaves_k_plain_negatives(ml100k):
    histories, _, popularity = ml100k
    none = np.full(len(histories), -1, np.int64)
    draw = popularity_candidates(popularity, histories, none, 10, np.random.default_rng(0))
    assert all(
        len(set(r)) == 10 and not set(r) & set(h)
        for r, h in zip(draw.tolist(), histories, strict=True)
    )


def test_candidate_function_for_itemspace_defers_to_the_platform(ml100k):
    assert candidate_function("itemspace", 10, ml100k[2]) is None
    with pytest.raises(ValueError):
        candidate_function("sasrec", 10, ml100k[2])


def test_config_rejects_an_unknown_source_with_a_suggestion():
    with pytest.raises(ConfigError, match="did you mean 'sasrec'"):
        TrirecConfig(candidates=CandidateConfig(source="sasrek"))


def test_sasrec_without_a_trained_model_is_a_one_line_error(hashing_space):
    config = TrirecConfig(
        users=3,
        llm="fake:",
        agents="user=surrogate,item=surrogate",
        candidates=CandidateConfig(source="sasrec"),
    )
    services = RunServices(sink=MemorySink(), extras={"space": hashing_space})
    with pytest.raises(ConfigError, match="needs a trained SASRec"):
        prepare_trirec(config, services)


def test_sasrec_hook_scores_in_blocks_with_the_same_candidate_sets(ml100k):
    from types import SimpleNamespace

    histories, targets, popularity = ml100k
    calls: list[int] = []

    def scorer(batch):
        calls.append(len(batch))
        return np.tile(popularity.astype(np.float32), (len(batch), 1))

    cohort = SimpleNamespace(histories=histories)
    idx = np.arange(len(histories))
    whole = candidate_function("sasrec", 10, popularity, scorer)
    blocked = candidate_function("sasrec", 10, popularity, scorer, block=64)
    one = whole(cohort, idx, np.random.default_rng(0), targets=targets)
    many = blocked(cohort, idx, np.random.default_rng(0), targets=targets)
    assert calls == [200, 64, 64, 64, 8]
    _check_protocol(many, histories, targets, 10)
    assert [set(r) for r in one.tolist()] == [set(r) for r in many.tolist()]


def _inclusion_probabilities(weights: np.ndarray, allowed: list[int], k: int) -> np.ndarray:
    """Exact P(item among k successive draws without replacement), by enumerating orders."""
    import itertools

    p = np.zeros(len(weights))
    for order in itertools.permutations(allowed, k):
        prob, left = 1.0, float(weights[allowed].sum())
        for item in order:
            prob *= weights[item] / left
            left -= weights[item]
        p[list(order)] += prob
    return p


def test_vectorised_popularity_sampling_is_sampling_without_replacement():
    popularity = np.array([9.0, 5.0, 3.0, 1.0, 0.0, 0.0, 7.0])  # +1 smoothing inside
    histories = [(1,)] * 20_000  # item 1 is in every history, item 6 is every target
    targets = np.full(len(histories), 6, np.int64)
    draw = popularity_candidates(popularity, histories, targets, 4, np.random.default_rng(0))
    negatives = draw[draw != 6].reshape(len(histories), 3)  # the 3 kept negatives per row
    assert not (draw == 1).any() and (draw == 6).sum(axis=1).tolist() == [1] * len(histories)
    # The 4 draws' first 3 are the negatives the protocol keeps: compare with exact
    # inclusion probabilities of 3 successive draws among the allowed items {0, 2, 3, 4, 5}.
    expected = _inclusion_probabilities(popularity + 1.0, [0, 2, 3, 4, 5], 3)
    observed = np.bincount(negatives.ravel(), minlength=len(popularity)) / len(histories)
    np.testing.assert_allclose(observed, expected, atol=0.015)


def test_rows_with_almost_no_allowed_items_still_get_k_distinct_negatives():
    popularity = np.arange(40, dtype=np.float64) ** 3  # steep: rejections for heavy histories
    heavy = tuple(range(9, 40))  # only items 0-8 are allowed, the least popular ones
    histories = [heavy, (), heavy]
    targets = np.array([0, 5, -1], np.int64)
    draw = popularity_candidates(popularity, histories, targets, 8, np.random.default_rng(1))
    _check_protocol(draw[:2], histories[:2], targets[:2], 8)
    assert len(set(draw[2].tolist())) == 8 and set(draw[2].tolist()) <= set(range(9))
