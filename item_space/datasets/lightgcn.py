"""LightGCN-style text splits: train.txt / valid.txt / test.txt, one line per user.

Format (He et al., "LightGCN", SIGIR 2020, its data folders; also used by Agent4Rec,
Zhang et al., SIGIR 2024): each line is `user item item ...`, whitespace-separated; the
items of a line are that user's interactions in that part, in the order listed (no
ratings, no timestamps). valid.txt is optional. Beside them, optionally:
- `item_list.txt` / `user_list.txt` (LightGCN's `org_id remap_id` tables): the ids in the
  splits are remapped ids; the original ids (e.g. MovieLens MovieIDs) are looked up here.
- MovieLens-1M's `movies.dat` (`MovieID::Title::Genres`, genres `|`-separated) for titles
  and genres, and `users.dat` (`UserID::Gender::Age::Occupation::Zip-code`) for
  demographics, both keyed by ORIGINAL id (the split ids when there is no id table).

The split the files define is kept (`protocol="given"`): a train sample per training item
(history: the items listed before it), and a valid/test sample per listed item whose
history is the user's whole training line. Interactions list train, then valid, then test
events (timestamp 0: unknown), so a leave-one-out split holds out each user's last item.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recagora.item_space.datasets.build import make_catalog, make_interactions, read_frame
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.grouplens import in_id_order, read_movies_dat, read_users_dat
from recagora.item_space.datasets.paths import require_dir, require_file
from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Interactions, Sample, Split

FIX = "LightGCN splits are text files with one line per user: 'user item item ...'"
PARTS = ("train", "valid", "test")


def load_lightgcn(path: Path, *, name: str) -> Dataset:
    """Dataset from a folder holding train.txt and test.txt (valid.txt optional)."""
    require_dir(path, "LightGCN folder", FIX)
    lines = {part: _read_lines(path / f"{part}.txt", part) for part in PARTS}
    item_ids = _id_table(path / "item_list.txt")
    user_ids = _id_table(path / "user_list.txt")
    events = _events(lines, item_ids, user_ids)
    catalog = _catalog(name, path / "movies.dat", events["item"].unique())
    interactions = make_interactions(catalog, events["user"], events["item"], source=path)
    split = _given_split(interactions, events["part"].to_numpy())
    meta = {
        "format": "lightgcn",
        "source": str(path),
        "protocol": "given",
        "category_kind": "labels",
    }
    return Dataset(
        name=name,
        catalog=catalog,
        interactions=interactions,
        given_split=split,
        meta=meta,
        users=read_users_dat(path / "users.dat"),
    )


def _read_lines(file: Path, part: str) -> list[list[str]] | None:
    """Token lists of a split file; None for a missing valid.txt."""
    if part == "valid" and not file.exists():
        return None
    require_file(file, f"{part} split {file.name}", FIX)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DatasetError(f"{file} is not UTF-8 text ({FIX})") from error
    rows = [line.split() for line in text.splitlines() if line.strip()]
    if not rows:
        raise DatasetError(f"file has no rows: {file} ({FIX})")
    return rows


def _id_table(file: Path) -> dict[str, str] | None:
    """LightGCN's `org_id remap_id` table as {remap_id: org_id}, or None when absent."""
    if not file.exists():
        return None
    table = read_frame(file, "an id table is 'org_id remap_id' per line", sep=r"\s+", dtype=str)
    if table.shape[1] < 2:
        raise DatasetError(f"{file}: expected two columns 'org_id remap_id'")
    return dict(zip(table.iloc[:, 1], table.iloc[:, 0], strict=True))


def _events(lines: dict, item_ids: dict | None, user_ids: dict | None) -> pd.DataFrame:
    """(user, item, part) rows: every part's lines in file order, ids mapped to originals."""
    users, items, parts = [], [], []
    for number, part in enumerate(PARTS):
        for row in lines[part] or []:
            users += [row[0]] * (len(row) - 1)
            items += row[1:]
            parts += [number] * (len(row) - 1)
    if not items:
        raise DatasetError(f"the split files list no interactions ({FIX})")
    frame = pd.DataFrame({"user": users, "item": items, "part": parts})
    return _mapped(
        _mapped(frame, "item", item_ids, "item_list.txt"), "user", user_ids, "user_list.txt"
    )


def _mapped(frame: pd.DataFrame, column: str, table: dict | None, source: str) -> pd.DataFrame:
    if table is None:
        return frame
    mapped = frame[column].map(table)
    if mapped.isna().any():
        missing = frame.loc[mapped.isna(), column].iloc[0]
        raise DatasetError(f"{column} id {missing!r} of the splits is not in {source}")
    return frame.assign(**{column: mapped})


def _catalog(name: str, movies: Path, keys: np.ndarray):
    """Items in ascending id order (numeric when every id is a number); titles and genres
    from movies.dat when it is there."""
    keys = in_id_order(keys)
    if not movies.exists():
        return make_catalog(name, keys, [f"item {key}" for key in keys])
    table = read_movies_dat(movies).set_index("item")
    unknown = [key for key in keys if key not in table.index]
    if unknown:
        raise DatasetError(
            f"{movies}: {len(unknown)} item ids of the splits are not MovieIDs here, e.g. "
            f"{unknown[0]!r} (add item_list.txt mapping remapped ids to MovieIDs, or leave movies.dat out)"
        )
    rows = table.loc[keys]
    categories = [tuple(g for g in genres.split("|") if g) for genres in rows["genres"]]
    return make_catalog(name, keys, rows["title"].tolist(), categories)


def _given_split(interactions: Interactions, part: np.ndarray) -> Split:
    """Samples of the given parts (history = the user's training items, in listed order)."""
    frame = interactions.frame.assign(part=part)
    train_frame = frame[frame["part"] == 0]
    train_lines = {u: g.tolist() for u, g in train_frame.groupby("user", sort=False)["item"]}
    train = [
        Sample(user=user, history=tuple(items[:i]), target=items[i])
        for user, items in train_lines.items()
        for i in range(1, len(items))
    ]
    held = {}
    for number, name in ((1, "valid"), (2, "test")):
        rows = frame[frame["part"] == number]
        held[name] = [
            Sample(user=user, history=tuple(train_lines.get(user, ())), target=int(item))
            for user, item in zip(rows["user"], rows["item"], strict=True)
        ]
    train_events = Interactions(frame=train_frame.drop(columns="part").reset_index(drop=True))
    return Split(train, held["valid"], held["test"], train_events, protocol="given")
