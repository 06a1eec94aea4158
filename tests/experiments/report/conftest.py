"""Real TriRec run folders made by the CLI (fake: LLM, 4 users, 2 rounds), shared by the
report tests of this package: `small_run` (surrogate users and items: every ad is logged)
and `llm_run` (LLM item agents: the ledger has calls)."""

from __future__ import annotations

import pytest

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


def make_run(runs_dir, *extra: str):
    """Run SMALL_RUN (plus `extra` flags) into `runs_dir`; returns the new run folder."""
    before = set(runs_dir.iterdir()) if runs_dir.exists() else set()
    assert main([*SMALL_RUN, *extra, "--runs-dir", str(runs_dir)]) == 0
    (folder,) = set(runs_dir.iterdir()) - before
    return folder


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("report-runs")


@pytest.fixture(scope="session")
def small_run(runs_dir):
    return make_run(runs_dir, "--agents", "user=surrogate,item=surrogate")


@pytest.fixture(scope="session")
def llm_run(runs_dir):
    return make_run(runs_dir, "--agents", "user=surrogate,item=llm")
