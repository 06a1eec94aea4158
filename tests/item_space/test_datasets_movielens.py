"""ML-100K from the recbole wheel and from GroupLens-format files (written from it)."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.datasets.movielens import GENRES, recbole_ml100k_dir
from recagora.item_space.errors import DatasetError


@pytest.fixture(scope="module")
def ml100k():
    return load_dataset("ml-100k", cache=False)


def test_ml100k_has_the_published_counts(ml100k):
    assert len(ml100k.catalog) == 1682
    assert ml100k.interactions.n_users == 943
    assert len(ml100k.interactions) == 100_000
    assert set(np.unique(ml100k.interactions.frame["rating"])) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert len(ml100k.users) == 943 and list(ml100k.users.columns[:3]) == [
        "age",
        "gender",
        "occupation",
    ]


def test_ml100k_items_carry_title_year_and_genres(ml100k):
    toy_story = ml100k.catalog[ml100k.catalog.id_of_key("1")]
    assert toy_story.title == "Toy Story (1995)"
    assert toy_story.categories == ("Animation", "Children's", "Comedy")
    assert toy_story.attributes["release_year"] == "1995"
    assert len(set(ml100k.catalog.titles)) == 1682  # duplicates made unique
    assert ml100k.catalog.id_of_title("Chasing Amy (1997) [268]") == ml100k.catalog.id_of_key("268")


def test_ml100k_timestamps_are_seconds(ml100k):
    stamps = ml100k.interactions.frame["timestamp"]
    # ML-100K was collected from September 1997 to April 1998.
    assert stamps.min() >= 874_724_710 and stamps.max() <= 893_286_638


def _write_grouplens(ml100k, folder):
    """GroupLens u.data / u.item / u.genre made from the wheel's copy (test-only, tmp_path)."""
    frame = ml100k.interactions.frame
    keys = np.array([item.key for item in ml100k.catalog.items])
    with (folder / "u.data").open("w") as out:
        for user, item, rating, stamp in zip(
            frame["user"], frame["item"], frame["rating"], frame["timestamp"], strict=True
        ):
            out.write(f"{user}\t{keys[item]}\t{int(rating)}\t{stamp}\n")
    with (folder / "u.item").open("w", encoding="latin-1") as out:
        for item in ml100k.catalog.items[:1682]:
            flags = "|".join("1" if genre in item.categories else "0" for genre in GENRES)
            out.write(
                f"{item.key}|{item.title}|01-Jan-{item.attributes['release_year'] or 1995}||http://x|{flags}\n"
            )
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)))


def test_grouplens_folder_is_detected_and_matches_the_wheel(ml100k, tmp_path):
    _write_grouplens(ml100k, tmp_path)
    grouplens = load_dataset(tmp_path, cache=False)
    assert grouplens.meta["format"] == "movielens"
    assert len(grouplens.catalog) == 1682 and len(grouplens.interactions) == 100_000
    assert grouplens.catalog.titles[:5] == ml100k.catalog.titles[:5]
    assert grouplens.catalog[0].categories == ml100k.catalog[0].categories
    assert np.array_equal(grouplens.interactions.frame["item"], ml100k.interactions.frame["item"])


def test_grouplens_folder_without_u_item_names_the_file(tmp_path):
    (tmp_path / "u.data").write_text("1\t1\t5\t881250949\n")
    with pytest.raises(DatasetError, match=r"u\.item"):
        load_dataset(tmp_path, cache=False)


def test_recbole_files_are_found_without_importing_recbole():
    import sys

    assert (recbole_ml100k_dir() / "ml-100k.inter").is_file()
    assert "recbole" not in sys.modules
