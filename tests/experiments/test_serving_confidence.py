"""Serving a UGR checkpoint by its confidence (candidates.recommender_order / _reject)."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.environments.trirec.config import CandidateConfig, TrirecConfig
from recagora.experiments.cli.main import main
from recagora.experiments.wiring import load_served
from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Catalog, Item, Sample
from recagora.training.registry import make_trainer
from recagora.training.ugr_confidence import rejected_users, rerank_by_confidence

TINY = [
    "max_steps=4",
    "batch_size=8",
    "micro_batch_size=8",
    "learning_rate=3e-3",
    "warmup_steps=1",
    "progress=false",
    "backbone.tiny_n_layer=1",
    "backbone.tiny_n_embd=32",
    "backbone.tiny_n_head=2",
    "backbone.tiny_vocab_size=600",
    "prompt.max_history=3",
]
CODES = [("<a_0>", "<b_0>"), ("<a_0>", "<b_1>"), ("<a_1>", "<b_0>"), ("<a_1>", "<b_1>")]
CODES += [("<a_2>", "<b_0>"), ("<a_2>", "<b_1>")]
HISTORIES = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [0, 2], [1, 3]]


@pytest.fixture(scope="module")
def semantic_run(tmp_path_factory):
    """(run folder, catalog): a 4-step SFT run on a 6-item semantic-ID catalog (it has
    UGR's confidence tokens, as every semantic-ID checkpoint does)."""
    catalog = Catalog(
        "toy-semids",
        [
            Item(id=i, key=str(i), title="".join(c), attributes={"semantic_id": c})
            for i, c in enumerate(CODES)
        ],
    )
    train = [Sample(user=f"u{i}", history=(i % 6, (i + 1) % 6), target=i % 3) for i in range(48)]
    run = tmp_path_factory.mktemp("semids")
    make_trainer("sft", catalog, train, overrides=[f"output_dir={run}", *TINY]).train()
    return run, catalog


def _trirec(**candidates):
    return TrirecConfig(candidates=CandidateConfig(**candidates))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"recommender_order": "confident"}, "recommender_order must be one of beam, confidence"),
        ({"recommender_reject": 1.0}, r"recommender_reject must be in \[0, 1\), got 1.0"),
        ({"recommender_reject": -0.1}, r"recommender_reject must be in \[0, 1\)"),
    ],
)
def test_bad_confidence_fields_are_refused(fields, message):
    with pytest.raises(ConfigError, match=message):
        _trirec(source="recommender", recommender="runs/x", **fields)


def test_confidence_fields_need_a_served_checkpoint():
    with pytest.raises(ConfigError, match="need a served checkpoint"):
        _trirec(recommender_order="confidence")
    with pytest.raises(ConfigError, match="need a served checkpoint"):
        _trirec(recommender_reject=0.2)
    _trirec(source="recommender", recommender="x", recommender_order="confidence")  # fine


def test_served_by_confidence_reranks_the_beams(semantic_run):
    run, catalog = semantic_run
    popularity = np.arange(len(catalog), dtype=float)
    by_beam = load_served(run, catalog, popularity, num_beams=4)
    served = load_served(run, catalog, popularity, num_beams=4, order="confidence")
    ranked, _, _ = by_beam.model.rank(HISTORIES, num_beams=4)
    confidence = by_beam.model.confidence(HISTORIES, ranked)
    top = np.argsort(-served.score_batch(HISTORIES), axis=1, kind="stable")[:, :4]
    expected = rerank_by_confidence(ranked, confidence)
    np.testing.assert_array_equal(np.where(expected >= 0, top, -1), expected)


@pytest.mark.parametrize("order", ["beam", "confidence"])
def test_the_least_confident_users_get_the_popularity_ranking(semantic_run, order):
    run, catalog = semantic_run
    popularity = np.array([5.0, 0.0, 9.0, 1.0, 7.0, 3.0])
    plain = load_served(run, catalog, popularity, num_beams=4, order=order)
    served = load_served(run, catalog, popularity, num_beams=4, order=order, reject=0.25)
    scores, kept_scores = served.score_batch(HISTORIES), plain.score_batch(HISTORIES)
    # the confidence of the item each user is served first, by hand
    first = np.argmax(kept_scores, axis=1)[:, None]
    confidence = plain.model.confidence(HISTORIES, first)[:, 0]
    rejected = rejected_users(confidence, 0.25)
    assert rejected.sum() == 2 and confidence[rejected].max() <= confidence[~rejected].min()
    by_popularity = np.argsort(-popularity, kind="stable")
    for row in np.flatnonzero(rejected):
        assert np.argsort(-scores[row], kind="stable").tolist() == by_popularity.tolist()
    np.testing.assert_array_equal(scores[~rejected], kept_scores[~rejected])


def test_rejected_users_by_hand():
    confidence = np.array([0.9, 0.1, 0.5, 0.1, 0.7])
    assert rejected_users(confidence, 0.0).tolist() == [False] * 5
    assert rejected_users(confidence, 0.4).tolist() == [False, True, False, True, False]
    assert rejected_users(confidence, 0.99).tolist() == [False, True, True, True, True]


def test_a_checkpoint_without_confidence_is_refused(tmp_path):
    titles = ["alpha", "beta", "gamma", "delta"]
    catalog = Catalog("toy", [Item(id=i, key=str(i), title=t) for i, t in enumerate(titles)])
    train = [Sample(user=f"u{i}", history=(i % 4,), target=2) for i in range(16)]
    make_trainer("sft", catalog, train, overrides=[f"output_dir={tmp_path}", *TINY]).train()
    popularity = np.ones(len(catalog))
    with pytest.raises(ConfigError, match="order=confidence needs"):
        load_served(tmp_path, catalog, popularity, order="confidence")
    with pytest.raises(ConfigError, match="has no UGR confidence tokens"):
        load_served(tmp_path, catalog, popularity, reject=0.2)


@pytest.mark.slow
def test_cli_refuses_confidence_serving_of_a_title_checkpoint(tmp_path, capsys):
    """One line, exit 2, no run folder (the item space is built first: about 30 s of CPU)."""
    from recagora.item_space.datasets import load_dataset

    dataset = load_dataset("ml-100k")
    run = tmp_path / "sft"
    train = dataset.split("loo").train
    make_trainer("sft", dataset.catalog, train, overrides=[f"output_dir={run}", *TINY]).train()
    runs = tmp_path / "runs"
    argv = ["run", "trirec", "--dataset", "ml-100k", "--recommender", str(run), "--quiet"]
    argv += ["--runs-dir", str(runs), "--set", "candidates.recommender_reject=0.2"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "has no UGR confidence tokens" in err and len(err.splitlines()) == 1, err
    assert not runs.exists()
