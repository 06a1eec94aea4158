"""LightGCN-style splits, written in tmp from real ML-100K interactions and read back."""

import numpy as np
import pytest

from recagora.item_space.datasets import detect_format, load_dataset
from recagora.item_space.errors import DatasetError
from recagora.item_space.fidelity import SuiteConfig, run_suite

N_USERS = 60


@pytest.fixture(scope="module")
def ml100k():
    return load_dataset("ml-100k")


def _timelines(dataset, n_users: int) -> dict[str, list[str]]:
    """The first n users' movie ids (MovieIDs), oldest first."""
    histories = dataset.interactions.histories()
    users = sorted(histories, key=int)[:n_users]
    return {user: [dataset.catalog[i].key for i in histories[user].items] for user in users}


def _write_folder(folder, dataset, *, remap: bool = False, dat: bool = True):
    """train.txt (all but the last 2), valid.txt (second last), test.txt (last) per user;
    with remap, LightGCN's 0-based ids and item_list.txt / user_list.txt tables."""
    timelines = _timelines(dataset, N_USERS)
    items = sorted({key for keys in timelines.values() for key in keys}, key=int)
    item_id = {key: str(i) if remap else key for i, key in enumerate(items)}
    user_id = {user: str(i) if remap else user for i, user in enumerate(timelines)}
    parts = {"train": slice(None, -2), "valid": slice(-2, -1), "test": slice(-1, None)}
    folder.mkdir()
    for part, cut in parts.items():
        lines = [
            " ".join([user_id[user], *(item_id[key] for key in keys[cut])])
            for user, keys in timelines.items()
        ]
        (folder / f"{part}.txt").write_text("\n".join(lines) + "\n")
    if remap:
        (folder / "item_list.txt").write_text(
            "org_id remap_id\n" + "".join(f"{k} {v}\n" for k, v in item_id.items())
        )
        (folder / "user_list.txt").write_text(
            "org_id remap_id\n" + "".join(f"{k} {v}\n" for k, v in user_id.items())
        )
    if dat:
        _write_dat(folder, dataset)
    return timelines


def _write_dat(folder, dataset):
    movies = [
        f"{item.key}::{item.title}::{'|'.join(item.categories)}" for item in dataset.catalog.items
    ]
    (folder / "movies.dat").write_text("\n".join(movies) + "\n", encoding="latin-1")
    users = [
        f"{user}::{row.gender}::{row.age}::{row.occupation}::{row.zip_code}"
        for user, row in dataset.users.iterrows()
    ]
    (folder / "users.dat").write_text("\n".join(users) + "\n", encoding="latin-1")


def test_a_lightgcn_folder_is_detected_and_keeps_its_split(tmp_path, ml100k):
    timelines = _write_folder(tmp_path / "ml-lightgcn", ml100k)
    assert detect_format(tmp_path / "ml-lightgcn") == "lightgcn"
    dataset = load_dataset(str(tmp_path / "ml-lightgcn"))
    split = dataset.split("auto")
    assert dataset.meta["format"] == "lightgcn" and split.protocol == "given"
    assert len(split.test) == len(split.valid) == N_USERS
    first = split.test[0]
    assert dataset.catalog[first.target].key == timelines[first.user][-1]
    assert [dataset.catalog[i].key for i in first.history] == timelines[first.user][:-2]
    assert len(split.train_interactions) == sum(len(keys) - 2 for keys in timelines.values())
    assert len(dataset.interactions) == sum(len(keys) for keys in timelines.values())


def test_titles_genres_and_demographics_come_from_the_dat_files(tmp_path, ml100k):
    _write_folder(tmp_path / "ml", ml100k)
    dataset = load_dataset(str(tmp_path / "ml"))
    toy = dataset.catalog[dataset.catalog.id_of_key("1")]
    assert toy.title == "Toy Story (1995)"
    assert toy.categories == ("Animation", "Children's", "Comedy")
    assert dataset.users.loc["1", "occupation"] == "technician"


def test_remapped_ids_are_mapped_back_through_the_id_tables(tmp_path, ml100k):
    timelines = _write_folder(tmp_path / "remapped", ml100k, remap=True)
    dataset = load_dataset(str(tmp_path / "remapped"))
    sample = dataset.split("given").test[0]
    assert sample.user in timelines  # the original user id, not the 0-based one
    assert dataset.catalog[sample.target].key == timelines[sample.user][-1]
    assert (
        dataset.catalog[sample.target].title
        == ml100k.catalog[ml100k.catalog.id_of_key(timelines[sample.user][-1])].title
    )


def test_without_dat_files_items_are_named_by_id_and_valid_is_optional(tmp_path, ml100k):
    _write_folder(tmp_path / "bare", ml100k, dat=False)
    (tmp_path / "bare" / "valid.txt").unlink()
    dataset = load_dataset(str(tmp_path / "bare"))
    assert dataset.catalog[0].title == "item 1"
    assert dataset.users is None
    assert dataset.split("given").valid == []


def test_remapped_ids_without_a_table_against_movies_dat_is_one_line(tmp_path, ml100k):
    _write_folder(tmp_path / "bad", ml100k, remap=True)
    (tmp_path / "bad" / "item_list.txt").unlink()
    (tmp_path / "bad" / "user_list.txt").unlink()
    (tmp_path / "bad" / "train.txt").write_text("0 0 5000 5001\n")
    with pytest.raises(
        DatasetError, match="3 item ids of the splits are not MovieIDs here, e.g. '0'"
    ):
        load_dataset(str(tmp_path / "bad"))


def test_an_empty_split_file_is_one_line(tmp_path, ml100k):
    _write_folder(tmp_path / "empty", ml100k)
    (tmp_path / "empty" / "test.txt").write_text("")
    with pytest.raises(DatasetError, match="test split test.txt is empty"):
        load_dataset(str(tmp_path / "empty"))


def test_the_fidelity_suite_runs_on_a_lightgcn_folder(tmp_path, ml100k):
    _write_folder(tmp_path / "suite", ml100k)
    dataset = load_dataset(str(tmp_path / "suite"))
    report = run_suite(dataset, dataset.split("given"), {}, SuiteConfig(seed=0))
    assert report["users"] == N_USERS
    assert report["ratings"]["heldout"]["random"]["available"] is False
    assert np.isfinite(report["choice"]["K10-popularity"]["popularity"]["top1"])
