"""The one dataset registry: registered names and file formats, resolved lazily.

Registered names map to "module:function" strings returning a `DatasetSource`
(where the files are and which format reads them); formats map to "module:function"
loaders `load(path, *, name, **options) -> Dataset`. Nothing is imported until used
(Gymnasium-style entry points).
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from recagora.item_space.datasets.amazon_reviews import is_review_file, looks_like_amazon_folder
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.grouplens import is_grouplens_folder
from recagora.item_space.errors import DatasetError, DatasetMissingError, did_you_mean

_PKG = "recagora.item_space.datasets"

# name -> "module:function" returning a DatasetSource. One line per dataset.
DATASETS: dict[str, str] = {
    "ml-100k": f"{_PKG}.movielens:ml100k_source",
    "video-games": f"{_PKG}.amazon2018:video_games_source",
    "cds-vinyl": f"{_PKG}.amazon2018:cds_vinyl_source",
    "games-semids": f"{_PKG}.semantic_ids:games_source",
}

# format -> "module:function" loader(path, *, name, **options) -> Dataset.
FORMATS: dict[str, str] = {
    "movielens": f"{_PKG}.movielens:load_grouplens",
    "grouplens": f"{_PKG}.grouplens:load_movielens_folder",
    "amazon2018": f"{_PKG}.amazon2018:load_amazon2018",
    "semantic_ids": f"{_PKG}.semantic_ids:load_semantic_ids",
    "atomic": f"{_PKG}.atomic:load_atomic",
    "tabular": f"{_PKG}.tabular:load_tabular",
    "lightgcn": f"{_PKG}.lightgcn:load_lightgcn",
    "amazon_reviews": f"{_PKG}.amazon_reviews:load_amazon_reviews",
}

TABULAR_SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".txt")


@dataclass(frozen=True)
class DatasetSource:
    """Where a registered dataset's files are and how to read them."""

    name: str
    format: str
    path: Path
    description: str
    options: dict[str, Any] = field(default_factory=dict)
    how_to_get: str = ""

    @property
    def available(self) -> bool:
        return self.path.exists()


def _resolve(target: str):
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def dataset_source(name: str) -> DatasetSource:
    """The source of a registered dataset (DatasetError with a suggestion if unknown).

    A dataset missing from the shared data folder is looked for where `recagora data fetch`
    puts it (`fetch.data_home()`); a missing one says how to fetch it.
    """
    if name not in DATASETS:
        raise DatasetError(
            f"unknown dataset {name!r}{did_you_mean(name, DATASETS)}; "
            f"registered: {', '.join(DATASETS)} (or pass a path to dataset files)"
        )
    source = _resolve(DATASETS[name])()
    if source.available:
        return source
    from recagora.item_space.datasets.fetch import data_home
    from recagora.item_space.datasets.fetch_recipes import RECIPES

    if name not in RECIPES:
        return source
    fetched = data_home() / RECIPES[name].folder
    how = f"run `recagora data fetch {name}`, or set RECAGORA_SHARED_DATA to a folder holding it"
    path = fetched if fetched.is_dir() else source.path
    return replace(source, path=path, how_to_get=how)


def list_datasets() -> list[DatasetSource]:
    """Every registered dataset with its location (check `.available`)."""
    return [dataset_source(name) for name in DATASETS]


def detect_format(path: Path) -> str:
    """Guess the format of a dataset path from its contents (DatasetError if unclear)."""
    if path.is_file():
        if path.suffix == ".inter":
            return "atomic"
        if is_review_file(path):
            return "amazon_reviews"
        if path.name.endswith(".index.json"):
            return "semantic_ids"
        if path.suffix.lower() in TABULAR_SUFFIXES:
            return "tabular"
    elif path.is_dir():
        names = {child.name for child in path.iterdir()}
        if {"items.tsv", "train.csv"} <= names:
            return "amazon2018"
        if any(name.endswith(".index.json") for name in names):
            return "semantic_ids"
        if "u.data" in names:
            return "movielens"
        if looks_like_amazon_folder(names):
            return "amazon_reviews"
        if is_grouplens_folder(names):
            return "grouplens"
        if {"train.txt", "test.txt"} <= names:
            return "lightgcn"
        if any(name.endswith(".inter") for name in names):
            return "atomic"
    raise DatasetError(
        f"cannot tell the dataset format of {path} (pass format= one of {', '.join(FORMATS)})"
    )


def load_dataset(
    name_or_path: str | Path, *, format: str | None = None, cache: bool = True, **options
) -> Dataset:
    """Load a registered dataset by name, or dataset files from a path.

    Args:
        name_or_path: a registered name (see `list_datasets()`) or a file/folder path.
        format: one of FORMATS; None = the registered format, or detected from the path.
        cache: reuse a parsed copy from the on-disk cache (keyed by file paths + mtimes).
        options: passed to the format's loader (e.g. tabular column mapping user="uid").
    Raises:
        DatasetError: unknown name, missing path, unknown format or malformed files.
    """
    name, path, format, options = _locate(str(name_or_path), format, options)
    if format not in FORMATS:
        raise DatasetError(
            f"unknown dataset format {format!r}{did_you_mean(format, FORMATS)}; formats: {', '.join(FORMATS)}"
        )
    loader = _resolve(FORMATS[format])
    _check_options(loader, format, options)
    if not cache:
        return loader(path, name=name, **options)
    from recagora.item_space.datasets import cache as disk_cache

    return disk_cache.cached(
        lambda: loader(path, name=name, **options), format, path, name, options
    )


def _locate(
    name_or_path: str, format: str | None, options: dict[str, Any]
) -> tuple[str, Path, str, dict]:
    """Resolve (name, path, format, options) for a registered name or a path."""
    if name_or_path in DATASETS:
        source = dataset_source(name_or_path)
        if not source.available:
            raise DatasetMissingError(
                f"dataset {source.name!r} not found at {source.path} ({source.how_to_get})"
            )
        return source.name, source.path, format or source.format, {**source.options, **options}
    path = Path(name_or_path).expanduser()
    if not path.exists():
        if _looks_like_path(name_or_path):
            raise DatasetError(
                f"dataset path not found: {path} (check the path, or use a registered name: {', '.join(DATASETS)})"
            )
        dataset_source(name_or_path)  # raises the unknown-name error with a suggestion
    name = options.pop("name", None) or (path.stem if path.is_file() else path.resolve().name)
    return name, path, format or detect_format(path), options


def _looks_like_path(text: str) -> bool:
    return (
        "/" in text
        or "\\" in text
        or text.startswith(".")
        or Path(text).suffix.lower() in TABULAR_SUFFIXES
    )


def _check_options(loader, format: str, options: dict[str, Any]) -> None:
    accepted = inspect.signature(loader).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return
    known = [p for p in accepted if p not in ("path", "name")]
    for option in options:
        if option not in accepted:
            raise DatasetError(
                f"format {format!r} has no option {option!r}{did_you_mean(option, known)}; options: {', '.join(known) or 'none'}"
            )
