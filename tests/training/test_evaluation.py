"""Per-sample outcomes of the evaluation report, their CSV, and the beam settings it records."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Sample
from recagora.training.evaluation import (
    evaluate_checkpoint,
    evaluate_rankings,
    read_samples,
    samples_path,
    write_report,
)
from recagora.training.registry import make_trainer


@pytest.fixture(scope="module")
def trained_run(small_world, tmp_path_factory):
    catalog, train = small_world
    run = tmp_path_factory.mktemp("run")
    overrides = [f"output_dir={run}", "max_steps=3", "batch_size=8", "micro_batch_size=8",
                 "progress=false", "backbone.tiny_n_layer=1", "backbone.tiny_n_embd=32",
                 "backbone.tiny_n_head=2", "backbone.tiny_vocab_size=600", "prompt.max_history=3"]  # fmt: skip
    make_trainer("sft", catalog, train, overrides=overrides).train()
    return run


def test_hit_ranks_follow_title_units_and_round_trip_through_the_csv(toy_catalog, tmp_path):
    catalog = toy_catalog(["A", "B", "C", "C"])  # items 2 and 3 share a title: one unit
    train = [Sample("u", (0, 0, 1), 2)]  # history counts 2, 1, 0: two groups
    samples = [Sample("x", (0,), 1), Sample("y", (1,), 3), Sample("z", (2,), 0)]
    ranked = np.array([[0, 1, 2], [2, 0, -1], [1, 2, -1]])
    report = evaluate_rankings(ranked, samples, catalog, train, n_groups=2)
    assert report.per_sample["hit_rank"].tolist() == [2, 1, 0]  # y's target 3 = title of item 2
    assert report["HR@3"] == pytest.approx(2 / 3)
    path = write_report(report, tmp_path / "eval_test.json")
    assert json.loads(path.read_text())["samples"] == 3.0
    saved = read_samples(samples_path(path))
    assert saved["user"].tolist() == ["x", "y", "z"] and saved["target"].tolist() == [1, 3, 0]
    assert saved["hit_rank"].tolist() == [2, 1, 0] and saved["ranked"].tolist() == ranked.tolist()


def test_a_plain_metrics_dict_writes_no_sample_file(tmp_path):
    write_report({"HR@10": 0.5}, tmp_path / "report.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_checkpoint_evaluation_keeps_per_sample_hits_and_its_beam_settings(
    trained_run, small_world
):
    catalog, train = small_world
    samples = train[-12:]
    report = evaluate_checkpoint(trained_run, catalog, samples, train, 5, length_penalty=1.0)
    ranks = report.per_sample["hit_rank"]
    assert report["num_beams"] == 5.0 and report["length_penalty"] == 1.0
    assert report.per_sample["ranked"].shape == (12, 5)
    assert report["HR@5"] == pytest.approx(np.mean(ranks > 0))
    assert report["HR@1"] == pytest.approx(np.mean(ranks == 1))


def test_a_zero_beam_evaluation_is_a_config_error_before_loading(small_world):
    catalog, train = small_world
    with pytest.raises(ConfigError, match="num_beams must be at least 1"):
        evaluate_checkpoint("/nonexistent", catalog, train[:2], train, num_beams=0)
