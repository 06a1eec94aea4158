"""Shared test fixtures (keep small; other floors may add theirs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _isolated_dataset_cache(tmp_path_factory):
    """Parsed-dataset cache in a per-session temp dir, never the user's cache."""
    previous = os.environ.get("RECAGORA_CACHE_DIR")
    os.environ["RECAGORA_CACHE_DIR"] = str(tmp_path_factory.mktemp("dataset-cache"))
    yield
    if previous is None:
        os.environ.pop("RECAGORA_CACHE_DIR", None)
    else:
        os.environ["RECAGORA_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder ($RECAGORA_SHARED_DATA or <repo>/../shared/data)."""
    from recagora.item_space.datasets import shared_data_dir

    folder = shared_data_dir()
    assert folder.is_dir(), f"shared data folder missing: {folder}"
    return folder
