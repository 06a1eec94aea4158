"""Helpers of the report tests (imported by name: conftest.py puts this folder on sys.path)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from recagora.experiments.cli.main import main

SMALL_RUN = [
    "run",
    "trirec",
    "--llm",
    "fake:",
    "--users",
    "4",
    "--rounds",
    "2",
    "--seed",
    "0",
    "--set",
    "user_fit.max_train_samples=2000",
    "--quiet",
]


def make_run(runs_dir: Path, *extra: str) -> Path:
    """Run SMALL_RUN (plus `extra` flags) into `runs_dir`; returns the new run folder."""
    before = set(runs_dir.iterdir()) if runs_dir.exists() else set()
    assert main([*SMALL_RUN, *extra, "--runs-dir", str(runs_dir)]) == 0
    (folder,) = set(runs_dir.iterdir()) - before
    return folder


def page_of(html_path: Path) -> dict:
    """The JSON the report page renders (its `report-data` script element)."""
    html = html_path.read_text(encoding="utf-8")
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S
    )
    assert found, "no report-data element"
    return json.loads(found.group(1))


def section(page: dict, section_id: str) -> dict:
    return next(s for s in page["sections"] if s["id"] == section_id)
