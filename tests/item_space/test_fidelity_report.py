"""The report's JSON is strict, and the plots are written."""

import json

import pytest

from recagora.item_space.datasets import load_dataset
from recagora.item_space.fidelity import PopularityUserModel, SuiteConfig, run_suite
from recagora.item_space.fidelity.plots import save_plots
from recagora.item_space.fidelity.report import (
    fitted_notes,
    headline_choice,
    rating_source,
    to_json,
)


class Weighted(PopularityUserModel):
    """Popularity with a fit summary, as the hybrid user reports its validation-picked w."""

    name = "weighted"

    def fit_summary(self) -> dict:
        return {"weight": 0.5, "validation_log_likelihood": {"0.0": -2.0, "0.5": -1.9}}


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


def test_a_models_fit_summary_is_reported_and_its_weight_captioned(report):
    assert report["fitted"] == {} and fitted_notes(report) == ""  # the baselines have none
    dataset = load_dataset("ml-100k")
    models = {"weighted": lambda split: Weighted(split, len(dataset.catalog))}
    config = SuiteConfig(users=20, seed=0, folds=False, ks=(5,), ratios=(1,))
    weighted = run_suite(dataset, dataset.split("loo"), models, config)
    assert weighted["fitted"] == {"weighted": Weighted.fit_summary(None)}
    assert json.loads(to_json(weighted))["fitted"]["weighted"]["weight"] == 0.5
    assert fitted_notes(weighted) == "weighted w = 0.5 (picked on validation)"


def test_plots_are_png_files(report, tmp_path):
    paths = save_plots(report, tmp_path)
    names = sorted(path.name for path in paths)
    assert names == [
        "discrimination.png",
        "popularity_groups.png",
        "ratings.png",
        "reliability_popularity.png",
        "reliability_random.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp"))
