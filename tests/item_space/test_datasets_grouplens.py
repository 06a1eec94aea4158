"""GroupLens ML-1M/10M (.dat) and ML-20M-and-later (.csv) folders, written in tmp from real
ML-100K ratings in each layout and read back."""

import csv

import numpy as np
import pytest

from recagora.item_space.datasets import detect_format, load_dataset
from recagora.item_space.errors import DatasetError
from recagora.item_space.fidelity.ratings import rating_levels

N_USERS = 80


@pytest.fixture(scope="module")
def ml100k():
    return load_dataset("ml-100k")


@pytest.fixture(scope="module")
def events(ml100k):
    """The first N_USERS users' ratings as (user, MovieID, rating, timestamp) rows."""
    frame = ml100k.interactions.frame
    frame = frame[frame["user"].astype(int) <= N_USERS]
    keys = [ml100k.catalog[i].key for i in frame["item"]]
    return list(
        zip(frame["user"], keys, frame["rating"], frame["timestamp"].astype(int), strict=True)
    )


def _write_dat(folder, ml100k, events, *, users: bool = True):
    folder.mkdir()
    (folder / "ratings.dat").write_text(
        "".join(f"{u}::{i}::{int(r)}::{t}\n" for u, i, r, t in events)
    )
    movies = [
        f"{item.key}::{item.title}::{'|'.join(item.categories)}" for item in ml100k.catalog.items
    ]
    (folder / "movies.dat").write_text("\n".join(movies) + "\n", encoding="latin-1")
    if users:
        rows = [
            f"{user}::{row.gender}::{row.age}::{row.occupation}::{row.zip_code}"
            for user, row in ml100k.users.iterrows()
        ]
        (folder / "users.dat").write_text("\n".join(rows) + "\n")


def _write_csv(folder, ml100k, events, *, half_stars: bool = False):
    folder.mkdir()
    with open(folder / "ratings.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["userId", "movieId", "rating", "timestamp"])
        for u, i, r, t in events:
            writer.writerow([u, i, r - 0.5 if half_stars and t % 2 else r, t])
    with open(folder / "movies.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)  # quotes titles holding commas, as GroupLens does
        writer.writerow(["movieId", "title", "genres"])
        for item in ml100k.catalog.items:
            writer.writerow(
                [item.key, item.title, "|".join(item.categories) or "(no genres listed)"]
            )


def _same_events(dataset, ml100k, events):
    frame = dataset.interactions.frame
    got = sorted(
        zip(
            frame["user"],
            (dataset.catalog[i].key for i in frame["item"]),
            frame["rating"],
            frame["timestamp"].astype(int),
            strict=True,
        )
    )
    assert got == sorted((u, i, float(r), t) for u, i, r, t in events)


def test_a_dat_folder_reads_every_rating_title_genre_and_demographic(tmp_path, ml100k, events):
    _write_dat(tmp_path / "ml-1m", ml100k, events)
    assert detect_format(tmp_path / "ml-1m") == "grouplens"
    dataset = load_dataset(str(tmp_path / "ml-1m"))
    _same_events(dataset, ml100k, events)
    rated = {key for _, key, _, _ in events}
    assert {item.key for item in dataset.catalog.items} == rated  # unrated movies left out
    original = {item.key: item for item in ml100k.catalog.items}
    for item in dataset.catalog.items:
        assert item.title == original[item.key].title
        assert set(item.categories) == set(original[item.key].categories)
    assert dataset.users.loc["1", "occupation"] == ml100k.users.loc["1", "occupation"]
    assert dataset.split("auto").protocol == "loo"


def test_a_dat_folder_without_users_dat_has_no_demographics(tmp_path, ml100k, events):
    _write_dat(tmp_path / "ml-10m", ml100k, events, users=False)
    assert load_dataset(str(tmp_path / "ml-10m")).users is None


def test_a_csv_folder_reads_quoted_titles_and_half_stars(tmp_path, ml100k, events):
    _write_csv(tmp_path / "ml-25m", ml100k, events, half_stars=True)
    assert detect_format(tmp_path / "ml-25m") == "grouplens"
    dataset = load_dataset(str(tmp_path / "ml-25m"))
    assert len(dataset.interactions) == len(events)
    titles = {item.key: item.title for item in dataset.catalog.items}
    comma = next(item for item in ml100k.catalog.items if "," in item.title and item.key in titles)
    assert titles[comma.key] == comma.title
    levels = rating_levels(dataset)
    assert levels is not None and levels[0] >= 0.5 and np.any(levels % 1 == 0.5)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1::50::five::881250949", "not a number"),  # a rating that is not a number
        ("1::999999::4::881250949", "999999"),  # a rated movie missing from movies.dat is named
    ],
)
def test_a_bad_ratings_line_is_one_line(tmp_path, ml100k, events, line, message):
    _write_dat(tmp_path / "bad", ml100k, events[:20])
    with open(tmp_path / "bad" / "ratings.dat", "a") as handle:
        handle.write(line + "\n")
    with pytest.raises(DatasetError, match=message):
        load_dataset(str(tmp_path / "bad"), cache=False)


def test_empty_genres_and_a_title_pandas_would_read_as_missing(tmp_path, ml100k, events):
    _write_dat(tmp_path / "bare", ml100k, events[:20], users=False)
    rated = sorted({key for _, key, _, _ in events[:20]}, key=int)
    rows = [f"{key}::{'NA' if n == 0 else 'Movie ' + key}::" for n, key in enumerate(rated)]
    (tmp_path / "bare" / "movies.dat").write_text("\n".join(rows) + "\n")
    catalog = load_dataset(str(tmp_path / "bare"), cache=False).catalog
    assert catalog.items[0].title == "NA"
    assert all(item.categories == () for item in catalog.items)
