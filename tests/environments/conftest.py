"""Shared fixtures: ML-100K with a fast hashing item space (no MiniLM load)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# pytest runs with --import-mode=importlib (no sys.path entry per test folder); the
# scenario tests import their role doubles from this folder by name.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def hashing_space():
    """ItemSpace over ML-100K with the hashing embedder (deterministic, ~3 s to build)."""
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.embedding import HashingEmbedder
    from recagora.item_space.space import ItemSpace

    return ItemSpace.build(
        load_dataset("ml-100k").catalog, embedder=HashingEmbedder(), use_cache=False
    )


def small_learned_user(dataset, space, split: str = "auto", max_history: int = 10):
    """The default (learned) user fitted on a one-epoch budget, for tests of a scenario's
    wiring rather than of the fit; the split and item facts are the ones `prepare` builds."""
    from recagora.agents.learned_user.fit import fit_learned_user
    from recagora.agents.learned_user.model import LearnedUserConfig
    from recagora.agents.learned_user.train import TrainConfig
    from recagora.agents.roles.base import ItemFacts

    dataset.catalog.vectors = space.catalog.vectors
    parts = dataset.split(split, max_history=max_history)
    facts = ItemFacts.from_catalog(
        dataset.catalog, parts.train_interactions.item_counts(len(dataset.catalog))
    )
    small = LearnedUserConfig(train=TrainConfig(max_epochs=1), max_valid_samples=500)
    return fit_learned_user(facts, parts, config=small, show_progress=False)
