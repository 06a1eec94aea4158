"""The list head (Agent4Rec's "which of these would you watch?"): hand-worked answers, a fit
that recovers a known head, validation lists built as the suite's (seeded shuffle, never-seen
negatives, never the test split), and the learned and v0 users answering lists with it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from recagora.agents.learned_user.fit import calibration_samples
from recagora.agents.learned_user.list_choice import (
    ListChoiceConfig,
    ListHead,
    fit_list_head,
    validation_lists,
)
from recagora.agents.learned_user.model import (
    ChoicePart,
    LearnedUserConfig,
    LearnedUserModel,
    interest_logits,
)
from recagora.agents.learned_user.network import EncoderConfig, SequenceEncoder
from recagora.agents.user_models import build_user_model


class Untouchable(list):
    """A held-out part that fails the test if anything reads it."""

    def _refuse(self, *args, **kwargs):
        raise AssertionError("the fit read split.test")

    __iter__ = __len__ = __getitem__ = __bool__ = _refuse


def test_a_two_item_list_by_hand():
    # z = (log 2, 0), outside 0: exp -> 2, 1 and 1 for "none"; shares 2/4 and 1/4.
    z = np.array([[np.log(2.0), 0.0]])
    share = ListHead(outside=0.0, a=1.0, c=-1.0, b=0.0)  # logit(s): P(pick) is the share itself
    np.testing.assert_allclose(share.probabilities(z), [[0.5, 0.25]])
    # a = 2, c = 0, b = 1: logit = 2 log(1/2) + 1 = -0.3863 -> 0.4046; 2 log(1/4) + 1 = -1.7726 -> 0.1452 (1 / (1 + 5.886))
    other = ListHead(outside=0.0, a=2.0, c=0.0, b=1.0)
    np.testing.assert_allclose(other.probabilities(z), [[0.40461, 0.14522]], atol=1e-5)
    # the order shown does not matter to the user: swapping the items swaps the answers
    np.testing.assert_allclose(other.probabilities(z[:, ::-1]), [[0.14522, 0.40461]], atol=1e-5)


def test_the_fit_recovers_a_known_head():
    rng = np.random.default_rng(0)
    truth = ListHead(outside=-1.0, a=1.5, c=-0.5, b=0.3)
    data = {}
    for m in (1, 3, 9):
        z = rng.normal(0.0, 1.5, size=(6000, m + 1))
        data[m] = (z, rng.random(z.shape) < truth.probabilities(z))
    fitted = fit_list_head(data, ListChoiceConfig(l2=0.0))
    np.testing.assert_allclose(
        [fitted.outside, fitted.a, fitted.c, fitted.b], [-1.0, 1.5, -0.5, 0.3], atol=0.15
    )


def test_the_fit_on_single_pick_lists_says_yes_to_the_likeliest_item():
    # one positive per list whose z is larger by 3: the fitted head picks it and nothing else
    rng = np.random.default_rng(1)
    data = {}
    for m in (1, 3, 9):
        z = rng.normal(size=(2000, m + 1))
        picks = np.zeros(z.shape, bool)
        picks[np.arange(2000), rng.integers(0, m + 1, size=2000)] = True
        data[m] = (z + 3.0 * picks, picks)
    head = fit_list_head(data, ListChoiceConfig())
    for z, picks in data.values():
        assert ((head.probabilities(z) >= 0.5) == picks).mean() > 0.9


def test_validation_lists_are_shuffled_seeded_and_never_hold_a_seen_item():
    targets = np.arange(3000) % 50
    seen = [frozenset({int(t), int(t) + 50}) for t in targets]
    lists = validation_lists(targets, seen, 200, (1, 3, 9), np.random.default_rng(0))
    again = validation_lists(targets, seen, 200, (1, 3, 9), np.random.default_rng(0))
    for m in (1, 3, 9):
        columns, positives = lists.shown[m]
        np.testing.assert_array_equal(columns, again.shown[m][0])
        shown = lists.lists(m)
        np.testing.assert_array_equal(shown[np.arange(3000), positives], targets)
        shares = np.bincount(positives, minlength=m + 1) / 3000
        assert np.abs(shares - 1 / (m + 1)).max() < 0.04  # never always first
        # the 1:m list is the target and the first m never-seen items of one draw
        assert all(set(row) == {0, *range(1, m + 1)} for row in columns.tolist())
    for row, known, target in zip(lists.items[:, 1:], seen, targets, strict=True):
        assert not known & set(row.tolist()) and target not in row


def test_validation_lists_read_validation_only(ml100k_split, hashed_ml100k):
    dataset, split = ml100k_split
    _, facts = hashed_ml100k
    blind = replace(split, test=Untouchable())
    samples, seen = calibration_samples(blind.valid, LearnedUserConfig(), 0)
    lists = validation_lists(
        np.array([s.target for s in samples]), seen, len(dataset.catalog), (1, 3, 9), np.random.default_rng(0)
    )
    valid_target = {s.user: s.target for s in split.valid}
    for sample, row in zip(samples, lists.items, strict=True):
        assert row[0] == valid_target[sample.user]  # the positive: the validation target
        assert not set(sample.history) & set(row.tolist())
    # v0 fits its list head on the same lists without ever reading the test split
    v0 = build_user_model("v0", dataset, blind, seed=0, facts=facts)
    assert v0.list_head is not None


@pytest.fixture(scope="module")
def untrained(hashed_ml100k):
    """A learned user with an untrained encoder and a fixed interest head: enough to check
    that a list is answered from the items' alone logits."""
    _, facts = hashed_ml100k
    encoder = SequenceEncoder(facts.vectors, EncoderConfig(dim=16, max_len=10, layers=1)).eval()
    interest = np.array([1.0, 2.0, 1.0, 0.5, 1.0, 0.0, 0.3, 0.0, 0.1])
    part = ChoicePart(encoder, np.ones(6), 0.0, interest, {}, None, ListHead(-1.0, 1.2, -0.8, 0.1))
    return LearnedUserModel(facts, (), lambda: part, lambda: None)


def test_the_learned_user_answers_a_list_from_its_alone_logits(untrained):
    histories = [[1, 2, 3], [10, 20], [5]]
    lists = np.array([[4, 7, 9, 11], [30, 31, 32, 33], [6, 8, 100, 200]])
    answer = untrained.list_interest_probabilities([0, 1, 2], histories, lists)
    z = interest_logits(untrained.facts, untrained.choice, histories, lists)
    np.testing.assert_allclose(answer, untrained.choice.list_head.probabilities(z))
    alone = untrained.interest_probabilities(np.repeat([0, 1, 2], 4), [h for h in histories for _ in range(4)],
                                             lists.reshape(-1))
    np.testing.assert_allclose(1 / (1 + np.exp(-z.reshape(-1))), alone)  # one logit per item, in or out of a list
    assert not np.allclose(answer.reshape(-1), alone)  # but the list answer compares them


def test_v0_answers_a_list_with_its_head_and_alone_without_one(ml100k_split, hashed_ml100k):
    dataset, split = ml100k_split
    _, facts = hashed_ml100k
    v0 = build_user_model("v0", dataset, split, seed=0, facts=facts)
    histories = [list(s.history) for s in split.test[:50]]
    lists = np.column_stack([[s.target for s in split.test[:50]], np.arange(50), np.arange(50, 100)])
    alone = v0.interest_probabilities(range(50), [h for h in histories for _ in range(3)], lists.reshape(-1))
    listed = v0.list_interest_probabilities(range(50), histories, lists)
    assert listed.shape == (50, 3) and not np.allclose(listed.reshape(-1), alone)
    plain = replace(v0, list_head=None)
    np.testing.assert_allclose(plain.list_interest_probabilities(range(50), histories, lists).reshape(-1), alone)
