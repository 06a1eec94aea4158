"""Items with semantic IDs and chronological user sequences (MindRec's Amazon "Games").

Semantic IDs: Wang et al., "Learnable Item Tokenization for Generative Recommendation"
(LETTER, CIKM 2024), as used by MindRec. `<name>.index.json` maps item id -> code tokens
(coarse first); `<name>.inter.json` maps user id -> item ids in time order (or
`user_sequence.txt`: `user item item ...`). Games ships no titles, so an item's title is
its token string (made unique where two items share a code, see build.unique_titles);
an optional `<name>.items.json` (item id -> {"title", "categories"}, written by
`write_semantic_id_folder` for catalogs that have them) restores titles and categories.
Timestamps are sequence positions. Every item's code must have the same depth.

`attach_semantic_ids(catalog, index)` puts codes made for a catalog onto it (refusing a
file whose items are not exactly the catalog's); `write_semantic_id_folder` writes a
dataset with codes in this layout (the `recagora data semantic-ids` output).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from recagora.item_space.datasets.build import make_catalog, make_interactions, read_json
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.paths import require_file, shared_data_dir
from recagora.item_space.datasets.registry import DatasetSource
from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Catalog

FIX = "expected <name>.index.json (item -> token list) and <name>.inter.json (user -> item list)"


def games_source() -> DatasetSource:
    """Registry entry: Amazon Games with LETTER semantic IDs (16,859 items)."""
    return DatasetSource(
        name="games-semids",
        format="semantic_ids",
        path=shared_data_dir() / "amazon-Games-semantic-ids",
        description="Amazon Games with 4-level semantic IDs, leave-one-out (16,859 items)",
        how_to_get="set RECAGORA_SHARED_DATA to the folder holding the shared datasets",
    )


def _find_files(path: Path) -> tuple[Path, Path]:
    """(index file, sequence file) for a folder or an .index.json path."""
    if path.is_file():
        index_file, folder = path, path.parent
    else:
        found = sorted(path.glob("*.index.json"))
        if not found:
            raise DatasetError(f"no *.index.json in {path} ({FIX})")
        index_file, folder = found[0], path
    stem = index_file.name.removesuffix(".index.json")
    for sequences in (folder / f"{stem}.inter.json", folder / "user_sequence.txt"):
        if sequences.exists():
            return index_file, sequences
    raise DatasetError(f"no {stem}.inter.json or user_sequence.txt beside {index_file} ({FIX})")


def _read_index(path: Path) -> dict[str, list[str]]:
    index = read_json(require_file(path, "semantic-id file", FIX), FIX)
    if not isinstance(index, dict) or not index:
        raise DatasetError(f"{path} must be a non-empty JSON object item -> token list ({FIX})")
    bad = next(
        (key for key, codes in index.items() if not isinstance(codes, list) or not codes), None
    )
    if bad is not None:
        raise DatasetError(f"{path}: item {bad!r} has no token list ({FIX})")
    index = {str(key): [str(code) for code in codes] for key, codes in index.items()}
    _check_depth(index, path)
    return index


def _check_depth(index: dict[str, list[str]], source) -> None:
    """Every code has one depth (tries, diffusion slots and the baselines assume it)."""
    depths = {len(codes) for codes in index.values()}
    if len(depths) > 1:
        short = min(index, key=lambda key: len(index[key]))
        long = max(index, key=lambda key: len(index[key]))
        raise DatasetError(
            f"{source}: codes of uneven depth {sorted(depths)} (item {short!r} has "
            f"{len(index[short])}, item {long!r} has {len(index[long])}); every item needs the same number"
        )


def read_semantic_id_file(path: Path) -> dict[str, list[str]]:
    """Item id -> code tokens of an `*.index.json` file, checked (one depth, non-empty)."""
    return _read_index(Path(path))


def attach_semantic_ids(
    catalog: Catalog, index: dict[str, Sequence[str]], source="codes"
) -> Catalog:
    """A copy of `catalog` whose items carry attributes['semantic_id'] from `index`.

    Raises:
        DatasetError: the index's item ids are not exactly the catalog's keys, or the
            codes have uneven depth.
    """
    keys = [item.key for item in catalog.items]
    missing = [key for key in keys if key not in index]
    extra = sorted(set(index) - set(keys))
    if missing or extra:
        raise DatasetError(
            f"{source} does not match catalog {catalog.name!r}: {len(missing)} catalog items "
            f"lack a code (e.g. {missing[:3]}), {len(extra)} codes name unknown items "
            f"(e.g. {extra[:3]}); build the codes for this catalog"
        )
    _check_depth({key: list(index[key]) for key in keys}, source)
    items = [
        item.model_copy(
            update={"attributes": {**item.attributes, "semantic_id": tuple(index[item.key])}}
        )
        for item in catalog.items
    ]
    return replace(catalog, items=items)


def _read_sequences(path: Path) -> dict[str, list[str]]:
    require_file(path, "sequence file", FIX)
    if path.suffix == ".json":
        sequences = read_json(path, FIX)
        if not isinstance(sequences, dict) or not all(
            isinstance(s, list) for s in sequences.values()
        ):
            raise DatasetError(f"{path} must be a JSON object user -> list of item ids ({FIX})")
        return {str(user): [str(item) for item in items] for user, items in sequences.items()}
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, PermissionError) as error:
        raise DatasetError(f"cannot read {path} as UTF-8 text ({FIX})") from error
    lines = [line.split() for line in text.splitlines() if line.strip()]
    return {parts[0]: parts[1:] for parts in lines}


def _sorted_keys(keys) -> list[str]:
    """Numeric ids in numeric order (0, 1, 2, ...), other ids as text."""
    keys = list(keys)
    return sorted(keys, key=int) if all(key.isdigit() for key in keys) else sorted(keys)


def load_semantic_ids(path: Path, *, name: str, protocol: str = "loo") -> Dataset:
    """Dataset whose items carry attributes['semantic_id'] (tuple of code tokens)."""
    index_file, sequence_file = _find_files(path)
    index = _read_index(index_file)
    keys = _sorted_keys(index)
    codes = [tuple(index[key]) for key in keys]
    titles, categories = _read_items(index_file, keys)
    catalog = make_catalog(
        name,
        keys,
        titles or ["".join(code) for code in codes],
        categories=categories,
        attributes=[{"semantic_id": code} for code in codes],
    )
    sequences = _read_sequences(sequence_file)
    users = np.repeat(list(sequences), [len(items) for items in sequences.values()])
    items = [item for sequence in sequences.values() for item in sequence]
    positions = np.concatenate([np.arange(len(s)) for s in sequences.values()]) if items else []
    interactions = make_interactions(
        catalog, users, items, timestamps=positions, source=sequence_file
    )
    levels = sorted({len(code) for code in codes})
    meta = {
        "format": "semantic_ids",
        "source": str(path),
        "protocol": protocol,
        "code_levels": levels,
    }
    meta["duplicate_codes"] = len(codes) - len(set(codes))
    return Dataset(name=name, catalog=catalog, interactions=interactions, meta=meta)


def _read_items(index_file: Path, keys: list[str]):
    """(titles, categories) from `<stem>.items.json` beside the index, or (None, None)."""
    path = index_file.with_name(index_file.name.removesuffix(".index.json") + ".items.json")
    if not path.exists():
        return None, None
    items = read_json(path, "expected item id -> {title, categories}")
    missing = [
        key
        for key in keys
        if not isinstance(items.get(key) if isinstance(items, dict) else None, dict)
    ]
    if missing:
        raise DatasetError(
            f"{path} lacks items of {index_file.name}, e.g. {missing[:3]} (item id -> {{title, categories}})"
        )
    titles = [str(items[key].get("title") or key) for key in keys]
    return titles, [tuple(map(str, items[key].get("categories") or ())) for key in keys]


def _sequences_of(interactions) -> dict[str, list[str]]:
    """User -> item ids (dense) in time order (stable for equal timestamps)."""
    frame = interactions.frame.sort_values(["user", "timestamp"], kind="stable")
    return {str(user): items.tolist() for user, items in frame.groupby("user", sort=False)["item"]}


def write_semantic_id_folder(
    dataset: Dataset, tokens: Sequence[Sequence[str]], folder: Path, stats: dict | None = None
) -> Path:
    """Write `<name>.index.json`, `.inter.json`, `.items.json` (and `.stats.json`) to folder.

    Args:
        tokens: row i = code tokens of catalog item i (coarse first).
    Returns the index file; `load_dataset(folder)` reads the dataset back (leave-one-out).
    """
    catalog = dataset.catalog
    if len(tokens) != len(catalog):
        raise DatasetError(f"got codes for {len(tokens)} items, catalog has {len(catalog)}")
    keys = [item.key for item in catalog.items]
    sequences = {
        user: [keys[item] for item in items]
        for user, items in _sequences_of(dataset.interactions).items()
    }
    items = {
        item.key: {"title": item.title, "categories": list(item.categories)}
        for item in catalog.items
    }
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "index": {key: list(row) for key, row in zip(keys, tokens, strict=True)},
        "inter": sequences,
        "items": items,
        **({"stats": stats} if stats is not None else {}),
    }
    for suffix, payload in files.items():
        _write_json(folder / f"{dataset.name}.{suffix}.json", payload)
    return folder / f"{dataset.name}.index.json"


def _write_json(path: Path, payload) -> None:
    staging = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    staging.write_text(json.dumps(payload, indent=None), encoding="utf-8")
    os.replace(staging, path)
