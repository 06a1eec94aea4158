"""The learned user's calibration never sees a target its encoder or EASE trained on: every
validation target w, its slate context and the outside option are fitted on is absent from
the events the encoder and EASE are fitted on (for its user and as a training next item),
and a changed calibration recipe is never served from an older cache entry."""

from __future__ import annotations

from dataclasses import replace

import pytest

from recagora.agents.learned_user import fit as fit_module
from recagora.agents.learned_user.fit import cache_key, calibration_samples, fit_learned_user
from recagora.agents.learned_user.model import LearnedUserConfig
from recagora.agents.learned_user.network import EncoderConfig
from recagora.agents.learned_user.rating import RatingConfig
from recagora.agents.learned_user.train import TrainConfig
from recagora.item_space.splits import leave_one_out, random_leave_one_out
from recagora.item_space.types import Interactions

TINY = LearnedUserConfig(
    encoder=EncoderConfig(dim=16, max_len=10, layers=1),
    train=TrainConfig(max_epochs=1, batch_size=64),
    rating=RatingConfig(l2_grid=(0.05,), max_epochs=5),
    context_l2=(1e-3,),
)


@pytest.fixture(scope="module")
def events(first_users_events):
    """120 real ML-100K users' events and hashed item facts."""
    return first_users_events(120)


@pytest.mark.parametrize("protocol", ["loo", "random_loo"])
def test_no_calibration_target_is_a_training_pair(events, monkeypatch, protocol):
    interactions, facts = events
    split = leave_one_out(interactions) if protocol == "loo" else random_leave_one_out(interactions, seed=0)
    facts = replace(facts, popularity=split.train_interactions.item_counts(len(facts)))
    seen_by = {}

    def spy(name, real):
        def wrapped(*args, **kwargs):
            seen_by[name] = next(a for a in args if isinstance(a, Interactions)).frame
            return real(*args, **kwargs)
        monkeypatch.setattr(fit_module, name, wrapped)

    spy("fit_encoder", fit_module.fit_encoder)
    spy("fit_ease", fit_module.fit_ease)
    model = fit_learned_user(facts, split, seed=0, config=TINY, show_progress=False, cache=False)
    assert model.choice.context is not None and set(seen_by) == {"fit_encoder", "fit_ease"}
    samples, _ = calibration_samples(split.valid, TINY, seed=0)
    assert len(samples) > 100
    for frame in seen_by.values():
        pairs = set(zip(frame["user"].astype(str), frame["item"], strict=True))
        assert not any((str(s.user), s.target) in pairs for s in samples)
        ordered = frame.sort_values(["user", "timestamp"], kind="stable")
        by_user = {str(u): g.tolist() for u, g in ordered.groupby("user", sort=False)["item"]}
        for s in samples:  # the history is a prefix of the user's training sequence, the target beyond it
            sequence = by_user[str(s.user)]
            assert list(s.history) == sequence[: len(s.history)] and s.target not in sequence


def test_a_changed_context_recipe_gets_a_new_cache_key(events):
    interactions, facts = events
    split = leave_one_out(interactions)
    key = cache_key(split, 0, TINY, facts)
    assert cache_key(split, 0, replace(TINY, context_l2=(1e-2,)), facts) != key
