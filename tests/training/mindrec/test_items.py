"""Each item's MindRec answer: level-aware category tokens, then its semantic ID."""

from __future__ import annotations

import json

import pytest

from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Catalog, Item
from recagora.training.mindrec.config import MindRecConfig
from recagora.training.mindrec.items import (
    ItemCodes,
    item_codes_for,
    level_aware_codes,
    semantic_ids,
)


def test_a_catalog_without_text_gets_categories_from_its_training_interactions(games_world):
    catalog, train, _ = games_world
    codes = item_codes_for(catalog, MindRecConfig(category_levels=2, category_branching=3), train)
    assert codes.n_category == 2 and codes.n_slots == 6
    names = [[codes.vocabulary[t] for t in row] for row in codes.codes.tolist()]
    assert all(row[0].startswith("<a:") and row[1].startswith("<b:") for row in names)
    assert [row[2:] for row in names] == [list(i.attributes["semantic_id"]) for i in catalog.items]
    assert len({tuple(row[:2]) for row in names}) > 3  # several leaf categories


def test_the_ablation_answer_is_the_semantic_id_alone(games_world):
    catalog, train, _ = games_world
    codes = item_codes_for(catalog, MindRecConfig(category_phase=False), train)
    assert codes.n_category == 0 and codes.n_slots == 4


def test_level_aware_codes_count_children_per_parent_and_pad_short_paths():
    codes = level_aware_codes([("A", "x"), ("A", "y"), ("B", "x"), ("B",)], 2)
    assert codes == [("<a:0>", "<b:0>"), ("<a:0>", "<b:1>"), ("<a:1>", "<b:0>"), ("<a:1>", "<b:1>")]


def test_codes_round_trip_through_their_file(games_world, tmp_path):
    catalog, train, _ = games_world
    codes = item_codes_for(catalog, MindRecConfig(category_phase=False), train)
    codes.save(tmp_path / "items.json")
    again = ItemCodes.load(tmp_path / "items.json")
    assert again.names() == codes.names() and again.keys == codes.keys


def _catalog(n: int) -> Catalog:
    return Catalog("toy", [Item(id=i, key=f"k{i}", title=f"t{i}") for i in range(n)])


def test_a_semantic_id_file_of_other_items_is_one_line(tmp_path):
    path = tmp_path / "x.index.json"
    path.write_text(json.dumps({"k0": ["<a_1>", "<b_2>"], "k9": ["<a_1>", "<b_3>"]}))
    with pytest.raises(
        DatasetError, match="does not match catalog 'toy': 1 catalog items lack a code"
    ):
        semantic_ids(_catalog(2), str(path))


def test_codes_of_uneven_depth_are_one_line(tmp_path):
    path = tmp_path / "x.index.json"
    path.write_text(json.dumps({"k0": ["<a_1>", "<b_2>"], "k1": ["<a_1>"]}))
    with pytest.raises(DatasetError, match="uneven depth"):
        semantic_ids(_catalog(2), str(path))


def test_items_own_codes_of_uneven_depth_are_one_line():
    catalog = _catalog(2)
    for item, codes in zip(catalog.items, (["<a_1>", "<b_2>"], ["<a_1>"]), strict=True):
        item.attributes["semantic_id"] = codes
    with pytest.raises(DatasetError, match="uneven depth"):
        semantic_ids(catalog)


def test_a_catalog_without_semantic_ids_says_how_to_build_them():
    with pytest.raises(DatasetError, match="recagora data semantic-ids toy"):
        semantic_ids(_catalog(2))
