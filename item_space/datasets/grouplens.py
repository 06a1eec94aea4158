"""MovieLens folders as GroupLens ships them after ML-100K: 1M / 10M and 20M / 25M / 32M / latest.

Harper & Konstan, "The MovieLens Datasets: History and Context", TiiS 2015. Two layouts:
- `.dat` (ML-1M, ML-10M): `ratings.dat` is `UserID::MovieID::Rating::Timestamp`,
  `movies.dat` is `MovieID::Title::Genres` (genres `|`-separated), `users.dat` (ML-1M only)
  is `UserID::Gender::Age::Occupation::Zip-code`; ML-1M's text is latin-1.
- `.csv` (ML-20M and later): `ratings.csv` with the header `userId,movieId,rating,timestamp`
  and `movies.csv` with `movieId,title,genres` (quoted titles, UTF-8); no demographics.

ML-10M and later rate in half stars (0.5 .. 5.0): the fidelity suite reads the levels
from the data. ML-100K's own layout (u.data, u.item) stays in `movielens.py`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recagora.item_space.datasets.build import make_catalog, make_interactions, read_frame
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.paths import require_dir, require_file
from recagora.item_space.errors import DatasetError

FIX = "expected a GroupLens MovieLens folder: ratings.dat + movies.dat (1M/10M) or ratings.csv + movies.csv (20M and later)"
MOVIES_DAT = "movies.dat is 'MovieID::Title::Genres'"
USERS_DAT = "users.dat is 'UserID::Gender::Age::Occupation::Zip-code'"
RATINGS_DAT = "ratings.dat is 'UserID::MovieID::Rating::Timestamp'"
NO_GENRES = "(no genres listed)"  # the .csv layout's placeholder for an untagged movie


def is_grouplens_folder(names: set[str]) -> bool:
    """Whether a folder's file names are one of the two layouts."""
    return "ratings.dat" in names or {"ratings.csv", "movies.csv"} <= names


def load_movielens_folder(path: Path, *, name: str, protocol: str = "loo") -> Dataset:
    """Dataset from a GroupLens ML-1M/10M (`.dat`) or ML-20M-and-later (`.csv`) folder."""
    require_dir(path, "MovieLens folder", FIX)
    if (path / "ratings.dat").exists():
        ratings = _read_ratings_dat(path / "ratings.dat")
        movies = read_movies_dat(require_file(path / "movies.dat", "movie file movies.dat", FIX))
        users = read_users_dat(path / "users.dat")
    else:
        ratings = _read_ratings_csv(require_file(path / "ratings.csv", "ratings.csv", FIX))
        movies = _read_movies_csv(require_file(path / "movies.csv", "movies.csv", FIX))
        users = None
    catalog = _catalog(name, movies, ratings["item"].unique(), path)
    interactions = make_interactions(
        catalog,
        ratings["user"],
        ratings["item"],
        ratings["rating"],
        ratings["timestamp"],
        source=path,
    )
    meta = {
        "format": "grouplens",
        "source": str(path),
        "protocol": protocol,
        "category_kind": "labels",
    }
    return Dataset(name=name, catalog=catalog, interactions=interactions, meta=meta, users=users)


def in_id_order(keys) -> list[str]:
    """Ids ascending, numerically where an id is a number (MovieIDs), the rest after them."""
    return sorted(keys, key=lambda key: (0, int(key), key) if key.isdigit() else (1, 0, key))


def read_dat(file: Path, columns: list[str], fix: str) -> pd.DataFrame:
    """A small `::`-separated GroupLens file (movies.dat, users.dat), read as latin-1 text.

    ML-1M is latin-1; ML-10M's UTF-8 titles read as latin-1 keep every byte (no error),
    so one encoding serves both.
    """
    # keep_default_na=False: an empty genres field is "", and a movie titled "NA" or "None"
    # keeps its title (pandas would read both as NaN).
    table = read_frame(
        file,
        fix,
        sep="::",
        engine="python",
        header=None,
        dtype=str,
        encoding="latin-1",
        keep_default_na=False,
    )
    if table.shape[1] != len(columns):
        raise DatasetError(f"{file}: expected {len(columns)} '::'-separated fields ({fix})")
    table.columns = columns
    return table


def read_movies_dat(file: Path) -> pd.DataFrame:
    """movies.dat as (item, title, genres), one row per MovieID."""
    return read_dat(file, ["item", "title", "genres"], MOVIES_DAT).drop_duplicates("item")


def read_users_dat(file: Path) -> pd.DataFrame | None:
    """users.dat as demographics indexed by user id, or None when the folder has none."""
    if not file.exists():
        return None
    columns = ["user_id", "gender", "age", "occupation", "zip_code"]
    return read_dat(file, columns, USERS_DAT).set_index("user_id")


def _read_ratings_dat(file: Path) -> pd.DataFrame:
    # Split on ":" with pandas' C parser: "a::b::c::d" gives a, "", b, "", c, "", d, so the
    # data sit in columns 0, 2, 4, 6. The "::" separator would force the Python parser,
    # about 20x slower on ML-10M's 10M lines.
    table = read_frame(file, RATINGS_DAT, sep=":", header=None, dtype=str)
    if table.shape[1] != 7:
        raise DatasetError(f"{file}: expected 4 '::'-separated fields ({RATINGS_DAT})")
    table = table[[0, 2, 4, 6]]
    table.columns = ["user", "item", "rating", "timestamp"]
    return _typed(table, file, RATINGS_DAT)


def _read_ratings_csv(file: Path) -> pd.DataFrame:
    fix = "ratings.csv needs the header userId,movieId,rating,timestamp"
    table = read_frame(file, fix, dtype=str)
    missing = {"userId", "movieId", "rating", "timestamp"} - set(table.columns)
    if missing:
        raise DatasetError(f"{file}: missing column(s) {', '.join(sorted(missing))} ({fix})")
    table = table.rename(columns={"userId": "user", "movieId": "item"})
    return _typed(table[["user", "item", "rating", "timestamp"]], file, fix)


def _typed(table: pd.DataFrame, file: Path, fix: str) -> pd.DataFrame:
    """Ratings as float and timestamps as int64; a non-number is a one-line error."""
    try:
        rating = table["rating"].astype(np.float64)
        timestamp = table["timestamp"].astype(np.int64)
    except (TypeError, ValueError) as error:
        raise DatasetError(f"{file}: a rating or timestamp is not a number ({fix})") from error
    return table.assign(rating=rating, timestamp=timestamp)


def _read_movies_csv(file: Path) -> pd.DataFrame:
    fix = "movies.csv needs the header movieId,title,genres"
    table = read_frame(file, fix, dtype=str, keep_default_na=False)
    missing = {"movieId", "title", "genres"} - set(table.columns)
    if missing:
        raise DatasetError(f"{file}: missing column(s) {', '.join(sorted(missing))} ({fix})")
    table = table.rename(columns={"movieId": "item"})[["item", "title", "genres"]]
    return table.drop_duplicates("item")


def _catalog(name: str, movies: pd.DataFrame, rated: np.ndarray, path: Path):
    """The rated movies, in ascending MovieID order, titles and genres from the movie file.

    Movies nobody rated are left out, as RecBole and the published splits do: a never-seen
    movie would otherwise be a free "no" in the fidelity suite's uniform negatives.
    """
    table = movies.set_index("item")
    unknown = [key for key in rated if key not in table.index]
    if unknown:
        raise DatasetError(
            f"{path}: {len(unknown)} rated movie ids are not in the movie file, e.g. {unknown[0]!r}"
        )
    keys = in_id_order(rated)
    rows = table.loc[keys]
    categories = [
        tuple(g for g in str(genres).split("|") if g and g != NO_GENRES)
        for genres in rows["genres"]
    ]
    return make_catalog(name, keys, rows["title"].tolist(), categories)
