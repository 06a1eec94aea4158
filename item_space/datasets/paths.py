"""Where datasets live: the shared data folder, the parse cache, and file checks."""

from __future__ import annotations

import os
from pathlib import Path

from recagora.item_space.errors import DatasetError

SHARED_DATA_ENV = "RECAGORA_SHARED_DATA"


def _repo_root_candidates() -> list[Path]:
    """Folders that may be the repository root: above this package, then the cwd."""
    package_root = Path(__file__).resolve().parents[2]  # item_space/datasets/paths.py -> repo
    return [package_root, Path.cwd().resolve()]


def shared_data_dir() -> Path:
    """The shared data folder: $RECAGORA_SHARED_DATA, else `<repo root>/../shared/data`.

    The repo root is found from this package's location (editable install) and, failing
    that, from the current directory (or any of its parents).
    """
    if os.environ.get(SHARED_DATA_ENV):
        return Path(os.environ[SHARED_DATA_ENV]).expanduser().resolve()
    for root in _repo_root_candidates():
        for folder in (root, *root.parents):
            candidate = folder.parent / "shared" / "data"
            if (folder / "pyproject.toml").exists() and candidate.is_dir():
                return candidate
    return _repo_root_candidates()[0].parent / "shared" / "data"


def cache_dir() -> Path:
    """Where parsed datasets are cached: `<cache root>/datasets`, like every other cache
    (the root is $RECAGORA_CACHE_DIR, else the user cache dir)."""
    from recagora.item_space.embedding import cache_dir as cache_root

    return cache_root() / "datasets"


def require_file(path: Path, what: str, fix: str) -> Path:
    """Return `path` if it is a non-empty file, else raise a one-line DatasetError."""
    if not path.is_file():
        raise DatasetError(f"{what} not found: {path} ({fix})")
    if path.stat().st_size == 0:
        raise DatasetError(f"{what} is empty: {path} ({fix})")
    return path


def require_dir(path: Path, what: str, fix: str) -> Path:
    """Return `path` if it is a folder, else raise a one-line DatasetError."""
    if not path.is_dir():
        raise DatasetError(f"{what} not found: {path} ({fix})")
    return path
