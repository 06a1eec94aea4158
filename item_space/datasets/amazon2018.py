"""Amazon Reviews 2018 in the Flower/D3 processed format (items.tsv + train/valid/test CSV).

Ni, Li & McAuley, "Justifying Recommendations using Distantly-Labeled Reviews", EMNLP 2019
(the data); Flower (SIGIR 2025) / D3 (Bao et al. 2024) preprocessing: 5-core, sliding
windows of at most 10 history items, global time split 80/10/10. The given split is kept
exactly as the files define it; user timelines are rebuilt from the files (see
`_rebuild_timelines`) so that LOO / global-time splits and popularity work too.
"""

from __future__ import annotations

import ast
import csv
import json
from collections import defaultdict, deque
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
from recagora.item_space.datasets.paths import require_dir, require_file, shared_data_dir
from recagora.item_space.datasets.registry import DatasetSource
from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Interactions, Sample, Split

FIX = (
    "expected Flower's Amazon-2018 format: items.tsv (title<TAB>id) and train/valid/test.csv"
)
EVAL_COLUMNS = [
    "user_id",
    "history_item_id",
    "item_id",
    "history_item_title",
    "history_rating",
    "rating",
]
EVAL_COLUMNS += ["history_timestamp", "timestamp"]
WINDOW = 10  # Flower's sliding-window history length


def _source(name: str, folder: str, description: str) -> DatasetSource:
    return DatasetSource(
        name=name,
        format="amazon2018",
        path=shared_data_dir() / folder,
        description=description,
        how_to_get="set RECAGORA_SHARED_DATA to the folder holding the shared datasets",
    )


def video_games_source() -> DatasetSource:
    """Registry entry: Flower's Amazon-2018 Video_Games (3,858 items)."""
    return _source(
        "video-games",
        "amazon2018-Video_Games",
        "Amazon 2018 Video_Games, Flower split (3,858 items)",
    )


def cds_vinyl_source() -> DatasetSource:
    """Registry entry: Flower's Amazon-2018 CDs_and_Vinyl (5,841 items)."""
    return _source(
        "cds-vinyl",
        "amazon2018-CDs_and_Vinyl",
        "Amazon 2018 CDs_and_Vinyl, Flower split (5,841 items)",
    )


def load_amazon2018(path: Path, *, name: str) -> Dataset:
    """Dataset with the files' own split as `given_split` and rebuilt user timelines.

    train.csv names no users; its samples get the rebuilt user ('anon-<n>' for users who
    never reach valid/test). Titles in items.tsv repeat for some items; the catalog
    makes them unique (' [id]') and keeps the original in attributes['raw_title'].
    """
    require_dir(path, "Amazon-2018 folder", FIX)
    catalog, raw_titles = _read_items(path / "items.tsv", name)
    train = _read_train(path / "train.csv", len(catalog))
    valid = _read_eval(path / "valid.csv", raw_titles)
    test = _read_eval(path / "test.csv", raw_titles)
    events, train_users = _rebuild_timelines(train, pd.concat([valid, test], ignore_index=True))
    interactions = make_interactions(
        catalog,
        events["user"],
        events["item"].astype(str),
        events["rating"],
        events["timestamp"],
        path,
    )
    first_valid_time = int(valid["timestamp"].min())
    # <=: train and valid targets may share the boundary day (timestamps are days)
    is_train_event = ~events["is_eval_target"].to_numpy() & (
        events["timestamp"].to_numpy() <= first_valid_time
    )
    given = Split(
        train=[
            Sample(user=user, history=tuple(history), target=target)
            for user, history, target in zip(
                train_users, train["history"], train["item_id"].tolist(), strict=True
            )
        ],
        valid=_eval_samples(valid),
        test=_eval_samples(test),
        train_interactions=Interactions(
            frame=interactions.frame[is_train_event].reset_index(drop=True)
        ),
        protocol="given",
    )
    duplicates = int(len(raw_titles) - len(set(raw_titles)))
    meta = {
        "format": "amazon2018",
        "source": str(path),
        "protocol": "given",
        "duplicate_titles": duplicates,
    }
    return Dataset(
        name=name, catalog=catalog, interactions=interactions, given_split=given, meta=meta
    )


def _read_items(path: Path, name: str):
    """Catalog from items.tsv; ids must be 0..N-1. Returns (catalog, raw titles by id)."""
    require_file(path, "item file items.tsv", FIX)
    items = read_frame(
        path,
        FIX,
        sep="\t",
        header=None,
        names=["title", "id"],
        dtype=str,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
    )
    ids = pd.to_numeric(items["id"], errors="coerce")
    if ids.isna().any() or not np.array_equal(np.sort(ids.to_numpy()), np.arange(len(items))):
        raise DatasetError(f"{path}: second column must hold the item ids 0..N-1 ({FIX})")
    items = items.assign(id=ids.astype(int)).sort_values("id")
    raw_titles = items["title"].tolist()
    attributes = [{"raw_title": title} for title in raw_titles]  # before duplicates get ' [id]'
    return make_catalog(
        name, items["id"].astype(str), raw_titles, attributes=attributes
    ), raw_titles


def _parse_lists(frame: pd.DataFrame, column: str, path: Path, parser=json.loads) -> pd.Series:
    """Parse a list column (JSON or Python literal); a bad cell is a one-line error."""
    try:
        return frame[column].map(parser)
    except (ValueError, SyntaxError, TypeError) as error:
        raise DatasetError(
            f"{path}: column {column!r} holds a value that is not a list ({error}; {FIX})"
        ) from error


def _read_train(path: Path, n_items: int) -> pd.DataFrame:
    frame = read_frame(require_file(path, "train.csv", FIX), FIX)
    require_columns(frame, ["history_item_id", "item_id"], path, FIX)
    frame["history"] = _parse_lists(frame, "history_item_id", path)
    ids = np.concatenate(
        [
            frame["item_id"].to_numpy(np.int64),
            np.concatenate(frame["history"].to_numpy()).astype(np.int64),
        ]
    )
    if ids.min() < 0 or ids.max() >= n_items:
        raise DatasetError(f"{path}: item ids outside 0..{n_items - 1} of items.tsv ({FIX})")
    return frame


def _read_eval(path: Path, raw_titles: list[str]) -> pd.DataFrame:
    frame = read_frame(require_file(path, path.name, FIX), FIX)
    require_columns(frame, EVAL_COLUMNS, path, FIX)
    frame["user_id"] = frame["user_id"].astype(str)
    for column in ("history_item_id", "history_rating", "history_timestamp"):
        frame[column] = _parse_lists(frame, column, path)
    titles = _parse_lists(frame, "history_item_title", path, ast.literal_eval)
    for row, (history, names) in enumerate(zip(frame["history_item_id"], titles, strict=True)):
        if [raw_titles[i] for i in history] != list(names):
            raise DatasetError(
                f"{path}: row {row + 2} history titles disagree with items.tsv ({FIX})"
            )
    return frame


def _eval_samples(frame: pd.DataFrame) -> list[Sample]:
    return [
        Sample(user=user, history=tuple(history), target=int(target), timestamp=int(stamp))
        for user, history, target, stamp in zip(
            frame["user_id"],
            frame["history_item_id"],
            frame["item_id"],
            frame["timestamp"],
            strict=True,
        )
    ]


def _chain_train_rows(train: pd.DataFrame) -> tuple[list[list[int]], dict[tuple, deque], list[int]]:
    """Group train rows into per-user item sequences.

    Rows are sliding windows: a user's sample i has history s_{max(0,i-10)}..s_{i-1} and
    target s_i, so the next sample's history is (history + [target])[-10:]. A history of
    length 1 starts a new sequence. Users are not named in train.csv; two users with the
    same window are told apart first-in-first-out (the rows are in time order).
    Returns the sequences, the still-open windows -> sequence indices, and each row's sequence.
    """
    sequences: list[list[int]] = []
    row_chains: list[int] = []
    open_windows: dict[tuple, deque] = defaultdict(deque)
    for history, target in zip(train["history"], train["item_id"].tolist(), strict=True):
        waiting = open_windows.get(tuple(history))
        if len(history) > 1 and waiting:
            chain = waiting.popleft()
        else:
            chain = len(sequences)
            sequences.append(list(history))
        sequences[chain].append(target)
        row_chains.append(chain)
        open_windows[tuple(sequences[chain][-WINDOW:])].append(chain)
    return sequences, open_windows, row_chains


def _rebuild_timelines(
    train: pd.DataFrame, evaluation: pd.DataFrame
) -> tuple[pd.DataFrame, list[str]]:
    """(events, train_users): all recoverable events (columns user, item, rating,
    timestamp, is_eval_target) and the user of each train.csv row.

    Train chains are matched to the valid/test user whose first row's history equals the
    chain's last window; unmatched chains become users 'anon-<n>'. Timestamps and ratings
    are known for items inside some valid/test window, else 0 and NaN (all such events
    precede the valid period, so chronology holds).
    """
    sequences, open_windows, row_chains = _chain_train_rows(train)
    evaluation = evaluation.sort_values("timestamp", kind="stable")
    first_rows = evaluation.drop_duplicates("user_id")
    owner = {chain: f"anon-{chain}" for chain in range(len(sequences))}
    history_of = {}
    for user, history in zip(first_rows["user_id"], first_rows["history_item_id"], strict=True):
        waiting = open_windows.get(tuple(history))
        if waiting:
            owner[waiting.popleft()] = user
            history_of[user] = []  # the chain already holds these items
        else:
            history_of[user] = history
    train_users = [owner[chain] for chain in row_chains]
    return _events_frame(sequences, owner, history_of, first_rows, evaluation), train_users


def _events_frame(sequences, owner, history_of, first_rows, evaluation) -> pd.DataFrame:
    known = {}  # (user, position from the end of the pre-eval timeline) -> (timestamp, rating)
    for row in first_rows.itertuples(index=False):
        for back, (stamp, rating) in enumerate(
            zip(row.history_timestamp[::-1], row.history_rating[::-1], strict=True)
        ):
            known[(row.user_id, back)] = (stamp, rating)
    records = []
    timelines = {owner[chain]: items for chain, items in enumerate(sequences)}
    for user, history in history_of.items():
        timelines[user] = timelines.get(user, []) + list(history)
    for user, items in timelines.items():
        for position, item in enumerate(items):
            stamp, rating = known.get((user, len(items) - 1 - position), (0, np.nan))
            records.append((user, item, rating, stamp, False))
    for row in evaluation.itertuples(index=False):
        records.append((row.user_id, row.item_id, row.rating, row.timestamp, True))
    return pd.DataFrame(records, columns=["user", "item", "rating", "timestamp", "is_eval_target"])
