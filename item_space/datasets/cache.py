"""On-disk cache of parsed datasets, keyed by file paths, sizes and mtimes.

Parsing the Amazon CSVs (Python-literal list columns) takes seconds; a pickle of the
parsed `Dataset` loads in a fraction of that. The key also covers this package's own
source files, so editing a loader invalidates old entries.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.datasets.paths import cache_dir

CACHE_FORMAT_VERSION = 1
MIN_PARSE_SECONDS = 0.3  # faster loads are not worth a cache file
log = logging.getLogger(__name__)


def _files_of(path: Path, options: dict[str, Any]) -> list[Path]:
    files = (
        sorted(child for child in path.iterdir() if child.is_file()) if path.is_dir() else [path]
    )
    files += [
        Path(value)
        for value in options.values()
        if isinstance(value, str | Path) and Path(value).is_file()
    ]
    files += sorted(Path(__file__).parent.glob("*.py"))
    files += sorted(Path(__file__).parents[1].glob("types.py"))
    return files


def cache_key(format: str, path: Path, name: str, options: dict[str, Any]) -> str:
    """Hex digest over format, name, options and (path, size, mtime) of every input file."""
    digest = hashlib.sha256(
        f"{CACHE_FORMAT_VERSION}|{format}|{name}|{sorted(options.items())!r}".encode()
    )
    for file in _files_of(path, options):
        stat = file.stat()
        digest.update(f"|{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def cached(
    load: Callable[[], Dataset], format: str, path: Path, name: str, options: dict[str, Any]
) -> Dataset:
    """Return the cached parse of these files, or run `load()` and cache its result."""
    target = cache_dir() / f"{name}-{cache_key(format, path, name, options)}.pkl"
    dataset = _read(target)
    if dataset is not None:
        return dataset
    started = time.perf_counter()
    dataset = load()
    if time.perf_counter() - started >= MIN_PARSE_SECONDS:
        _write(target, dataset)
    return dataset


def _read(target: Path) -> Dataset | None:
    if not target.is_file():
        return None
    try:
        with target.open("rb") as handle:
            dataset = pickle.load(handle)
    except Exception as error:  # a stale or truncated cache is simply re-parsed
        log.warning("ignoring unreadable dataset cache %s: %s", target, error)
        return None
    return dataset if isinstance(dataset, Dataset) else None


def _write(target: Path, dataset: Dataset) -> None:
    """Write atomically (temp file + rename); a cache that cannot be written is skipped."""
    temporary = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".tmp", delete=False) as handle:
            temporary = Path(handle.name)
            pickle.dump(dataset, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, target)
    except (OSError, pickle.PicklingError) as error:
        log.warning("cannot write dataset cache %s: %s", target, error)
        if temporary is not None:
            temporary.unlink(missing_ok=True)
