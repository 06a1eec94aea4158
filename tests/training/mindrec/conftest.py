"""Fixtures for MindRec: a slice of games-semids (MindRec's own Amazon Games data)."""

from __future__ import annotations

import pytest
import torch

from recagora.item_space.types import Catalog

torch.set_num_threads(1)  # the CI machine has 2 shared cores
N_ITEMS = 300


@pytest.fixture(scope="session")
def games_world():
    """The first 300 games-semids items (LETTER semantic IDs) and the train samples in them."""
    from recagora.item_space.datasets import load_dataset

    dataset = load_dataset("games-semids")
    catalog = Catalog("games-300", dataset.catalog.items[:N_ITEMS])
    split = dataset.split("loo")
    train = [s for s in split.train if s.target < N_ITEMS and max(s.history) < N_ITEMS]
    test = [s for s in split.test if s.target < N_ITEMS and max(s.history) < N_ITEMS]
    return catalog, train, test


def label_paths(catalog: Catalog) -> list[tuple[str, ...]]:
    """Two-level label paths per item (a stand-in for a category tree), from its first code."""
    paths = []
    for item in catalog.items:
        first = int(item.attributes["semantic_id"][0].strip("<>").split("_")[1])
        paths.append((f"g{first % 4}", f"h{first % 3}"))
    return paths
