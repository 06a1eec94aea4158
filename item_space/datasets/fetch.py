"""Fetch a registered dataset from its public source: pinned checksums, resume, conversion.

A `FetchRecipe` names the files of one dataset: where each comes from (a public Git
repository at a pinned commit, read through a raw-file host), the SHA-256 of the file the
loaders read, and an optional conversion from the source's layout to that file. `fetch`
downloads each missing file into `<data home>/<folder>/` (`$RECAGORA_DATA_DIR`, else
`<cache root>/data`):

- a transfer is written to `<file>.part` and resumed with an HTTP Range request when it
  was interrupted (a server that ignores Range restarts it from the first byte);
- the finished (and converted) file must match its pinned SHA-256, else it is removed and
  the error names the source address;
- a file already present with the right checksum is not downloaded again.

Written with the standard library's `urllib` rather than a download library: what is
needed (Range resume, a streamed hash, a progress callback) is a few lines, and no
dependency is added for it.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recagora.item_space.errors import DatasetError

DATA_DIR_ENV = "RECAGORA_DATA_DIR"
RAW_HOST = "https://raw.githubusercontent.com"
CHUNK = 1 << 16
TIMEOUT_S = 60

Progress = Callable[[str, int, int | None], None]  # (file name, bytes done, bytes total)


class FetchError(DatasetError):
    """A download failed, was refused, or did not match its pinned checksum."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its public source and the checksum of what the loaders read.

    name: the file's name in the dataset folder (the loaders' layout).
    repo, commit, path: where it lives (`<host>/<repo>/<commit>/<path>`).
    sha256: of the file as the loaders read it, i.e. after `convert` when there is one.
    convert: (downloaded path, output path) -> None, or None to keep the file as it came.
    """

    name: str
    repo: str
    commit: str
    path: str
    sha256: str
    convert: Callable[[Path, Path], None] | None = None

    def url(self, host: str = RAW_HOST) -> str:
        return f"{host.rstrip('/')}/{self.repo}/{self.commit}/{self.path}"


@dataclass(frozen=True)
class FetchRecipe:
    """How to get one registered dataset: its folder name, files and licence note."""

    dataset: str
    folder: str
    files: tuple[RemoteFile, ...]
    source: str  # a line naming the public source, shown by `recagora data list`
    licence: str


def data_home() -> Path:
    """Where fetched datasets go: $RECAGORA_DATA_DIR, else `<cache root>/data`."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from recagora.item_space.embedding import cache_dir

    return cache_dir() / "data"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    recipe: FetchRecipe,
    *,
    root: Path | None = None,
    host: str = RAW_HOST,
    progress: Progress | None = None,
    force: bool = False,
) -> Path:
    """Download (or resume) every file of `recipe` into `<root>/<folder>`; returns the folder."""
    folder = (root or data_home()) / recipe.folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create {folder}: {exc.strerror or exc}") from None
    for remote in recipe.files:
        target = folder / remote.name
        if not force and target.is_file() and sha256_of(target) == remote.sha256:
            continue
        _fetch_file(remote, target, host, progress)
    return folder


def _fetch_file(remote: RemoteFile, target: Path, host: str, progress: Progress | None) -> None:
    url = remote.url(host)
    part = target.with_name(target.name + ".part")
    _download(url, part, remote.name, progress)
    if remote.convert:
        converted = target.with_name(target.name + ".converted")
        try:
            remote.convert(part, converted)
        except (OSError, ValueError, KeyError) as exc:
            part.unlink(missing_ok=True)
            converted.unlink(missing_ok=True)
            raise FetchError(f"{url} could not be converted to {remote.name}: {exc}") from None
        part.unlink()
        part = converted
    actual = sha256_of(part)
    if actual != remote.sha256:
        part.unlink()
        raise FetchError(
            f"{url}: SHA-256 {actual[:12]}... does not match the pinned {remote.sha256[:12]}...; "
            "the file was removed (the source changed or the transfer was corrupted)"
        )
    part.replace(target)


def _download(url: str, part: Path, name: str, progress: Progress | None) -> None:
    """Stream `url` into `part`, resuming from its current size with a Range request."""
    done = part.stat().st_size if part.exists() else 0
    total: int | None = None
    request = urllib.request.Request(url, headers={"Range": f"bytes={done}-"} if done else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            if done and response.status != 206:  # the server ignored Range: start over
                done = 0
            total = _total(response, done)
            with part.open("ab" if done else "wb") as out:
                while block := response.read(CHUNK):
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(name, done, total)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and done:  # nothing left to send: the partial file is whole
            return
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise FetchError(
            f"{url}: transfer failed ({reason}); run the same command again to resume"
        ) from None
    if total is not None and done < total:  # the server closed early: keep the part, resume later
        raise FetchError(
            f"{url}: transfer interrupted at {done:,} of {total:,} bytes; "
            "run the same command again to resume"
        )


def _total(response, done: int) -> int | None:
    length = response.headers.get("Content-Length")
    return done + int(length) if length and length.isdigit() else None
