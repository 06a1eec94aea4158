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
