"""Real TriRec run folders made by the CLI (fake: LLM, 4 users, 2 rounds), shared by the
report tests of this package: `small_run` (surrogate users and items: every ad is logged)
and `llm_run` (LLM item agents: the ledger has calls)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# --import-mode=importlib puts no test folder on sys.path; report_helpers lives here.
sys.path.insert(0, str(Path(__file__).parent))

from report_helpers import make_run  # noqa: E402


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("report-runs")


@pytest.fixture(scope="session")
def small_run(runs_dir):
    return make_run(runs_dir, "--agents", "user=surrogate,item=surrogate")


@pytest.fixture(scope="session")
def llm_run(runs_dir):
    return make_run(runs_dir, "--agents", "user=surrogate,item=llm")
