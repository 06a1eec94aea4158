"""Category trees from ML-100K genres, from category paths and from clustered vectors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from recagora.item_space import category_tree
from recagora.item_space.category_tree import (
    ROOT,
    build_category_tree,
    category_codes,
    category_path,
    check_category_tree,
    interaction_vectors,
    tree_from_categories,
    tree_from_vectors,
)
from recagora.item_space.datasets import load_dataset
from recagora.item_space.datasets.build import make_catalog
from recagora.item_space.errors import DatasetError


def _leaves(tree):
    return sorted(node for node, data in tree.nodes(data=True) if data["kind"] == "item")


def test_ml100k_genre_tree():
    ml = load_dataset("ml-100k")
    tree = build_category_tree(ml.catalog, kind=ml.meta["category_kind"])
    assert nx.is_arborescence(tree) and ROOT in tree
    assert _leaves(tree) == list(range(1682))
    genres = {tree.nodes[node]["label"] for node in tree.successors(ROOT)}
    assert "Drama" in genres and len(genres) <= 19  # 18 genres (+ 'uncategorized' for 'unknown')
    assert category_path(tree, ml.catalog.id_of_key("1")) == ("Animation",)  # Toy Story
    for item in ml.catalog.items[:200]:
        (label,) = category_path(tree, item.id)
        assert label in item.categories or (label == "uncategorized" and not item.categories)


def test_hierarchical_category_paths_nest():
    catalog = make_catalog(
        "toy",
        ["a", "b", "c"],
        ["A", "B", "C"],
        categories=[("Music", "Rock", "Punk"), ("Music", "Rock"), ("Books",)],
    )
    tree = tree_from_categories(catalog, kind="path")
    assert category_path(tree, 0) == ("Music", "Rock", "Punk")
    assert category_path(tree, 1) == ("Music", "Rock")
    assert set(tree.successors("cat:Music/Rock")) == {"cat:Music/Rock/Punk", 1}
    assert sorted(tree.successors(ROOT)) == ["cat:Books", "cat:Music"]


def _blobs(rng, n_per=25):
    centers = np.array([[0, 0], [0, 40], [40, 0], [40, 40]], float)
    centers = np.hstack([centers, np.zeros((4, 6))])  # 8-d, two coarse pairs of blobs
    labels = np.repeat(np.arange(4), n_per)
    return centers[labels] + rng.normal(scale=1.0, size=(len(labels), 8)), labels


@pytest.mark.parametrize("max_exact", [4000, 40])  # exact linkage, and linkage of a sample
def test_clustering_recovers_well_separated_blobs(monkeypatch, max_exact):
    monkeypatch.setattr(category_tree, "MAX_EXACT_LINKAGE", max_exact)
    vectors, labels = _blobs(np.random.default_rng(7))
    tree = tree_from_vectors(vectors, branching=2, levels=2, seed=3)
    assert nx.is_arborescence(tree) and _leaves(tree) == list(range(100))
    fine = [category_path(tree, i)[1] for i in range(100)]
    for blob in range(4):
        assert len({fine[i] for i in np.flatnonzero(labels == blob)}) == 1
    assert len(set(fine)) == 4


def test_clustering_ml100k_genre_vectors():
    ml = load_dataset("ml-100k")
    genres = sorted({g for item in ml.catalog.items for g in item.categories})
    vectors = np.array([[g in item.categories for g in genres] for item in ml.catalog.items], float)
    catalog = make_catalog("ml-nogenre", [i.key for i in ml.catalog.items], ml.catalog.titles)
    tree = build_category_tree(catalog, vectors=vectors, branching=4, levels=2)
    assert _leaves(tree) == list(range(1682))
    level_two = [
        node
        for node, data in tree.nodes(data=True)
        if data.get("level") == 2 and data["kind"] == "category"
    ]
    assert 4 < len(level_two) <= 16
    same = np.flatnonzero((vectors == vectors[0]).all(axis=1))  # films with Toy Story's genres
    assert len({category_path(tree, int(i)) for i in same}) == 1


def test_no_categories_and_no_vectors_is_an_error():
    catalog = make_catalog("bare", ["a", "b"], ["A", "B"])
    with pytest.raises(DatasetError, match="no categories and no vectors"):
        build_category_tree(catalog)
    with pytest.raises(DatasetError, match="got 3 vectors for 2 items"):
        build_category_tree(catalog, vectors=np.zeros((3, 4)))


def _toy_path_tree():
    catalog = make_catalog(
        "toy",
        ["a", "b", "c", "d", "e"],
        ["A", "B", "C", "D", "E"],
        categories=[
            ("Music", "Rock", "Punk", "UK"),
            ("Music", "Rock"),
            ("Books",),
            ("Music", "Jazz"),
            ("Music", "Rock", "Punk"),
        ],
    )
    return tree_from_categories(catalog, kind="path")


def test_category_codes_are_level_aware_padded_and_truncated():
    codes = category_codes(_toy_path_tree(), levels=3, n_items=5)
    # ROOT's categories sorted by node name: cat:Books -> a:0, cat:Music -> a:1.
    assert codes[2] == ("<a:0>", "<b:0>", "<c:0>")  # Books, padded with a fresh child
    assert codes[3] == ("<a:1>", "<b:0>", "<c:0>")  # Music > Jazz (Jazz sorts first), padded
    assert codes[1] == ("<a:1>", "<b:1>", "<c:1>")  # Music > Rock: Punk is c:0, the pad c:1
    assert codes[4] == ("<a:1>", "<b:1>", "<c:0>")  # Music > Rock > Punk
    assert codes[0] == codes[4]  # Punk > UK truncated at 3 levels
    assert {len(code) for code in codes.values()} == {3}


def test_category_codes_are_unique_per_parent_on_ml100k_and_clusters():
    ml = load_dataset("ml-100k")
    trees = [build_category_tree(ml.catalog, kind=ml.meta["category_kind"])]
    vectors = np.random.default_rng(0).normal(size=(300, 8))
    trees.append(tree_from_vectors(vectors, branching=3, levels=3, seed=0))
    for tree, levels, n_items in ((trees[0], 2, 1682), (trees[1], 3, 300)):
        codes = category_codes(tree, levels, n_items=n_items)
        assert sorted(codes) == list(range(n_items))
        paths = {item: category_path(tree, item)[:levels] for item in codes}
        assert all(len(code) == levels for code in codes.values())
        # one code per (truncated) category path and one path per code: distinct
        # sibling categories, and the padding child, never share a token under one parent
        pairs = {(paths[item], codes[item]) for item in codes}
        assert len(pairs) == len({p for p, _ in pairs}) == len({c for _, c in pairs})
        for path, code in pairs:  # a child's code extends its parent's code
            parent = next(c for p, c in pairs if p[: len(path) - 1] == path[:-1])
            assert code[: len(path) - 1] == parent[: len(path) - 1]
        assert {token[1] for code in codes.values() for token in code} == set("abc"[:levels])


def test_bad_trees_are_one_line_errors():
    tree = _toy_path_tree()
    with pytest.raises(DatasetError, match="misses 1 of 6 items"):
        check_category_tree(tree, 6)
    cyclic = tree.copy()
    cyclic.add_edge("cat:Music/Rock", "cat:Music")
    with pytest.raises(DatasetError, match="cycle"):
        category_codes(cyclic, 2)
    shared = tree.copy()
    shared.add_edge("cat:Books", 1)
    with pytest.raises(DatasetError, match="node 1 has 2 parents"):
        category_codes(shared, 2)
    with pytest.raises(DatasetError, match="levels must be in"):
        category_codes(tree, 0)


def test_interaction_vectors_group_items_bought_together():
    users = np.array(["u1", "u1", "u2", "u2", "u3", "u3", "u3"])
    items = np.array([0, 1, 0, 1, 2, 3, 2])
    vectors = interaction_vectors(users, items, 5, dim=2, seed=0)
    assert vectors.shape == (5, 2)
    assert vectors[0] @ vectors[1] > 0.99 and abs(vectors[0] @ vectors[2]) < 0.01
    assert np.allclose(vectors, interaction_vectors(users, items, 5, dim=2, seed=0))
