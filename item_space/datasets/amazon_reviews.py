"""Amazon review dumps as McAuley's lab ships them, any category, plain or gzipped.

- Amazon Reviews 2018 (Ni, Li & McAuley, EMNLP 2019): `<Category>_5.json` (the 5-core
  reviews, one JSON object per line: reviewerID, asin, overall, unixReviewTime) and
  `meta_<Category>.json` (asin, title, category, description).
- Amazon Reviews 2023 (Hou et al., 2024): `<Category>.jsonl` (user_id, parent_asin, rating,
  timestamp in milliseconds) and `meta_<Category>.jsonl` (parent_asin, title, categories,
  main_category, description).

Point `--dataset` at the folder holding one review file (and optionally its meta file), or
at the review file itself. The items are the reviewed products, keyed by parent_asin when
the dump has it (2023: variants share one page), else asin; titles and categories come
from the meta file (a product missing from it is titled by its id). A user reviewing the
same product twice keeps the earliest review. `k_core` (default 0: as shipped) drops users
and items with fewer events, repeatedly, for the raw 2023 dumps that are not k-core yet.
Timestamps are seconds.
"""

from __future__ import annotations

import ast
import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from recagora.item_space.datasets.build import make_catalog, make_interactions
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.paths import require_file
from recagora.item_space.errors import DatasetError

FIX = (
    "expected an Amazon reviews dump: <Category>_5.json[.gz] (2018) or <Category>.jsonl[.gz] "
    "(2023), optionally beside meta_<Category>.json[l][.gz]"
)
SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
USER_FIELDS = ("reviewerID", "user_id")
ITEM_FIELDS = ("parent_asin", "asin")
RATING_FIELDS = ("overall", "rating")
TIME_FIELDS = ("unixReviewTime", "timestamp")
MILLISECONDS = 10**11  # a timestamp above this is in ms (10**11 s is the year 5138)


def is_dump_name(name: str) -> bool:
    """Whether a file name looks like a review or meta dump (by its suffix)."""
    return name.endswith(SUFFIXES)


def is_review_file(path: Path) -> bool:
    """A gzipped JSON-lines dump, or a plain one named like a dump or beside a meta_ dump."""
    if not is_dump_name(path.name) or path.name.startswith("meta_"):
        return False
    if path.name.endswith(".gz"):
        return True
    return looks_like_amazon_folder({path.name, *(c.name for c in path.parent.iterdir())})


def looks_like_amazon_folder(names: set[str]) -> bool:
    """A folder with a meta_ dump, or with a 2018 `_5` review dump."""
    return any(
        is_dump_name(name) and (name.startswith("meta_") or "_5.json" in name) for name in names
    )


def load_amazon_reviews(path: Path, *, name: str, k_core: int = 0) -> Dataset:
    """Dataset from an Amazon 2018/2023 review dump (folder or review file)."""
    reviews, meta = _locate(path)
    events = _read_reviews(reviews)
    if k_core > 1:
        events = _k_core(events, k_core, reviews)
    catalog = _catalog(name, events["item"].unique(), meta)
    interactions = make_interactions(
        catalog, events["user"], events["item"], events["rating"], events["timestamp"], reviews
    )
    meta_info = {
        "format": "amazon_reviews",
        "source": str(reviews),
        "protocol": "loo",
        "category_kind": "path",
        "k_core": k_core,
    }
    return Dataset(name=name, catalog=catalog, interactions=interactions, meta=meta_info)


def _locate(path: Path) -> tuple[Path, Path | None]:
    """(review file, meta file or None) for a folder or a review file."""
    if path.is_file():
        folder, reviews = path.parent, path
    elif path.is_dir():
        folder = path
        candidates = sorted(
            child for child in path.iterdir()
            if is_dump_name(child.name) and not child.name.startswith("meta_")
        )  # fmt: skip
        if len(candidates) != 1:
            found = ", ".join(c.name for c in candidates) or "none"
            raise DatasetError(f"{path}: expected one review file, found {found} ({FIX})")
        reviews = candidates[0]
    else:
        raise DatasetError(f"dataset path does not exist: {path} ({FIX})")
    return reviews, _meta_beside(reviews, folder)


def _meta_beside(reviews: Path, folder: Path) -> Path | None:
    """meta_<Category> of the review file's category, else the folder's only meta dump."""
    metas = sorted(
        c for c in folder.iterdir() if c.name.startswith("meta_") and is_dump_name(c.name)
    )
    category = reviews.name.split(".")[0].removesuffix("_5")
    named = [m for m in metas if m.name.split(".")[0] == f"meta_{category}"]
    if len(named) == 1:
        return named[0]
    return metas[0] if len(metas) == 1 else None


def _lines(file: Path) -> Iterator[dict]:
    """One dict per line; 2014-style Python literals are read too (the old meta dumps)."""
    opener = gzip.open if file.name.endswith(".gz") else open
    try:
        with opener(file, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield _parse(line, file, number)
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {file}: {error} ({FIX})") from error


def _parse(line: str, file: Path, number: int) -> dict:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        try:
            value = ast.literal_eval(line)
        except (ValueError, SyntaxError) as error:
            raise DatasetError(f"{file}:{number} is not a JSON object ({FIX})") from error
        if not isinstance(value, dict):
            raise DatasetError(f"{file}:{number} is not a JSON object ({FIX})") from None
        return value


def _field(record: dict, names: tuple[str, ...]):
    for name in names:
        if record.get(name) not in (None, ""):
            return record[name]
    return None


def _read_reviews(file: Path) -> pd.DataFrame:
    require_file(file, "review file", FIX)
    rows = []
    for number, record in enumerate(_lines(file), 1):
        row = [_field(record, f) for f in (USER_FIELDS, ITEM_FIELDS, RATING_FIELDS, TIME_FIELDS)]
        if row[0] is None or row[1] is None:
            raise DatasetError(f"{file}:{number} has no user or product id ({FIX})")
        rows.append(row)
    if not rows:
        raise DatasetError(f"file has no rows: {file} ({FIX})")
    events = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    events = events.astype({"user": str, "item": str})
    try:
        events["rating"] = events["rating"].astype(np.float64)
        stamps = events["timestamp"].fillna(0).astype(np.int64)
    except (TypeError, ValueError) as error:
        raise DatasetError(f"{file}: a rating or timestamp is not a number ({FIX})") from error
    events["timestamp"] = np.where(stamps > MILLISECONDS, stamps // 1000, stamps)
    events = events.sort_values("timestamp", kind="stable")
    return events.drop_duplicates(["user", "item"]).reset_index(drop=True)


def _k_core(events: pd.DataFrame, k: int, file: Path) -> pd.DataFrame:
    """Drop users and items with fewer than k events until none is left (Ni et al.'s cores)."""
    while True:
        users = events["user"].map(events["user"].value_counts())
        items = events["item"].map(events["item"].value_counts())
        keep = (users >= k) & (items >= k)
        if keep.all():
            break
        events = events[keep]
    if events.empty:
        raise DatasetError(f"{file}: nothing is left of the {k}-core (try a smaller k_core)")
    return events.reset_index(drop=True)


def _catalog(name: str, keys: np.ndarray, meta: Path | None):
    """The reviewed products, in order of first review, with meta titles and categories."""
    info = _read_meta(meta, set(keys)) if meta is not None else {}
    described = [info.get(key, (None, ())) for key in keys]
    titles = [title or f"item {key}" for key, (title, _) in zip(keys, described, strict=True)]
    return make_catalog(name, list(keys), titles, [cats for _, cats in described])


def _read_meta(file: Path, wanted: set[str]) -> dict[str, tuple[str | None, tuple]]:
    """{product id: (title, categories, coarse first)} for the reviewed products."""
    info = {}
    for record in _lines(file):
        key = _field(record, ITEM_FIELDS)
        if key is None or str(key) not in wanted:
            continue
        categories = record.get("categories") or record.get("category") or ()
        if not categories and record.get("main_category"):
            categories = [record["main_category"]]
        title = record.get("title")
        info[str(key)] = (
            str(title).strip() if title else None,
            tuple(str(c) for c in categories if isinstance(c, str) and c.strip()),
        )
    return info
