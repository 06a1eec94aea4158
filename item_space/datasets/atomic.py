"""RecBole atomic files (.inter, .item, .user) with `name:type` headers.

Format (RecBole docs, "Atomic Files"): tab-separated, first line `field:type` with type in
token | token_seq | float | float_seq; .inter needs user_id and item_id, optionally rating
and timestamp; .item's title/category fields are found by name.
"""

from __future__ import annotations

import csv
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
from recagora.item_space.errors import DatasetError

ATOMIC_TYPES = ("token", "token_seq", "float", "float_seq")
TITLE_FIELDS = ("title", "movie_title", "item_name", "name")
CATEGORY_FIELDS = ("categories", "category", "class", "genre", "genres")
FIX = "RecBole atomic files are tab-separated with a 'field:type' header line"


def read_atomic(path: Path) -> pd.DataFrame:
    """One atomic file as strings, columns renamed from 'name:type' to 'name'."""
    frame = read_frame(
        path, FIX, sep="\t", dtype=str, quoting=csv.QUOTE_NONE, keep_default_na=False
    )
    names = []
    for header in frame.columns:
        name, _, kind = str(header).partition(":")
        if kind not in ATOMIC_TYPES:
            raise DatasetError(
                f"{path}: header {header!r} is not 'name:type' with type in {ATOMIC_TYPES} ({FIX})"
            )
        names.append(name)
    frame.columns = names
    return frame


def find_atomic_files(path: Path) -> dict[str, Path]:
    """{'inter': ..., 'item': ..., 'user': ...} for a folder or a .inter file (only existing ones)."""
    if path.is_file():
        folder, stem = path.parent, path.stem
    else:
        inters = sorted(path.glob("*.inter"))
        if not inters:
            raise DatasetError(f"no .inter file in {path} ({FIX})")
        folder, stem = (
            path,
            (path.name if (path / f"{path.name}.inter").exists() else inters[0].stem),
        )
    files = {kind: folder / f"{stem}.{kind}" for kind in ("inter", "item", "user")}
    return {kind: file for kind, file in files.items() if file.exists()}


def load_atomic(
    path: Path,
    *,
    name: str,
    title_field: str | None = None,
    category_field: str | None = None,
    year_field: str | None = None,
    protocol: str = "loo",
) -> Dataset:
    """Dataset from RecBole atomic files.

    Args:
        title_field / category_field: .item columns to use (None = found by common names).
        year_field: .item column appended to titles as ' (YEAR)' (ML-100K: release_year).
        protocol: the default split protocol recorded in meta.
    """
    files = find_atomic_files(path)
    inter = read_atomic(files["inter"])
    require_columns(inter, ["user_id", "item_id"], files["inter"], FIX)
    if "item" in files:
        catalog = _catalog_from_items(
            name, read_atomic(files["item"]), files["item"], title_field, category_field, year_field
        )
    else:
        keys = pd.unique(inter["item_id"])
        catalog = make_catalog(name, keys, [f"item {key}" for key in keys])
    interactions = make_interactions(
        catalog,
        inter["user_id"],
        inter["item_id"],
        ratings=_floats(inter, "rating", files["inter"]),
        timestamps=_timestamps(inter, files["inter"]),
        source=files["inter"],
    )
    users = read_atomic(files["user"]).set_index("user_id") if "user" in files else None
    meta = {
        "format": "atomic",
        "source": str(path),
        "protocol": protocol,
        "category_kind": "labels",
    }
    return Dataset(name=name, catalog=catalog, interactions=interactions, meta=meta, users=users)


def _pick(
    frame: pd.DataFrame, wanted: str | None, candidates: Sequence[str], path: Path
) -> str | None:
    if wanted is not None:
        require_columns(frame, [wanted], path, "pick an existing field")
        return wanted
    return next((field for field in candidates if field in frame.columns), None)


def _catalog_from_items(
    name, items: pd.DataFrame, path: Path, title_field, category_field, year_field
):
    require_columns(items, ["item_id"], path, FIX)
    title_field = _pick(items, title_field, TITLE_FIELDS, path)
    category_field = _pick(items, category_field, CATEGORY_FIELDS, path)
    keys = items["item_id"].tolist()
    titles = items[title_field].tolist() if title_field else [f"item {key}" for key in keys]
    if year_field:
        require_columns(items, [year_field], path, "pick an existing field")
        titles = [
            f"{title} ({year})" if year else title
            for title, year in zip(titles, items[year_field], strict=True)
        ]
    categories = [tuple(text.split()) for text in items[category_field]] if category_field else None
    used = {"item_id", title_field, category_field}
    extra = [column for column in items.columns if column not in used]
    attributes = items[extra].to_dict("records") if extra else None
    return make_catalog(name, keys, titles, categories, attributes)


def _floats(frame: pd.DataFrame, column: str, path: Path) -> np.ndarray | None:
    if column not in frame.columns:
        return None
    values = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
    if values.isna().sum() > frame[column].eq("").sum():
        raise DatasetError(f"{path}: column {column!r} has non-numeric values ({FIX})")
    return values.to_numpy(np.float64)


def _timestamps(frame: pd.DataFrame, path: Path) -> np.ndarray | None:
    values = _floats(frame, "timestamp", path)
    return None if values is None else np.nan_to_num(values, nan=0.0).astype(np.int64)
