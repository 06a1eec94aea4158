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

The runs root is `./runs` unless `--runs-dir` or `RECAGORA_RUNS_DIR` says otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from recagora.item_space.errors import RecAgoraError, did_you_mean


class RunNotFound(RecAgoraError):
    """A run name or path given on the command line does not exist."""


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
        (path / "plots").mkdir(parents=True)
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

    def read_manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text())

    def read_summary(self) -> dict[str, Any]:
        return json.loads(self.summary_path.read_text()) if self.summary_path.is_file() else {}

    def read_config(self) -> dict[str, Any]:
        return yaml.safe_load(self.config_path.read_text())

    def write_json(self, path: Path, payload: dict[str, Any]) -> None:
        """Write JSON atomically (temp file + rename), so a kill never leaves half a file."""
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(json.dumps(payload, indent=2, default=str))
        temporary.replace(path)


def list_runs(root: Path | None = None) -> list[RunFolder]:
    """Every run folder under the root, oldest first."""
    root = runs_root(root)
    if not root.is_dir():
        return []
    return [RunFolder(p) for p in sorted(root.iterdir()) if (p / "manifest.json").is_file()]
