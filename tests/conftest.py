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
    if not folder.is_dir():
        pytest.skip(
            f"shared data folder missing: {folder} (get the datasets with "
            "`recagora data fetch NAME`, or set RECAGORA_SHARED_DATA)"
        )
    return folder


def _skip_when_a_dataset_is_missing():
    """Wrap a test phase: a registered dataset that is not on this machine skips the test.

    Its message names `recagora data fetch NAME`, so a clone without the shared data folder
    runs green with skips that say how to get the data.
    """
    from recagora.item_space.errors import DatasetMissingError

    try:
        return (yield)
    except DatasetMissingError as missing:
        pytest.skip(str(missing))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _skip_when_a_dataset_is_missing())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _skip_when_a_dataset_is_missing())


@pytest.fixture(autouse=True)
def _skip_cli_runs_that_miss_a_dataset(monkeypatch):
    """Without the shared data folder, a test whose `recagora ...` call (in process) stops on
    a missing dataset is skipped with that one-line message (it names the fetch command),
    as a library call is by the hooks above. With the folder present nothing is patched."""
    from recagora.item_space.datasets import shared_data_dir

    if shared_data_dir().is_dir():
        return
    from recagora.experiments.cli import main as cli

    print_error = cli.print_error

    def skip_on_missing_data(message: str, exit_code: int) -> int:
        if "recagora data fetch" in message or "set RECAGORA_SHARED_DATA" in message:
            pytest.skip(message)
        return print_error(message, exit_code)

    monkeypatch.setattr(cli, "print_error", skip_on_missing_data)


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray cluster of 2 workers per test module (ray.init takes seconds)."""
    ray = pytest.importorskip("ray")
    from recagora.experiments.executors.ray_runs import connect

    connect(None, workers=2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def hashing_space():
    """ItemSpace over ML-100K with the hashing embedder (deterministic, ~3 s to build);
    one per session, shared by the scenario, runner and executor tests."""
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.embedding import HashingEmbedder
    from recagora.item_space.space import ItemSpace

    return ItemSpace.build(
        load_dataset("ml-100k").catalog, embedder=HashingEmbedder(), use_cache=False
    )
