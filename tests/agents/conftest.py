"""Shared fixtures of the agent tests: ML-100K (from the recbole wheel) with its LOO split."""

from __future__ import annotations

import pytest

from recagora.agents.roles.base import ItemFacts
from recagora.item_space.datasets.registry import load_dataset
from recagora.item_space.embedding import HashingEmbedder
from recagora.item_space.space import ItemSpace


@pytest.fixture(scope="session")
def ml100k_split():
    """The ML-100K dataset and its leave-one-out split (train / valid = 2nd last / test = last)."""
    dataset = load_dataset("ml-100k")
    return dataset, dataset.split("loo")


@pytest.fixture(scope="session")
def hashed_ml100k(ml100k_split):
    """(ItemSpace, ItemFacts) of ML-100K embedded with the fast hashing embedder (no torch)."""
    dataset, split = ml100k_split
    catalog = load_dataset("ml-100k").catalog
    space = ItemSpace.build(catalog, embedder=HashingEmbedder(), use_cache=False)
    popularity = split.train_interactions.item_counts(len(catalog))
    return space, ItemFacts.from_catalog(catalog, popularity)
