"""Each catalog item's MindRec response: level-aware category codes, then its semantic ID.

MindRec (arXiv 2511.12597, `process.ipynb` of its repository) writes an item as
``{c1}{c2}...-{sid}``: a category path of exactly L levels, each level's code being the
parent's code plus a level token ``<{letter}:{k}>`` (k counts the children of that
parent, so codes are unique per parent), then the semantic-ID tokens (``<a_x><b_y>...``).
Paths longer than L are truncated and shorter ones padded with one fresh child per
parent, as the paper does. Catalogs without category metadata get a tree from Ward
clustering of the item-space vectors (`item_space.category_tree`).

Items whose whole response is identical (same semantic ID and path) are one UNIT, as
titles are for the title policies; the lowest item id represents the unit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recagora.item_space.datasets.semantic_ids import attach_semantic_ids, read_semantic_id_file
from recagora.item_space.errors import DatasetError, ModelError
from recagora.item_space.types import Catalog, Sample
from recagora.training.item_tokenizers import catalog_fingerprint

PAD_LABEL = "\x00pad"  # the fresh child that pads a short path (never a real label)


@dataclass(frozen=True)
class ItemCodes:
    """Token ids of every item's response and the vocabulary they index.

    vocabulary: token id -> token string; the mask token is id len(vocabulary).
    codes: (N, L) int64 token ids, the n_category category slots first.
    keys: fingerprint of the catalog's item keys (refuses another catalog when served).
    """

    vocabulary: list[str]
    codes: np.ndarray
    n_category: int
    keys: str

    @property
    def mask_id(self) -> int:
        return len(self.vocabulary)

    @property
    def n_slots(self) -> int:
        return int(self.codes.shape[1])

    @property
    def fingerprint(self) -> str:
        """Hash of the responses (a checkpoint of other codes is refused on resume)."""
        return catalog_fingerprint(self.names())

    def names(self) -> list[str]:
        return ["".join(self.vocabulary[t] for t in row) for row in self.codes.tolist()]

    def units(self) -> tuple[np.ndarray, np.ndarray]:
        """(N,) unit of each item and (n_units,) lowest item id of each unit."""
        _, first, unit_of_item = np.unique(
            self.codes, axis=0, return_index=True, return_inverse=True
        )
        return unit_of_item.reshape(-1).astype(np.int64), first.astype(np.int64)

    def save(self, path: Path) -> None:
        """JSON beside the checkpoint (atomic), so serving needs no tree or embedder."""
        data = {
            "vocabulary": self.vocabulary,
            "n_category": self.n_category,
            "keys": self.keys,
            "codes": self.codes.tolist(),
        }
        staging = Path(path).with_suffix(".tmp")
        staging.write_text(json.dumps(data))
        staging.replace(path)

    @classmethod
    def load(cls, path: Path) -> ItemCodes:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            codes = np.asarray(data["codes"], dtype=np.int64)
            return cls(list(data["vocabulary"]), codes, int(data["n_category"]), str(data["keys"]))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(
                f"MindRec item codes {str(path)!r} are unreadable ({type(error).__name__}); "
                "retrain, or restore the run folder from a copy"
            ) from None


def keys_fingerprint(catalog: Catalog) -> str:
    return catalog_fingerprint([item.key for item in catalog.items])


def semantic_ids(catalog: Catalog, index_json: str = "") -> list[tuple[str, ...]]:
    """Each item's semantic-ID tokens: from `index_json` (item key -> tokens) or the items.

    The checks (the file's items are the catalog's, one depth) are item_space's
    `attach_semantic_ids`, for the items' own codes too.

    Raises:
        DatasetError: no semantic IDs, items that do not match the catalog, uneven depth.
    """
    if index_json:
        index = read_semantic_id_file(Path(index_json))
        catalog = attach_semantic_ids(catalog, index, source=f"semantic-ID file {index_json!r}")
    rows = [tuple(item.attributes.get("semantic_id", ())) for item in catalog.items]
    if not all(rows):
        raise DatasetError(
            f"catalog {catalog.name!r} has no semantic IDs; build them with "
            f"`recagora data semantic-ids {catalog.name}` and pass --set semantic_ids=INDEX_JSON"
        )
    if not index_json:  # codes made elsewhere: the same depth check
        attach_semantic_ids(catalog, {item.key: rows[i] for i, item in enumerate(catalog.items)})
    return rows


def level_aware_codes(paths: Sequence[Sequence[str]], levels: int) -> list[tuple[str, ...]]:
    """MindRec's level-aware category tokens of label paths, fixed at `levels` levels.

    For paths given as labels (tests, a tree-less caller); catalogs go through the tree
    and `item_space.category_tree.category_codes`, the one implementation there is.
    """
    children: dict[tuple[int, ...], dict[str, int]] = {}
    out = []
    for path in paths:
        fixed = list(path[:levels]) + [PAD_LABEL] * max(0, levels - len(path))
        numbers: tuple[int, ...] = ()
        for label in fixed:
            siblings = children.setdefault(numbers, {})
            numbers = (*numbers, siblings.setdefault(label, len(siblings)))
        out.append(tuple(f"<{chr(ord('a') + level)}:{k}>" for level, k in enumerate(numbers)))
    return out


def category_tokens(
    catalog: Catalog, levels: int, branching: int, train: Sequence[Sample] = (), seed: int = 0
) -> list[tuple[str, ...]]:
    """Each item's `levels` level-aware category tokens from the catalog's category tree.

    The tree is the catalog's own, else built from category metadata, else by Ward
    clustering of item vectors: the item space's text embeddings, or, for catalogs with
    no text (games-semids: a title is its code string), a truncated SVD of the TRAINING
    samples' user-item matrix (`interaction_vectors`).
    """
    from recagora.item_space.category_tree import build_category_tree, category_codes

    tree = catalog.tree
    if tree is None:
        vectors = (
            None if any(i.categories for i in catalog.items) else _vectors(catalog, train, seed)
        )
        tree = build_category_tree(catalog, vectors=vectors, branching=branching, levels=levels)
    codes = category_codes(tree, levels, len(catalog))
    return [tuple(codes[item.id]) for item in catalog.items]


def _vectors(catalog: Catalog, train: Sequence[Sample], seed: int) -> np.ndarray:
    if catalog.vectors is not None:
        return catalog.vectors
    # A title that is only the item's code string (" [key]" added to repeats) is no text.
    sids = ["".join(item.attributes.get("semantic_id", ())) for item in catalog.items]
    coded = all(
        sid and item.title.startswith(sid) for sid, item in zip(sids, catalog.items, strict=True)
    )
    if not coded or any(item.text for item in catalog.items):
        from recagora.item_space.space import ItemSpace  # embeds once, then disk-cached

        return ItemSpace.build(catalog).catalog.vectors
    if not train:
        raise DatasetError(
            f"catalog {catalog.name!r} has no text or categories; its category tree "
            "needs the training samples (interaction vectors)"
        )
    from recagora.item_space.category_tree import interaction_vectors

    users = np.concatenate([[s.user] * (len(s.history) + 1) for s in train])
    items = np.concatenate([[*s.history, s.target] for s in train]).astype(np.int64)
    return interaction_vectors(users, items, len(catalog), seed=seed)


def build_item_codes(
    catalog: Catalog,
    sids: Sequence[Sequence[str]],
    categories: Sequence[Sequence[str]] | None,
) -> ItemCodes:
    """The code table of `catalog` from its semantic IDs and optional category tokens."""
    rows = [(*(categories[i] if categories else ()), *sid) for i, sid in enumerate(sids)]
    vocabulary = sorted({token for row in rows for token in row})
    ids = {token: index for index, token in enumerate(vocabulary)}
    codes = np.asarray([[ids[t] for t in row] for row in rows], dtype=np.int64)
    n_category = len(categories[0]) if categories else 0
    return ItemCodes(vocabulary, codes, n_category, keys_fingerprint(catalog))


def item_codes_for(catalog: Catalog, config, train: Sequence[Sample] = ()) -> ItemCodes:
    """The code table a `MindRecConfig` asks for (categories only with category_phase)."""
    sids = semantic_ids(catalog, config.semantic_ids)
    categories = None
    if config.category_phase:
        categories = category_tokens(
            catalog, config.category_levels, config.category_branching, train, config.seed
        )
    return build_item_codes(catalog, sids, categories)
