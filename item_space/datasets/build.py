"""Shared helpers for the loaders: safe file reading and Catalog/Interactions assembly."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Catalog, Interactions, Item


def read_frame(
    path: Path, fix: str, reader: Callable[..., pd.DataFrame] = pd.read_csv, **kwargs
) -> pd.DataFrame:
    """Read a table with pandas; any parse failure becomes a one-line DatasetError."""
    try:
        frame = reader(path, **kwargs)
    except FileNotFoundError as error:
        raise DatasetError(f"file not found: {path} ({fix})") from error
    except (PermissionError, IsADirectoryError) as error:
        raise DatasetError(
            f"cannot read {path}: {error.strerror} (check the path and its permissions)"
        ) from error
    except pd.errors.EmptyDataError as error:
        raise DatasetError(f"file is empty: {path} ({fix})") from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        reason = str(error).splitlines()[0][:160]
        raise DatasetError(f"cannot parse {path}: {reason} ({fix})") from error
    if frame.empty:
        raise DatasetError(f"file has no rows: {path} ({fix})")
    return frame


def read_json(path: Path, fix: str) -> Any:
    """Parse a JSON file; bad JSON becomes a one-line DatasetError naming the line."""
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as error:
        raise DatasetError(f"file not found: {path} ({fix})") from error
    except (PermissionError, IsADirectoryError) as error:
        raise DatasetError(
            f"cannot read {path}: {error.strerror} (check the path and its permissions)"
        ) from error
    except json.JSONDecodeError as error:
        raise DatasetError(
            f"bad JSON in {path} at line {error.lineno}: {error.msg} ({fix})"
        ) from error
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path} is not UTF-8 text ({fix})") from error


def require_columns(frame: pd.DataFrame, columns: Sequence[str], path: Path, fix: str) -> None:
    """Raise a DatasetError naming the missing columns and the ones the file has."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns[:12]))
        raise DatasetError(f"{path} lacks columns {missing} (found: {found}; {fix})")


def unique_titles(titles: Sequence[str], keys: Sequence[str]) -> list[str]:
    """Make titles unique (Catalog requires it): repeats get ' [key]' appended.

    Example: two ML-100K movies are both titled 'Chasing Amy (1997)'; the second
    becomes 'Chasing Amy (1997) [246]'. The first occurrence keeps its plain title.
    """
    seen: set[str] = set()
    result = []
    for title, key in zip(titles, keys, strict=True):
        clean = " ".join(str(title).split()) or f"item {key}"
        if clean in seen:
            clean = f"{clean} [{key}]"
        seen.add(clean)
        result.append(clean)
    return result


def make_catalog(
    name: str,
    keys: Sequence[str],
    titles: Sequence[str],
    categories: Sequence[Sequence[str]] | None = None,
    attributes: Sequence[dict[str, Any]] | None = None,
) -> Catalog:
    """Catalog whose item i has dataset key keys[i] (dense ids follow the given order)."""
    keys = [str(key) for key in keys]
    if len(set(keys)) != len(keys):
        raise DatasetError(
            f"dataset {name!r}: item ids are not unique (each item must appear once)"
        )
    titles = unique_titles(titles, keys)
    categories = categories if categories is not None else [()] * len(keys)
    attributes = attributes if attributes is not None else [{}] * len(keys)
    items = [
        Item(id=i, key=key, title=title, categories=tuple(cats), attributes=dict(attrs))
        for i, (key, title, cats, attrs) in enumerate(
            zip(keys, titles, categories, attributes, strict=True)
        )
    ]
    return Catalog(name=name, items=items)


def make_interactions(
    catalog: Catalog,
    users: Sequence[Any] | np.ndarray,
    item_keys: Sequence[Any] | np.ndarray,
    ratings: Sequence[float] | np.ndarray | None = None,
    timestamps: Sequence[int] | np.ndarray | None = None,
    source: Path | str = "interactions",
) -> Interactions:
    """Interactions with item keys mapped to the catalog's dense ids.

    Raises DatasetError when an item key is absent from the catalog.
    """
    key_index = pd.Index([item.key for item in catalog.items])
    keys = pd.Index(pd.Series(item_keys).astype(str))
    dense = key_index.get_indexer(keys)
    if (dense < 0).any():
        unknown = keys[dense < 0][:3].tolist()
        raise DatasetError(
            f"{source} names items absent from the item list, e.g. {unknown} "
            "(add them to the item file or drop those rows)"
        )
    n = len(dense)
    frame = pd.DataFrame(
        {
            "user": pd.Series(users).astype(str).to_numpy(),
            "item": dense.astype(np.int64),
            "rating": np.full(n, np.nan)
            if ratings is None
            else np.asarray(ratings, dtype=np.float64),
            "timestamp": np.zeros(n, np.int64)
            if timestamps is None
            else np.asarray(timestamps, dtype=np.int64),
        }
    )
    return Interactions(frame=frame)
