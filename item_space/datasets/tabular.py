"""Plain CSV / TSV / JSONL interaction (or item) tables with a column mapping.

    load_dataset("ratings.csv", user="uid", item="movie", rating="stars", timestamp="ts")

Columns not named are looked up by common names (user_id, item_id, rating, timestamp,
title, categories). A table without a user column is read as an item list (catalog only).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from recagora.item_space.datasets.build import (
    make_catalog,
    make_interactions,
    read_frame,
    require_columns,
)
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.paths import require_file
from recagora.item_space.errors import DatasetError

COMMON_NAMES = {
    "user": ("user_id", "user", "userId", "uid", "reviewerID"),
    "item": ("item_id", "item", "itemId", "movieId", "iid", "asin", "parent_asin"),
    "rating": ("rating", "score", "stars", "overall"),
    "timestamp": ("timestamp", "time", "ts", "unixReviewTime", "date"),
    "title": ("title", "item_title", "name"),
    "categories": ("categories", "category", "genres", "genre"),
}
FIX = "name the columns, e.g. user=..., item=..., rating=..., timestamp=..., title=..."


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (.csv), TSV (.tsv/.txt), JSON-lines (.jsonl) or JSON array (.json) table."""
    require_file(path, "table", "pass an existing CSV/TSV/JSONL file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        fix = (
            "each line must be one JSON object"
            if suffix == ".jsonl"
            else "the file must be a JSON array of objects"
        )
        return read_frame(path, fix, reader=pd.read_json, lines=suffix == ".jsonl", dtype=False)
    sep = "\t" if suffix in (".tsv", ".txt") else ","
    return read_frame(
        path, "check the delimiter and quoting", sep=sep, dtype=str, keep_default_na=False
    )


def _column(
    frame: pd.DataFrame, role: str, given: str | None, path: Path, required: bool
) -> str | None:
    if given is not None:
        require_columns(frame, [given], path, FIX)
        return given
    found = next((name for name in COMMON_NAMES[role] if name in frame.columns), None)
    if found is None and required:
        raise DatasetError(
            f"{path}: no {role} column (tried {', '.join(COMMON_NAMES[role])}; pass {role}=COLUMN)"
        )
    return found


def _timestamps(values: pd.Series, path: Path) -> np.ndarray:
    """Seconds since the epoch from numbers or date strings."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(np.float64).astype(np.int64)
    dates = pd.to_datetime(values, errors="coerce", utc=True)
    if dates.isna().any():
        bad = values[dates.isna()].iloc[0]
        raise DatasetError(
            f"{path}: timestamp {bad!r} is neither a number nor a date (fix the column or its name)"
        )
    return ((dates - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _ratings(values: pd.Series, path: Path) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        raise DatasetError(
            f"{path}: rating {values[numbers.isna()].iloc[0]!r} is not a number (fix the column or its name)"
        )
    return numbers.to_numpy(np.float64)


def _split_categories(value, separator: str) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(part).strip() for part in value if str(part).strip())
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    return tuple(part.strip() for part in str(value).split(separator) if part.strip())


def _catalog(
    name: str,
    table: pd.DataFrame,
    item: str,
    title: str | None,
    categories: str | None,
    separator: str,
):
    """One catalog row per distinct item, in order of first appearance."""
    first = table.drop_duplicates(item)
    keys = first[item].astype(str).tolist()
    titles = first[title].astype(str).tolist() if title else [f"item {key}" for key in keys]
    cats: Sequence[tuple[str, ...]] | None = None
    if categories:
        cats = [_split_categories(value, separator) for value in first[categories]]
    return make_catalog(name, keys, titles, cats)


def load_tabular(
    path: Path,
    *,
    name: str,
    user: str | None = None,
    item: str | None = None,
    rating: str | None = None,
    timestamp: str | None = None,
    title: str | None = None,
    categories: str | None = None,
    category_separator: str = "|",
    items: str | None = None,
    protocol: str = "loo",
) -> Dataset:
    """Dataset from one table of events (or of items, when it has no user column).

    Args:
        user, item, rating, timestamp, title, categories: column names (None = common names).
        category_separator: splits a categories string into labels ('a|b|c').
        items: optional separate item table (item, title, categories columns).
    """
    table = read_table(path)
    item_column = _column(table, "item", item, path, required=True)
    user_column = _column(table, "user", user, path, required=False)
    item_table, item_path = (read_table(Path(items)), Path(items)) if items else (table, path)
    catalog_item = (
        item_column if not items else _column(item_table, "item", item, item_path, required=True)
    )
    title_column = _column(item_table, "title", title, item_path, required=False)
    category_column = _column(item_table, "categories", categories, item_path, required=False)
    catalog = _catalog(
        name, item_table, catalog_item, title_column, category_column, category_separator
    )
    meta = {
        "format": "tabular",
        "source": str(path),
        "protocol": protocol,
        "category_kind": "labels",
    }
    if user_column is None:
        return Dataset(name=name, catalog=catalog, meta=meta)
    rating_column = _column(table, "rating", rating, path, required=False)
    time_column = _column(table, "timestamp", timestamp, path, required=False)
    interactions = make_interactions(
        catalog,
        table[user_column],
        table[item_column],
        ratings=_ratings(table[rating_column], path) if rating_column else None,
        timestamps=_timestamps(table[time_column], path) if time_column else None,
        source=path,
    )
    return Dataset(name=name, catalog=catalog, interactions=interactions, meta=meta)
