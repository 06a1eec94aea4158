"""The run manifest: what is needed to reproduce a run (seed, commit, versions, command)."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Packages whose versions change results; recorded in every manifest.
TRACKED_PACKAGES = (
    "recagora",
    "numpy",
    "pandas",
    "torch",
    "faiss-cpu",
    "sentence-transformers",
    "transformers",
    "langgraph",
    "langgraph-checkpoint-sqlite",
    "langchain-core",
    "openai",
    "llama-cpp-python",
    "pydantic",
)


def build_manifest(scenario: str, seed: int, argv: list[str] | None = None) -> dict[str, Any]:
    """Manifest dict for a new run; `status` starts as "running"."""
    return {
        "scenario": scenario,
        "seed": seed,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command_line": " ".join(argv if argv is not None else sys.argv),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "status": "running",
    }


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed version of each package, "absent" when not installed."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def git_commit(repo: Path | None = None) -> str:
    """HEAD commit of the source checkout (+"-dirty" when tracked files changed), or "unknown"."""
    cwd = repo or Path(__file__).resolve().parents[2]
    try:
        head = _git(cwd, "rev-parse", "HEAD")
        dirty = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
    )
    return done.stdout.strip()
