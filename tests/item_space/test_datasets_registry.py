"""The registry: names, suggestions, paths, format detection and the parse cache."""

from __future__ import annotations

import pytest

from recagora.item_space.datasets import (
    DATASETS,
    detect_format,
    list_datasets,
    load_dataset,
    shared_data_dir,
)
from recagora.item_space.datasets import cache as dataset_cache
from recagora.item_space.errors import DatasetError


def test_every_registered_dataset_is_available_here():
    sources = list_datasets()
    assert (
        [s.name for s in sources]
        == list(DATASETS)
        == ["ml-100k", "video-games", "cds-vinyl", "games-semids"]
    )
    from recagora.item_space.datasets import shared_data_dir

    if not shared_data_dir().is_dir():
        pytest.skip("no shared data folder here (recagora data fetch NAME gets each dataset)")
    assert all(source.available for source in sources)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(
        DatasetError, match=r"unknown dataset 'ml100k' \(did you mean 'ml-100k'\?\)"
    ):
        load_dataset("ml100k")


def test_missing_path_is_named(tmp_path):
    with pytest.raises(DatasetError, match="dataset path not found: .*nope"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(DatasetError, match="cannot tell the dataset format"):
        load_dataset(tmp_path)


def test_formats_are_detected_from_contents(shared_data):
    assert detect_format(shared_data / "amazon2018-Video_Games") == "amazon2018"
    assert detect_format(shared_data / "amazon-Games-semantic-ids") == "semantic_ids"


def test_shared_data_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("RECAGORA_SHARED_DATA", str(tmp_path))
    assert shared_data_dir() == tmp_path.resolve()


def test_slow_parses_are_cached_and_reused(monkeypatch, tmp_path):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    # Whether a parse counts as slow depends on the machine: make every parse "slow".
    monkeypatch.setattr(dataset_cache, "MIN_PARSE_SECONDS", 0.0)
    first = load_dataset("ml-100k")
    cached = list((tmp_path / "datasets").glob("ml-100k-*.pkl"))
    assert len(cached) == 1 and not list((tmp_path / "datasets").glob("*.tmp"))
    again = load_dataset("ml-100k")
    assert again.catalog.titles == first.catalog.titles
    assert len(again.interactions) == len(first.interactions) == 100_000
    cached[0].write_bytes(b"truncated")  # a broken cache file is re-parsed, not fatal
    assert len(load_dataset("ml-100k").catalog) == 1682
