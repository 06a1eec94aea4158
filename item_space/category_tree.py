"""Category tree over a catalog: a networkx DiGraph rooted at "ROOT" whose leaves are items.

Built from item category metadata when the catalog has it, else by agglomerative (Ward)
clustering of item embeddings (Ward, JASA 1963; scipy.cluster.hierarchy), cut at
`levels` depths with about `branching`**level clusters each. The coarse-to-fine paths
serve MindRec-style category-prefixed generation (MindRec, 2025) and category filters.

Nodes: "ROOT"; category nodes are strings ("cat:Drama", "cat:Music/Rock", "cluster:2:17")
with attributes kind="category", label, level; item leaves are the dense item ids (int)
with kind="item".

MindRec's level-aware codes (Gao et al., arXiv 2511.12597, `process.ipynb`):
`category_codes(tree, levels) -> dict[item_id, tuple[str, ...]]` gives every item
exactly `levels` tokens. A category's code is its parent's code plus one token
``<{letter of its level}:{k}>`` (levels a, b, c, ...), k counting the categories under
that parent (children ordered by node name), so codes are unique per parent. Deeper
paths are truncated to `levels`; shorter ones are padded as the paper does, with a
fresh child of the item's deepest category (k = that parent's next free counter, then
``:0`` below it). `check_category_tree(tree, n_items)` refuses cycles, nodes with two
parents, nodes cut off from the root and missing items, in one line.
Catalogs without text or categories (games-semids) cluster `interaction_vectors`:
a seeded truncated SVD of the user-item matrix.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Catalog

ROOT = "ROOT"
LEVEL_LETTERS = "abcdefghijklmnopqrstuvwxyz"
UNCATEGORIZED = "uncategorized"
MAX_EXACT_LINKAGE = 4000  # Ward linkage needs O(N^2) memory; above this, link a sample


def _new_tree() -> nx.DiGraph:
    tree = nx.DiGraph()
    tree.add_node(ROOT, kind="root", label=ROOT, level=0)
    return tree


def _add_path(tree: nx.DiGraph, labels: tuple[str, ...], item_id: int) -> None:
    parent = ROOT
    for level, label in enumerate(labels, start=1):
        node = "cat:" + "/".join(labels[:level])
        if node not in tree:
            tree.add_node(node, kind="category", label=label, level=level)
            tree.add_edge(parent, node)
        parent = node
    tree.add_node(item_id, kind="item", level=len(labels) + 1)
    tree.add_edge(parent, item_id)


def tree_from_categories(catalog: Catalog, *, kind: str = "path") -> nx.DiGraph:
    """Tree from `Item.categories`.

    Args:
        kind: "path" = categories are a coarse-to-fine path (Amazon-style
            'Music > Rock > Punk'); "labels" = flat labels (ML-100K genres): each item
            hangs under its first label. Items without categories go under 'uncategorized'.
    """
    if kind not in ("path", "labels"):
        raise DatasetError(f"unknown category kind {kind!r} (choose 'path' or 'labels')")
    tree = _new_tree()
    for item in catalog.items:
        labels = tuple(item.categories) or (UNCATEGORIZED,)
        _add_path(tree, labels if kind == "path" else labels[:1], item.id)
    return tree


def _nearest(vectors: np.ndarray, anchors: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """(N,) index of each vector's nearest anchor (squared Euclidean), in row chunks."""
    anchor_norms = (anchors**2).sum(axis=1)
    return np.concatenate(
        [
            np.argmin(
                anchor_norms[None, :] - 2.0 * vectors[start : start + chunk] @ anchors.T, axis=1
            )
            for start in range(0, len(vectors), chunk)
        ]
    )


def _linkage(vectors: np.ndarray, seed: int):
    """(Z, assign): Ward linkage over the vectors, or over a seeded sample when N is large.

    assign maps each item to its row in the linkage: itself, or (N > MAX_EXACT_LINKAGE)
    its nearest sampled item. Ward linkage is O(N^2) in memory, so large catalogs link a
    sample of MAX_EXACT_LINKAGE items and attach the rest to their nearest sampled item.
    """
    from scipy.cluster.hierarchy import linkage

    if len(vectors) <= MAX_EXACT_LINKAGE:
        return linkage(vectors, method="ward"), np.arange(len(vectors))
    sample = np.sort(
        np.random.default_rng(seed).choice(len(vectors), MAX_EXACT_LINKAGE, replace=False)
    )
    return linkage(vectors[sample], method="ward"), _nearest(vectors, vectors[sample])


def tree_from_vectors(
    vectors: np.ndarray, *, branching: int = 8, levels: int = 2, seed: int = 0
) -> nx.DiGraph:
    """Tree from agglomerative clustering of item vectors.

    Args:
        vectors: (N, d) float item embeddings; row i is item i.
        branching: clusters per level grow as branching**level (the dendrogram is cut at
            these counts; cuts of one dendrogram are nested, so each cluster has one parent).
        levels: depth of the category part of the tree.
        seed: seeds the sample linked when N > MAX_EXACT_LINKAGE.
    """
    from scipy.cluster.hierarchy import fcluster

    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) < 2:
        raise DatasetError(
            f"need (N, d) item vectors with N >= 2 to cluster, got shape {vectors.shape}"
        )
    if branching < 2 or levels < 1:
        raise DatasetError(f"branching must be >= 2 and levels >= 1, got {branching} and {levels}")
    z, assign = _linkage(vectors, seed)
    cuts = [
        fcluster(z, t=min(branching**level, len(z) + 1), criterion="maxclust")[assign]
        for level in range(1, levels + 1)
    ]
    tree = _new_tree()
    for item_id in range(len(vectors)):
        parent = ROOT
        for level, labels in enumerate(cuts, start=1):
            node = f"cluster:{level}:{labels[item_id]}"
            if node not in tree:
                tree.add_node(
                    node, kind="category", label=f"cluster {labels[item_id]}", level=level
                )
                tree.add_edge(parent, node)
            parent = node
        tree.add_node(item_id, kind="item", level=levels + 1)
        tree.add_edge(parent, item_id)
    return tree


def build_category_tree(
    catalog: Catalog,
    *,
    kind: str = "path",
    vectors: np.ndarray | None = None,
    branching: int = 8,
    levels: int = 2,
) -> nx.DiGraph:
    """From category metadata when any item has categories, else from `vectors` (or catalog.vectors)."""
    if any(item.categories for item in catalog.items):
        return tree_from_categories(catalog, kind=kind)
    vectors = vectors if vectors is not None else catalog.vectors
    if vectors is None:
        raise DatasetError(
            f"catalog {catalog.name!r} has no categories and no vectors (embed the items first)"
        )
    if len(vectors) != len(catalog):
        raise DatasetError(
            f"got {len(vectors)} vectors for {len(catalog)} items (embed every item, in catalog order)"
        )
    return tree_from_vectors(vectors, branching=branching, levels=levels)


def category_path(tree: nx.DiGraph, item_id: int) -> tuple[str, ...]:
    """Labels from the root's child down to the item's parent (coarse first)."""
    if item_id not in tree:
        raise DatasetError(f"item {item_id} is not in the category tree")
    labels = []
    node = next(iter(tree.predecessors(item_id)))
    while node != ROOT:
        labels.append(tree.nodes[node]["label"])
        node = next(iter(tree.predecessors(node)))
    return tuple(reversed(labels))


def check_category_tree(tree: nx.DiGraph, n_items: int) -> None:
    """DatasetError unless `tree` is a tree rooted at ROOT whose item leaves are 0..n_items-1."""
    if ROOT not in tree:
        raise DatasetError("category tree has no 'ROOT' node")
    if not nx.is_directed_acyclic_graph(tree):
        cycle = [edge[0] for edge in nx.find_cycle(tree)]
        raise DatasetError(
            f"category tree has a cycle through {cycle[:4]}; a category cannot contain itself"
        )
    shared = next((node for node in tree if tree.in_degree(node) > 1), None)
    if shared is not None:
        parents = list(tree.predecessors(shared))[:3]
        raise DatasetError(
            f"category tree node {shared!r} has {tree.in_degree(shared)} parents (e.g. {parents}); each needs one"
        )
    orphan = next((node for node in tree if node != ROOT and tree.in_degree(node) == 0), None)
    if orphan is not None:
        raise DatasetError(f"category tree node {orphan!r} is not under 'ROOT'")
    items = {node for node, kind in tree.nodes(data="kind") if kind == "item"}
    missing = sorted(set(range(n_items)) - items)
    if missing:
        raise DatasetError(
            f"category tree misses {len(missing)} of {n_items} items (e.g. {missing[:3]}); every item needs a path"
        )


def _level_token(level: int, counter: int) -> str:
    return f"<{LEVEL_LETTERS[level - 1]}:{counter}>"


def _node_codes(tree: nx.DiGraph, levels: int) -> dict:
    """Category node -> its code (tuple of level tokens), down to depth `levels`."""
    codes: dict = {ROOT: ()}
    for parent in nx.topological_sort(tree):
        if parent not in codes or len(codes[parent]) >= levels:
            continue
        children = sorted(
            (child for child in tree.successors(parent) if tree.nodes[child]["kind"] != "item"),
            key=str,
        )
        for counter, child in enumerate(children):
            codes[child] = codes[parent] + (_level_token(len(codes[parent]) + 1, counter),)
    return codes


def _padding(tree: nx.DiGraph, parent, code: tuple[str, ...], levels: int) -> tuple[str, ...]:
    """The fresh child's tokens that pad `code` (a category above depth `levels`) to `levels`."""
    n_categories = sum(tree.nodes[child]["kind"] != "item" for child in tree.successors(parent))
    pad = (_level_token(len(code) + 1, n_categories),)
    pad += tuple(_level_token(level, 0) for level in range(len(code) + 2, levels + 1))
    return code + pad


def category_codes(tree: nx.DiGraph, levels: int, n_items: int = 0) -> dict[int, tuple[str, ...]]:
    """Item id -> its `levels` level-aware category tokens (see the module docstring).

    n_items: when > 0, items 0..n_items-1 must all be in the tree (checked).

    Example: an item under Music > Rock with levels=3 -> ("<a:0>", "<b:1>", "<c:0>")
    when Music is ROOT's first category, Rock Music's second and Rock has no subcategory.
    """
    if not 1 <= levels <= len(LEVEL_LETTERS):
        raise DatasetError(f"category levels must be in 1..{len(LEVEL_LETTERS)}, got {levels}")
    items = [node for node, kind in tree.nodes(data="kind") if kind == "item"]
    check_category_tree(tree, n_items)
    codes = _node_codes(tree, levels)
    out: dict[int, tuple[str, ...]] = {}
    for item in items:
        node = next(iter(tree.predecessors(item)))
        while node not in codes:  # deeper than `levels`: truncate to the ancestor at `levels`
            node = next(iter(tree.predecessors(node)))
        code = codes[node]
        out[int(item)] = code if len(code) == levels else _padding(tree, node, code, levels)
    return out


def interaction_vectors(
    users: np.ndarray, items: np.ndarray, n_items: int, *, dim: int = 64, seed: int = 0
) -> np.ndarray:
    """(n_items, dim) float32 unit item vectors: truncated SVD of the binary user-item
    matrix (pass TRAINING interactions only). For catalogs with no text to embed."""
    import scipy.sparse
    from sklearn.decomposition import TruncatedSVD

    _, user_rows = np.unique(users, return_inverse=True)
    matrix = scipy.sparse.csr_matrix(
        (np.ones(len(items), np.float32), (np.asarray(items), user_rows.reshape(-1))),
        shape=(n_items, user_rows.max() + 1),
    )
    matrix.data[:] = 1.0  # repeats count once
    svd = TruncatedSVD(n_components=min(dim, min(matrix.shape) - 1), random_state=seed)
    vectors = svd.fit_transform(matrix).astype(np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
