"""One run = one folder: `runs/<scenario>-<UTC timestamp>-<short config hash>/`.

Layout (every scenario writes the same files):

    config.yaml         the resolved config (`recagora run --config` reads it back)
    manifest.json       seed, git commit, package versions, command line, status
    events.jsonl        append-only event log, one round at a time (see events.py)
    metrics.parquet     per-round metrics (also metrics.csv)
    llm_ledger.json     tokens, calls, cache hits and cost of the LLM layer
    summary.json        overall metrics and where the run stands
    plots/*.png         per-round plots
    checkpoint.sqlite   LangGraph's checkpoints (what `--resume` continues from)
    run.lock            held (flock) by the process running the run; holds its PID

The runs root is `./runs` unless `--runs-dir` or `RECAGORA_RUNS_DIR` says otherwise.
A run is identified by the `run_id` in its manifest, not by its folder name, so a
renamed or moved folder still resumes its own checkpoint.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from recagora.item_space.errors import RecAgoraError, did_you_mean


class RunNotFound(RecAgoraError):
    """A run name or path given on the command line does not exist."""


class RunFolderError(RecAgoraError):
    """A run folder cannot be made, or one of its files is unreadable or corrupt."""


class RunLocked(RecAgoraError):
    """Another process is running this run (its PID is named)."""


def runs_root(explicit: str | Path | None = None) -> Path:
    """The folder holding run folders (explicit > $RECAGORA_RUNS_DIR > ./runs)."""
    return Path(explicit or os.environ.get("RECAGORA_RUNS_DIR") or "runs")


@dataclass(frozen=True)
class RunFolder:
    """Paths of one run's files (the folder exists once `create` or `open` returned)."""

    path: Path

    @classmethod
    def create(cls, root: Path, scenario: str, resolved_config: dict[str, Any]) -> RunFolder:
        """Make a fresh run folder named after the scenario, the time and the config hash."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        digest = hashlib.sha1(
            json.dumps(resolved_config, sort_keys=True, default=str).encode()
        ).hexdigest()[:7]
        path = Path(root) / f"{scenario}-{stamp}-{digest}"
        suffix = 1
        while path.exists():  # two runs of one config within a second
            path = Path(root) / f"{scenario}-{stamp}-{digest}-{suffix}"
            suffix += 1
        try:
            (path / "plots").mkdir(parents=True)
        except OSError as error:
            raise RunFolderError(
                f"cannot create a run folder under {str(root)!r}: {_os_reason(error)} "
                "(pick another --runs-dir or RECAGORA_RUNS_DIR)"
            ) from None
        return cls(path)

    @classmethod
    def open(cls, name_or_path: str | Path, root: Path | None = None) -> RunFolder:
        """Find a run by path, by folder name under `root`, or by a unique name prefix."""
        candidate = Path(name_or_path)
        if (candidate / "manifest.json").is_file():
            return cls(candidate)
        root = runs_root(root)
        names = (
            sorted(p.name for p in root.glob("*") if (p / "manifest.json").is_file())
            if root.is_dir()
            else []
        )
        matches = [n for n in names if n.startswith(str(name_or_path))]
        if len(matches) == 1:
            return cls(root / matches[0])
        if len(matches) > 1:
            raise RunNotFound(
                f"run {str(name_or_path)!r} is ambiguous ({len(matches)} runs match); give more of the name"
            )
        hint = (
            did_you_mean(str(name_or_path), names)
            or f" (see `recagora runs list`, root {str(root)!r})"
        )
        raise RunNotFound(f"no run {str(name_or_path)!r}{hint}")

    @property
    def name(self) -> str:
        return self.path.name

    config_path = property(lambda self: self.path / "config.yaml")
    manifest_path = property(lambda self: self.path / "manifest.json")
    events_path = property(lambda self: self.path / "events.jsonl")
    metrics_parquet = property(lambda self: self.path / "metrics.parquet")
    metrics_csv = property(lambda self: self.path / "metrics.csv")
    ledger_path = property(lambda self: self.path / "llm_ledger.json")
    summary_path = property(lambda self: self.path / "summary.json")
    checkpoint_path = property(lambda self: self.path / "checkpoint.sqlite")
    plots_dir = property(lambda self: self.path / "plots")

    lock_path = property(lambda self: self.path / "run.lock")

    def read_manifest(self) -> dict[str, Any]:
        return self._read_mapping(self.manifest_path, json.loads)

    def read_summary(self) -> dict[str, Any]:
        if not self.summary_path.is_file():
            return {}
        return self._read_mapping(self.summary_path, json.loads)

    def read_config(self) -> dict[str, Any]:
        return self._read_mapping(self.config_path, yaml.safe_load)

    def run_id(self) -> str:
        """The id the run's checkpoint thread is keyed by (older runs: their folder name)."""
        return str(self.read_manifest().get("run_id") or self.name)

    def _read_mapping(self, path: Path, parse) -> dict[str, Any]:
        try:
            value = parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunFolderError(f"run {self.name!r} has no {path.name}") from None
        except (OSError, ValueError, yaml.YAMLError) as error:
            reason = _os_reason(error) if isinstance(error, OSError) else "not valid"
            raise RunFolderError(
                f"{path} is unreadable ({reason}); the run cannot be used"
            ) from None
        if not isinstance(value, dict):
            raise RunFolderError(f"{path} is corrupt (not a mapping); the run cannot be used")
        return value

    def write_json(self, path: Path, payload: dict[str, Any]) -> None:
        """Write JSON atomically (temp file + rename), so a kill never leaves half a file."""
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(json.dumps(payload, indent=2, default=str))
        temporary.replace(path)


def new_run_id() -> str:
    """A fresh run id for a new run's manifest."""
    return uuid.uuid4().hex


class RunLock:
    """Exclusive lock on a run folder for the life of one process (`flock` on run.lock).

    The kernel drops the lock when the process dies, even by SIGKILL, so a killed run is
    never left locked; the file keeps the holder's PID so a refusal can name it.
    """

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder
        self._handle = None

    def acquire(self) -> RunLock:
        try:
            handle = self.folder.lock_path.open("a+", encoding="utf-8")
        except OSError as error:
            raise RunFolderError(
                f"cannot lock run {self.folder.name!r}: {_os_reason(error)}"
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise RunFolderError(f"cannot lock run {self.folder.name!r}: {error}") from None
            raise RunLocked(
                f"run {self.folder.name!r} is being run by process {holder}; "
                "wait for it to end or stop it, then resume"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor drops the flock
            self._handle = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def _os_reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def list_runs(root: Path | None = None) -> list[RunFolder]:
    """Every run folder under the root, oldest first."""
    root = runs_root(root)
    if not root.is_dir():
        return []
    return [RunFolder(p) for p in sorted(root.iterdir()) if (p / "manifest.json").is_file()]
