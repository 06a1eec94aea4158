"""Checks of command-line input made before any work starts (paths, model names).

A command that writes a folder (`--output-dir`, `--out`) checks here that it can,
so that a path that is a file, lies under /proc or in a read-only folder is refused
in one line before a dataset is parsed or a model loaded, and nothing is created.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from recagora.item_space.errors import ConfigError, did_you_mean


def check_output_dir(path: str | Path, option: str) -> Path:
    """`path` as a folder we can create or write into (nothing is left behind).

    Raises:
        ConfigError: `path` is a file, or its nearest existing ancestor takes no writes.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {str(path)!r} is a file, not a folder; pick a folder")
    _probe_writable(_nearest_existing(path), path, option)
    return path


def check_output_file(path: str | Path, option: str) -> Path:
    """`path` as a file we can write (its folder may not exist yet)."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{option} {str(path)!r} is a folder; give a file name")
    _probe_writable(_nearest_existing(path.parent), path, option)
    return path


def _nearest_existing(path: Path) -> Path:
    current = path.absolute()
    while not current.exists():
        current = current.parent
    return current


def _probe_writable(existing: Path, wanted: Path, option: str) -> None:
    """Create and remove a temporary folder in `existing`: the only honest test (root
    passes `os.access` on read-only folders, and /proc refuses only a real mkdir)."""
    if not existing.is_dir():
        raise ConfigError(
            f"{option} {str(wanted)!r} lies under the file {str(existing)!r}; pick a folder"
        )
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".recagora-probe-", dir=existing))
    except OSError as error:
        raise ConfigError(
            f"{option} {str(wanted)!r} cannot be written ({error.strerror} in {str(existing)!r}); "
            "pick a writable folder"
        ) from None


def check_local_model(name: str, builtins: tuple[str, ...], option: str) -> None:
    """`name` is built in, a local model folder, or an HF id already cached (we load offline)."""
    if name in builtins or Path(name).is_dir():
        return
    if name.count("/") == 1 and not name.startswith((".", "/")):
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(name, "config.json"), str):
            return
    raise ConfigError(
        f"{option} {name!r} is neither built in ({', '.join(builtins)}), a local model folder, "
        f"nor in the Hugging Face cache{did_you_mean(name, builtins)}"
    )
