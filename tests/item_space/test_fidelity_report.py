"""The report's JSON is strict, and the plots are written."""

import json

import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.fidelity import SuiteConfig, run_suite
from recagora.item_space.fidelity.plots import save_plots
from recagora.item_space.fidelity.report import headline_choice, rating_source, to_json


@pytest.fixture(scope="module")
def report():
    dataset = load_dataset("ml-100k")
    return run_suite(dataset, dataset.split("loo"), {}, SuiteConfig(users=60, seed=0))


def test_json_is_strict_and_nan_becomes_null(report):
    report = {**report, "extra": float("nan")}
    parsed = json.loads(to_json(report))
    assert parsed["extra"] is None
    assert parsed["choice"]["K10-popularity"]["random"]["reliability"]["count"][1] == 60


def test_headline_and_rating_source(report):
    assert headline_choice(report) == "K10-popularity"
    assert rating_source(report) == "u1..u5 folds (mean)"


def test_plots_are_png_files(report, tmp_path):
    paths = save_plots(report, tmp_path)
    names = sorted(path.name for path in paths)
    assert names == [
        "popularity_groups.png",
        "ratings.png",
        "reliability_popularity.png",
        "reliability_random.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp"))
