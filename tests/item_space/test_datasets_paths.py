"""One shared-data lookup: every loader finds ../shared/data through datasets.paths."""

from __future__ import annotations

import ast
from pathlib import Path

from recagora.item_space.datasets import paths
from recagora.item_space.datasets.paths import shared_data_dir

REPO = Path(__file__).resolve().parents[2]


def test_the_environment_wins_else_the_folder_beside_the_repo(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.SHARED_DATA_ENV, str(tmp_path))
    assert shared_data_dir() == tmp_path.resolve()
    monkeypatch.delenv(paths.SHARED_DATA_ENV)
    assert shared_data_dir() == (REPO.parent / "shared" / "data").resolve()


def test_the_paper_loader_uses_the_same_lookup():
    from recagora.item_space import papers

    assert papers.shared_data_dir is shared_data_dir


def test_no_other_module_builds_the_shared_data_path_itself():
    """A second lookup drifted before (papers.py resolved it from its own file location)."""
    offenders = []
    code = ("item_space", "agents", "training", "environments", "experiments", "benchmarks")
    for path in (p for folder in code for p in (REPO / folder).rglob("*.py")):
        if path == Path(paths.__file__).resolve():
            continue
        tree = ast.parse(path.read_text())
        strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
        if {"shared", "RECAGORA_SHARED_DATA"} & strings:
            offenders.append(str(path.relative_to(REPO)))
    assert offenders == []
