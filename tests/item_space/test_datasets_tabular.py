"""CSV / JSONL tables with a column mapping, and RecBole atomic files, incl. malformed ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.datasets.movielens import recbole_ml100k_dir
from recagora.item_space.errors import DatasetError

CSV = "uid,movie,stars,when,name,genres\nu1,m1,5,2020-01-02,Alien,Horror|Sci-Fi\nu1,m2,3,2020-01-01,Heat,Crime\nu2,m1,4,2020-01-03,Alien,Horror|Sci-Fi\n"


def test_csv_with_a_column_mapping(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text(CSV)
    ds = load_dataset(
        path,
        user="uid",
        item="movie",
        rating="stars",
        timestamp="when",
        title="name",
        categories="genres",
    )
    assert ds.name == "ratings" and ds.meta["format"] == "tabular"
    assert ds.catalog.titles == ["Alien", "Heat"]
    assert ds.catalog[0].categories == ("Horror", "Sci-Fi")
    assert ds.interactions.histories()["u1"].items == [1, 0]  # Heat came first (Jan 1)
    assert ds.interactions.frame["timestamp"].iloc[0] == 1577923200  # 2020-01-02 UTC in seconds
    assert np.allclose(ds.interactions.frame["rating"], [5, 3, 4])


def test_jsonl_with_common_column_names(tmp_path):
    path = tmp_path / "events.jsonl"
    rows = [
        {"user_id": "a", "item_id": 7, "timestamp": 3, "title": "X"},
        {"user_id": "a", "item_id": 8, "timestamp": 1, "title": "Y"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    ds = load_dataset(path)
    assert [item.key for item in ds.catalog.items] == ["7", "8"]
    assert ds.split("loo").test[0].target == 0  # item 7 is the later one


def test_item_only_table_gives_a_catalog_without_interactions(tmp_path):
    path = tmp_path / "items.csv"
    path.write_text("item_id,title\n1,One\n2,Two\n")
    ds = load_dataset(path)
    assert ds.interactions is None and ds.catalog.titles == ["One", "Two"]
    with pytest.raises(DatasetError, match="no interactions to split"):
        ds.split("loo")


def test_wrong_columns_bad_json_and_empty_files(tmp_path):
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(DatasetError, match=r"wrong\.csv: no item column \(tried item_id"):
        load_dataset(wrong)
    with pytest.raises(DatasetError, match=r"wrong\.csv lacks columns \['movie'\]"):
        load_dataset(wrong, item="movie")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"user_id": "a", "item_id": 1}\n{"user_id": \n')
    with pytest.raises(DatasetError, match=r"cannot parse .*bad\.jsonl.*one JSON object"):
        load_dataset(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match=r"empty\.csv"):
        load_dataset(empty)


def test_bad_values_and_unknown_options(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("user_id,item_id,rating\na,1,five\n")
    with pytest.raises(DatasetError, match="rating 'five' is not a number"):
        load_dataset(path)
    with pytest.raises(DatasetError, match="no option 'usr' \\(did you mean 'user'\\?\\)"):
        load_dataset(path, usr="user_id")


def test_atomic_files_from_a_path_and_a_bad_header(tmp_path):
    ml = load_dataset(recbole_ml100k_dir() / "ml-100k.inter", format="atomic", cache=False)
    assert len(ml.catalog) == 1682 and ml.catalog[0].title == "Toy Story"  # no year option
    (tmp_path / "toy.inter").write_text("user_id\titem_id:token\n1\t2\n")
    with pytest.raises(DatasetError, match=r"toy\.inter: header 'user_id' is not 'name:type'"):
        load_dataset(tmp_path, cache=False)
