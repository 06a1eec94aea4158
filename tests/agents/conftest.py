"""Shared fixtures of the agent tests: ML-100K (from the recbole wheel) with its LOO split."""

from __future__ import annotations

import pytest

from recagora.agents.roles.base import ItemFacts
from recagora.item_space.datasets.registry import load_dataset
from recagora.item_space.types import Interactions


@pytest.fixture(scope="session")
def ml100k_split():
    """The ML-100K dataset and its leave-one-out split (train / valid = 2nd last / test = last)."""
    dataset = load_dataset("ml-100k")
    return dataset, dataset.split("loo")


@pytest.fixture(scope="session")
def hashed_ml100k(ml100k_split, hashing_space):
    """(ItemSpace, ItemFacts) of ML-100K embedded with the fast hashing embedder (no torch);
    the space is the session's `hashing_space` (tests/conftest.py)."""
    _, split = ml100k_split
    catalog = hashing_space.catalog
    popularity = split.train_interactions.item_counts(len(catalog))
    return hashing_space, ItemFacts.from_catalog(catalog, popularity)


@pytest.fixture(scope="session")
def first_users_events(ml100k_split, hashed_ml100k):
    """n -> (the events of the first n ML-100K users by id, hashed item facts)."""
    dataset, _ = ml100k_split
    frame = dataset.interactions.frame
    _, facts = hashed_ml100k

    def events(n: int) -> tuple[Interactions, ItemFacts]:
        kept = sorted(frame["user"].unique())[:n]
        return Interactions(frame[frame["user"].isin(kept)].reset_index(drop=True)), facts

    return events
