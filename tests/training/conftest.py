"""Fixtures for training/: the Video_Games data of the Flower paper and tiny configs."""

from __future__ import annotations

import pytest
import torch

from recagora.item_space.types import Catalog, Item, Sample

torch.set_num_threads(1)  # the CI machine has 2 shared cores


@pytest.fixture(scope="session")
def video_games():
    """The registered Video_Games dataset (3,858 items, the given 80/10/10 split)."""
    from recagora.item_space.datasets import load_dataset

    return load_dataset("video-games")


@pytest.fixture(scope="session")
def small_world(video_games):
    """The first 120 items of Video_Games as a catalog, with train samples inside it."""
    catalog = Catalog("video-games-120", video_games.catalog.items[:120])
    split = video_games.split("given")
    keep = [s for s in split.train if s.target < 120 and all(i < 120 for i in s.history)]
    padded = keep + [Sample(user=f"u{i}", history=(i,), target=(i + 1) % 120) for i in range(120)]
    return catalog, padded


@pytest.fixture
def tiny_overrides():
    """make(output_dir, **extra) -> overrides of a very small, fast tiny-GPT run."""
    return _tiny_overrides


def _tiny_overrides(output_dir, **extra) -> list[str]:
    values = {
        "output_dir": str(output_dir),
        "max_steps": 4,
        "batch_size": 8,
        "micro_batch_size": 4,
        "learning_rate": 3e-3,
        "warmup_steps": 1,
        "progress": False,
        "backbone.tiny_n_layer": 1,
        "backbone.tiny_n_embd": 32,
        "backbone.tiny_n_head": 2,
        "backbone.tiny_vocab_size": 600,
        "prompt.max_history": 3,
        **extra,
    }
    return [f"{k}={v}" for k, v in values.items()]


@pytest.fixture
def toy_catalog():
    """make(titles) -> a Catalog of those titles."""
    return lambda titles: Catalog(
        "toy", [Item(id=i, key=str(i), title=t) for i, t in enumerate(titles)]
    )
