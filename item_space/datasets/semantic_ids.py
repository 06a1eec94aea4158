"""Items with semantic IDs and chronological user sequences (MindRec's Amazon "Games").

Semantic IDs: Wang et al., "Learnable Item Tokenization for Generative Recommendation"
(LETTER, CIKM 2024), as used by MindRec. `<name>.index.json` maps item id -> code tokens
(coarse first); `<name>.inter.json` maps user id -> item ids in time order (or
`user_sequence.txt`: `user item item ...`). No titles ship, so an item's title is its
token string (made unique where two items share a code, see build.unique_titles);
timestamps are sequence positions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recagora.item_space.datasets.build import make_catalog, make_interactions, read_json
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.paths import require_file, shared_data_dir
from recagora.item_space.datasets.registry import DatasetSource
from recagora.item_space.errors import DatasetError

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
    return {str(key): [str(code) for code in codes] for key, codes in index.items()}


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
    catalog = make_catalog(
        name,
        keys,
        ["".join(code) for code in codes],
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
