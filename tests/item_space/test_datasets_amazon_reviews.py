"""Amazon review dumps (2018 `_5.json.gz` + meta, 2023 `.jsonl` + meta), written in tmp from the
real Video_Games interactions and read back."""

import gzip
import json

import pytest

from recagora.item_space.datasets import detect_format, load_dataset
from recagora.item_space.errors import DatasetError

N_USERS = 150


@pytest.fixture(scope="module")
def games():
    return load_dataset("video-games")


@pytest.fixture(scope="module")
def events(games):
    """(user, asin, rating, seconds) of the first N_USERS users' first event per product."""
    frame = games.interactions.frame
    users = sorted(frame["user"].unique())[:N_USERS]
    frame = frame[frame["user"].isin(users)].drop_duplicates(["user", "item"])
    return [
        (str(u), f"B{int(i):09d}", 5.0 if r != r else float(r), int(t))
        for u, i, r, t in zip(
            frame["user"], frame["item"], frame["rating"], frame["timestamp"], strict=True
        )
    ]


def _write_lines(file, records, gz: bool):
    text = "".join(json.dumps(record) + "\n" for record in records)
    if gz:
        with gzip.open(file, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        file.write_text(text, encoding="utf-8")


def _write_2018(folder, games, events):
    folder.mkdir()
    reviews = [
        {"reviewerID": u, "asin": a, "overall": r, "unixReviewTime": t, "reviewText": "fun"}
        for u, a, r, t in events
    ]
    _write_lines(folder / "Video_Games_5.json.gz", reviews, gz=True)
    asins = {a for _, a, _, _ in events}
    meta = [
        {"asin": f"B{item.id:09d}", "title": item.title, "category": ["Video Games", "PC"]}
        for item in games.catalog.items
        if f"B{item.id:09d}" in asins
    ]
    _write_lines(folder / "meta_Video_Games.json.gz", meta[1:], gz=True)  # one product unlisted
    return meta


def test_a_2018_folder_reads_every_review_title_and_category(tmp_path, games, events):
    meta = _write_2018(tmp_path / "games2018", games, events)
    assert detect_format(tmp_path / "games2018") == "amazon_reviews"
    dataset = load_dataset(str(tmp_path / "games2018"))
    frame = dataset.interactions.frame
    assert len(frame) == len(events) and frame["user"].nunique() == N_USERS
    keys = [dataset.catalog[i].key for i in frame["item"]]
    got = sorted(zip(frame["user"], keys, frame["rating"], frame["timestamp"], strict=True))
    assert got == sorted(events)
    titled = {row["asin"]: row["title"] for row in meta[1:]}
    for item in dataset.catalog.items:
        if item.key in titled:
            assert item.title.startswith(titled[item.key]) and item.categories == (
                "Video Games",
                "PC",
            )
    unlisted = next(item for item in dataset.catalog.items if item.key == meta[0]["asin"])
    assert unlisted.title == f"item {meta[0]['asin']}" and unlisted.categories == ()
    assert dataset.split("auto").protocol == "loo"


def test_a_2023_review_file_keys_products_by_parent_asin_in_seconds(tmp_path, games, events):
    folder = tmp_path / "games2023"
    folder.mkdir()
    reviews = [
        {"user_id": u, "asin": a + "-v", "parent_asin": a, "rating": r, "timestamp": t * 1000}
        for u, a, r, t in events
    ]
    _write_lines(folder / "Video_Games.jsonl", reviews, gz=False)
    _write_lines(
        folder / "meta_Video_Games.jsonl", [{"parent_asin": events[0][1], "title": "T"}], gz=False
    )
    assert detect_format(folder / "Video_Games.jsonl") == "amazon_reviews"
    dataset = load_dataset(str(folder / "Video_Games.jsonl"))
    frame = dataset.interactions.frame
    assert {item.key for item in dataset.catalog.items} == {a for _, a, _, _ in events}
    assert int(frame["timestamp"].max()) == max(t for *_, t in events)
    assert dataset.catalog[dataset.catalog.items[0].id].title in (
        "T",
        f"item {dataset.catalog.items[0].key}",
    )


def test_k_core_drops_users_and_items_until_none_is_thin(tmp_path):
    # u1 and u2 rate a, b; u3 rates a and c. At k = 2: c has one event, so u3 keeps one
    # event and goes, which leaves a and b with two events each: {u1, u2} x {a, b} stays.
    pairs = [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b"), ("u3", "a"), ("u3", "c")]
    folder = tmp_path / "core"
    folder.mkdir()
    reviews = [
        {"reviewerID": u, "asin": a, "overall": 4, "unixReviewTime": n}
        for n, (u, a) in enumerate(pairs)
    ]
    _write_lines(folder / "Toys_5.json.gz", reviews, gz=True)
    frame = load_dataset(str(folder), k_core=2, cache=False).interactions.frame
    assert sorted(frame["user"]) == ["u1", "u1", "u2", "u2"] and len(frame) == 4
    with pytest.raises(DatasetError, match="nothing is left of the 3-core"):
        load_dataset(str(folder), k_core=3, cache=False)


def test_a_line_without_ids_and_a_folder_of_two_dumps_are_one_line(tmp_path, games, events):
    bad = tmp_path / "bad"
    bad.mkdir()
    _write_lines(bad / "Toys_5.json.gz", [{"reviewerID": "u", "overall": 5}], gz=True)
    with pytest.raises(DatasetError, match="no user or product id"):
        load_dataset(str(bad), cache=False)
    _write_lines(bad / "Books_5.json.gz", [{"reviewerID": "u", "asin": "a"}], gz=True)
    with pytest.raises(DatasetError, match="expected one review file"):
        load_dataset(str(bad), cache=False)
