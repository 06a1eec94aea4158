"""Flower's Amazon-2018 files from ../shared/data: exact sizes, rebuilt timelines, bad files."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.errors import DatasetError


@pytest.fixture(scope="module")
def games():
    return load_dataset("video-games")


def test_video_games_has_the_published_sizes(games):
    assert len(games.catalog) == 3858
    assert games.given_split.sizes() == {"train": 49133, "valid": 6142, "test": 6142}
    assert games.split().sizes() == games.given_split.sizes()  # "auto" = the files' split
    assert games.meta["duplicate_titles"] == 52  # items.tsv repeats some titles
    assert len(set(games.catalog.titles)) == 3858


def test_cds_vinyl_has_the_published_sizes():
    cds = load_dataset("cds-vinyl")
    assert len(cds.catalog) == 5841
    assert cds.given_split.sizes() == {"train": 49251, "valid": 6156, "test": 6157}


def test_given_split_is_exactly_the_files(games, shared_data):
    import pandas as pd

    test = pd.read_csv(shared_data / "amazon2018-Video_Games" / "test.csv", nrows=3)
    first = games.given_split.test[0]
    assert first.user == test["user_id"][0] and first.target == test["item_id"][0]
    assert list(first.history) == eval(test["history_item_id"][0])  # noqa: S307 - test-only literal
    assert games.catalog[first.target].attributes["raw_title"] == test["item_title"][0]


def test_rebuilt_timelines_regenerate_every_train_window(games):
    """Sliding windows of the rebuilt per-user timelines are exactly train.csv's rows."""
    evaluation = {
        (s.user, s.history, s.target) for s in games.given_split.valid + games.given_split.test
    }
    regenerated = Counter()
    for user, history in games.interactions.histories().items():
        items = history.items
        for i in range(1, len(items)):
            window = (tuple(items[max(0, i - 10) : i]), items[i])
            if (user, *window) not in evaluation:
                regenerated[window] += 1
    assert regenerated == Counter((s.history, s.target) for s in games.given_split.train)


def test_train_samples_name_their_rebuilt_user(games):
    histories = {user: h.items for user, h in games.interactions.histories().items()}
    for sample in games.given_split.train[::500]:
        items = histories[sample.user]
        ends = [i for i in range(1, len(items)) if items[i] == sample.target]
        assert any(tuple(items[max(0, i - 10) : i]) == sample.history for i in ends)
    linked = {s.user for s in games.given_split.train} & {s.user for s in games.given_split.test}
    assert linked and not any(user.startswith("anon-") for user in linked)


def test_train_interactions_precede_the_valid_period(games):
    first_valid = min(s.timestamp for s in games.given_split.valid)
    train = games.given_split.train_interactions.frame
    assert train["timestamp"].max() <= first_valid
    targets = Counter(s.target for s in games.given_split.train)
    events = Counter(train["item"].tolist())
    assert all(events[item] >= count for item, count in targets.items())
    assert len(train) > 49133  # targets plus the first item of each timeline


def _copy(shared_data, tmp_path):
    folder = tmp_path / "games"
    shutil.copytree(shared_data / "amazon2018-Video_Games", folder)
    for file in folder.iterdir():
        file.chmod(0o644)
    return folder


def test_wrong_columns_name_the_file(shared_data, tmp_path):
    folder = _copy(shared_data, tmp_path)
    (folder / "valid.csv").write_text("user,item\nA,1\n")
    with pytest.raises(DatasetError, match=r"valid\.csv lacks columns \['user_id'"):
        load_dataset(folder, cache=False)


def test_bad_list_cell_and_empty_file_are_one_line_errors(shared_data, tmp_path):
    folder = _copy(shared_data, tmp_path)
    (folder / "train.csv").write_text('history_item_id,item_id\n"[1, 2",3\n')
    with pytest.raises(DatasetError, match=r"train\.csv: column 'history_item_id'") as error:
        load_dataset(folder, cache=False)
    assert "\n" not in str(error.value)
    (folder / "items.tsv").write_text("")
    with pytest.raises(DatasetError, match=r"items\.tsv is empty"):
        load_dataset(folder, cache=False)


def test_missing_registered_folder_says_how_to_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("RECAGORA_SHARED_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match="RECAGORA_SHARED_DATA"):
        load_dataset("cds-vinyl")
