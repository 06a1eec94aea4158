"""MindRec's Amazon Games with semantic IDs, from ../shared/data; malformed copies."""

from __future__ import annotations

import json

import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.datasets.semantic_ids import (
    attach_semantic_ids,
    write_semantic_id_folder,
)
from recagora.item_space.errors import DatasetError


@pytest.fixture(scope="module")
def games():
    return load_dataset("games-semids")


def test_games_semantic_ids_has_every_item_with_four_codes(games):
    assert len(games.catalog) == 16859
    first = games.catalog[0]
    assert first.attributes["semantic_id"] == ("<a_240>", "<b_118>", "<c_21>", "<d_18>")
    assert first.title == "<a_240><b_118><c_21><d_18>"
    assert games.meta["code_levels"] == [4]
    assert len(set(games.catalog.titles)) == 16859  # shared codes are made unique


def test_sequences_match_user_sequence_txt(games, shared_data):
    lines = (
        (shared_data / "amazon-Games-semantic-ids" / "user_sequence.txt").read_text().splitlines()
    )
    frame = games.interactions.frame.sort_values(["user", "timestamp"], kind="stable")
    sequences = frame.groupby("user", sort=False)["item"].agg(list)
    assert len(sequences) == len(lines) == 50546
    for line in lines[::250]:
        user, *items = line.split()
        assert sequences[user] == [games.catalog.id_of_key(item) for item in items]


def test_leave_one_out_is_the_default_protocol(games):
    split = games.split(max_history=20)
    assert split.protocol == "loo"
    assert split.sizes()["test"] == 50546
    assert split.sizes()["train"] == len(games.interactions) - 3 * 50546


def test_bad_json_and_missing_sequences_are_one_line_errors(tmp_path):
    (tmp_path / "Toy.index.json").write_text('{"0": ["<a_1>", "<b_2>"], "1": ')
    (tmp_path / "Toy.inter.json").write_text('{"u": [0, 1]}')
    with pytest.raises(DatasetError, match=r"bad JSON in .*Toy\.index\.json at line 1"):
        load_dataset(tmp_path, cache=False)
    (tmp_path / "Toy.index.json").write_text(json.dumps({"0": ["<a_1>"], "1": ["<a_2>"]}))
    (tmp_path / "Toy.inter.json").unlink()
    with pytest.raises(DatasetError, match="no Toy.inter.json or user_sequence.txt"):
        load_dataset(tmp_path, cache=False)


def test_sequence_naming_an_unknown_item_is_reported(tmp_path):
    (tmp_path / "Toy.index.json").write_text(json.dumps({"0": ["<a_1>"], "1": ["<a_2>"]}))
    (tmp_path / "Toy.inter.json").write_text(json.dumps({"u": [0, 1, 7]}))
    with pytest.raises(DatasetError, match=r"absent from the item list, e.g. \['7'\]"):
        load_dataset(tmp_path, cache=False)
    (tmp_path / "Toy.inter.json").write_text(json.dumps({"u": [0, 1, 0]}))
    toy = load_dataset(tmp_path, cache=False)
    assert toy.interactions.histories()["u"].items == [0, 1, 0]


def test_user_sequence_txt_is_read_when_no_inter_json(tmp_path, shared_data):
    source = shared_data / "amazon-Games-semantic-ids"
    (tmp_path / "Games.index.json").write_bytes((source / "Games.index.json").read_bytes())
    lines = (source / "user_sequence.txt").read_text().splitlines()[:50]
    (tmp_path / "user_sequence.txt").write_text("\n".join(lines) + "\n")
    small = load_dataset(tmp_path, cache=False)
    assert len(small.catalog) == 16859 and small.interactions.n_users == 50
    assert len(small.interactions) == sum(len(line.split()) - 1 for line in lines)


def test_codes_of_uneven_depth_are_refused(tmp_path):
    (tmp_path / "Toy.index.json").write_text(
        json.dumps({"0": ["<a_1>", "<b_2>"], "1": ["<a_2>"], "2": ["<a_3>", "<b_1>"]})
    )
    (tmp_path / "Toy.inter.json").write_text(json.dumps({"u": [0, 1]}))
    with pytest.raises(DatasetError, match=r"codes of uneven depth \[1, 2\] \(item '1' has 1"):
        load_dataset(tmp_path, cache=False)


def test_codes_must_name_exactly_the_catalog_items():
    ml = load_dataset("ml-100k")
    index = {item.key: ["<a_1>", f"<b_{item.id}>"] for item in ml.catalog.items}
    tagged = attach_semantic_ids(ml.catalog, index)
    assert tagged[0].attributes["semantic_id"] == ("<a_1>", "<b_0>")
    assert tagged[0].title == ml.catalog[0].title and "semantic_id" not in ml.catalog[0].attributes
    del index["1"]
    index["99999"] = ["<a_1>", "<b_1>"]
    with pytest.raises(
        DatasetError, match=r"1 catalog items lack a code \(e.g. \['1'\]\), 1 codes"
    ):
        attach_semantic_ids(ml.catalog, index, source="Toy.index.json")
    index = {item.key: ["<a_1>"] * (1 + item.id % 2) for item in ml.catalog.items}
    with pytest.raises(DatasetError, match="uneven depth"):
        attach_semantic_ids(ml.catalog, index)


def test_written_folder_reads_back_with_titles_categories_and_order(tmp_path):
    ml = load_dataset("ml-100k")
    tokens = [[f"<a_{item.id % 7}>", f"<b_{item.id}>"] for item in ml.catalog.items]
    index_file = write_semantic_id_folder(ml, tokens, tmp_path, {"items": 1682})
    assert index_file == tmp_path / "ml-100k.index.json"
    back = load_dataset(tmp_path, cache=False)
    assert [item.key for item in back.catalog.items] == [item.key for item in ml.catalog.items]
    assert back.catalog.titles == ml.catalog.titles
    assert back.catalog[0].categories == ml.catalog[0].categories
    assert back.catalog[5].attributes["semantic_id"] == ("<a_5>", "<b_5>")
    original = ml.interactions.histories()
    for user, history in list(back.interactions.histories().items())[:50]:
        assert history.items == original[user].items  # same items in time order
    assert json.loads((tmp_path / "ml-100k.stats.json").read_text()) == {"items": 1682}
