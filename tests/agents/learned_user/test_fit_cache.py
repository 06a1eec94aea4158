"""The learned user's fit cache keys on the split protocol: a fit on one protocol is never
reused for another (its training events hold the other's held-out items)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from recagora.agents.learned_user.fit import cache_key, fit_learned_user
from recagora.agents.learned_user.model import LearnedUserConfig
from recagora.agents.learned_user.network import EncoderConfig
from recagora.agents.learned_user.rating import RatingConfig
from recagora.agents.learned_user.train import TrainConfig
from recagora.agents.roles.base import ItemFacts
from recagora.item_space.splits import leave_one_out, random_leave_one_out

TINY = LearnedUserConfig(
    encoder=EncoderConfig(dim=16, max_len=10, layers=1),
    train=TrainConfig(max_epochs=1, max_seconds=20, batch_size=64, lr=3e-3),
    rating=RatingConfig(l2_grid=(0.05,), max_epochs=5),
    n_negatives=10,
)


@pytest.fixture(scope="module")
def events(first_users_events):
    """80 real ML-100K users' events and hashed item facts."""
    return first_users_events(80)


def _facts(split, facts: ItemFacts) -> ItemFacts:
    return replace(facts, popularity=split.train_interactions.item_counts(len(facts)))


def test_two_protocols_give_two_cache_entries(events, tmp_path, monkeypatch):
    interactions, facts = events
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    for split in (leave_one_out(interactions), random_leave_one_out(interactions, seed=0)):
        model = fit_learned_user(
            _facts(split, facts), split, seed=0, config=TINY, show_progress=False
        )
        assert model.choice is not None and model.rating is not None  # each side fits lazily
    stems = sorted(path.name.split("-")[0] for path in (tmp_path / "learned_user").glob("*.pt"))
    assert stems == ["choice", "choice", "rating", "rating"]


def test_the_key_names_the_protocol_and_the_seeded_draw(events):
    interactions, facts = events
    loo = leave_one_out(interactions)
    keys = {
        cache_key(split, 0, TINY, facts)
        for split in (
            loo,
            replace(loo, protocol="random_loo"),  # the same events under another name
            random_leave_one_out(interactions, seed=0),
            random_leave_one_out(interactions, seed=1),
        )
    }
    assert len(keys) == 4
    again = random_leave_one_out(interactions, seed=0)
    assert cache_key(again, 0, TINY, facts) in keys
    assert cache_key(loo, 0, TINY.rating) != cache_key(
        replace(loo, protocol="random_loo"), 0, TINY.rating
    )
