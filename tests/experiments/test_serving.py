"""Serving a trained checkpoint as the platform's recommender (experiments/wiring.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recagora.environments.trirec.config import CandidateConfig, TrirecConfig
from recagora.experiments.cli.main import main
from recagora.experiments.wiring import (
    check_catalog,
    check_recommender,
    fill_unranked,
    load_served,
    scenario_extras,
    served_scorer,
)
from recagora.item_space.errors import ConfigError, ModelError
from recagora.item_space.types import Catalog
from recagora.training.registry import make_trainer

TINY = [
    "max_steps=3",
    "batch_size=8",
    "micro_batch_size=8",
    "progress=false",
    "backbone.tiny_n_layer=1",
    "backbone.tiny_n_embd=32",
    "backbone.tiny_n_head=2",
    "backbone.tiny_vocab_size=600",
    "prompt.max_history=3",
]


@pytest.fixture(scope="module")
def ml100k():
    from recagora.item_space.datasets import load_dataset

    dataset = load_dataset("ml-100k")
    return dataset, dataset.split("loo")


@pytest.fixture(scope="module")
def sft_run(ml100k, tmp_path_factory):
    """A 3-step tiny-GPT SFT checkpoint on ml-100k's catalog (what `recagora train` writes)."""
    dataset, split = ml100k
    run = tmp_path_factory.mktemp("sft")
    make_trainer(
        "sft", dataset.catalog, split.train, overrides=[f"output_dir={run}", *TINY]
    ).train()
    return run


def test_unreached_items_rank_below_every_beam_by_popularity():
    scores = np.array([[-1.0, -np.inf, -3.0, -np.inf], [-np.inf] * 4])
    filled = fill_unranked(scores, np.array([0.0, 5.0, 0.0, 9.0]))
    # row 0: beams keep their scores; item 3 (popularity 9) before item 1 (5), both below -3
    assert np.argsort(-filled[0], kind="stable").tolist() == [0, 2, 3, 1]
    assert filled[0, 0] == -1.0 and filled[0, 2] == -3.0 and filled[0, 3] < -3.0
    assert np.argsort(-filled[1], kind="stable").tolist() == [3, 1, 0, 2]  # nothing reached


def test_a_served_checkpoint_ranks_exactly_as_evaluate_does(sft_run, ml100k):
    from recagora.training.evaluation import evaluate_checkpoint

    dataset, split = ml100k
    samples = split.test[:12]
    report = evaluate_checkpoint(sft_run, dataset.catalog, samples, split.train, num_beams=10)
    popularity = split.train_interactions.item_counts(len(dataset.catalog))
    served = load_served(sft_run, dataset.catalog, popularity, num_beams=10)
    scores = served.score_batch([s.history for s in samples])
    assert scores.shape == (12, len(dataset.catalog))
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(top, report.per_sample["ranked"])


def test_trirec_gets_candidates_from_the_served_checkpoint(sft_run, ml100k):
    from recagora.environments.trirec.candidates import hard_negative_candidates

    dataset, split = ml100k
    config = TrirecConfig(
        dataset="ml-100k",
        candidates=CandidateConfig(source="recommender", recommender=str(sft_run)),
    )
    factory = scenario_extras(config, {})["candidate_scorer_factory"]
    assert factory is served_scorer
    scorer = factory(config, dataset, split)
    histories = [s.history for s in split.test[:5]]
    targets = np.array([s.target for s in split.test[:5]])
    draw = hard_negative_candidates(
        scorer(histories), histories, targets, 10, np.random.default_rng(0)
    )
    for row, history, target in zip(draw.tolist(), histories, targets.tolist(), strict=True):
        assert row.count(target) == 1 and len(set(row)) == 10 and not set(row) & set(history)


def test_recommender_fields_go_together():
    with pytest.raises(ConfigError, match="needs candidates.recommender"):
        TrirecConfig(candidates=CandidateConfig(source="recommender"))
    with pytest.raises(ConfigError, match="use --recommender"):
        TrirecConfig(candidates=CandidateConfig(recommender="runs/x"))
    with pytest.raises(ConfigError, match="recommender_beams"):
        TrirecConfig(
            candidates=CandidateConfig(source="recommender", recommender="x", recommender_beams=0)
        )


def test_a_checkpoint_of_another_catalog_is_refused_by_size_and_by_titles(sft_run, ml100k):
    dataset, _ = ml100k
    manifest = check_recommender(sft_run)
    check_catalog(sft_run, manifest, dataset.catalog)  # its own catalog passes
    smaller = Catalog("ml-100-items", dataset.catalog.items[:100])
    with pytest.raises(ModelError, match=r"trained on catalog 'ml-100k' \(1682 items\)"):
        check_catalog(sft_run, manifest, smaller)
    first = dataset.catalog.items[0]  # same size, one title changed
    changed = first.model_copy(update={"title": first.title + " (remastered)"})
    renamed = [changed, *dataset.catalog.items[1:]]
    with pytest.raises(ModelError, match="not this run's 'shuffled'"):
        check_catalog(sft_run, manifest, Catalog("shuffled", renamed))


def _corrupt_copy(run, tmp_path):
    import shutil

    copy = tmp_path / "corrupt"
    shutil.copytree(run, copy)
    (copy / "checkpoint" / "weights.safetensors").write_bytes(b"not safetensors")
    return copy


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda run, tmp: tmp / "missing", "does not exist"),
        (_corrupt_copy, "is unreadable"),
        (lambda run, tmp: tmp, "is not a checkpoint"),
    ],
)
def test_bad_recommender_is_one_line_exit_2_and_no_run_folder(
    make_path, message, sft_run, tmp_path, capsys
):
    path = make_path(sft_run, tmp_path)
    runs = tmp_path / "runs"
    argv = ["run", "trirec", "--dataset", "ml-100k", "--recommender", str(path), "--quiet"]
    assert main([*argv, "--runs-dir", str(runs)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not runs.exists()


def test_recommender_conflicts_are_refused(sft_run, tmp_path, capsys):
    argv = ["run", "trirec", "--recommender", str(sft_run), "--candidates", "sasrec"]
    assert main([*argv, "--runs-dir", str(tmp_path / "r")]) == 2
    assert "drop --candidates sasrec" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_trirec_episode_with_a_served_checkpoint_and_a_foreign_one(sft_run, tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = ["run", "trirec", "--agents", "user=surrogate,item=surrogate", "--llm", "fake:"]
    argv += ["--users", "4", "--rounds", "1", "--quiet", "--runs-dir", str(runs)]
    assert main([*argv, "--dataset", "ml-100k", "--recommender", str(sft_run)]) == 0
    (folder,) = runs.iterdir()
    assert "candidates.recommender" in (folder / "config.yaml").read_text() or (
        str(sft_run) in (folder / "config.yaml").read_text()
    )
    assert len(pd.read_parquet(folder / "metrics.parquet")) == 1
    capsys.readouterr()
    other = tmp_path / "other"
    assert main([*argv, "--dataset", "video-games", "--recommender", str(sft_run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "trained on catalog 'ml-100k'" in err and len(err.splitlines()) == 1, err
    assert list(runs.iterdir()) == [folder] and not other.exists()


def test_grounded_shortlist_is_the_served_top_k_without_the_history(sft_run, ml100k):
    from recagora.environments.grounded.config import GroundedConfig
    from recagora.environments.grounded.prepare import _shortlists
    from recagora.experiments.wiring import served_shortlists

    dataset, split = ml100k
    config = GroundedConfig(dataset="ml-100k", recommender=str(sft_run), shortlist_size=5)
    extras = scenario_extras(config, {})
    assert extras["shortlist_factory"] is served_shortlists
    shortlist = _shortlists(config, extras, dataset, split, space=None)
    histories = [s.history for s in split.test[:4]]
    lists = shortlist(histories, 5)
    assert lists.shape == (4, 5)
    for row, history in zip(lists.tolist(), histories, strict=True):
        assert len(set(row)) == 5 and not set(row) & set(history)
    with pytest.raises(ConfigError, match="trained-model wiring"):
        _shortlists(config, {}, dataset, split, space=None)


@pytest.mark.slow
def test_cli_trains_personalised_flower_with_a_sasrec_scorer_it_keeps(tmp_path, capsys):
    """`recagora train flower --set reward=personalized`: SASRec trained on the train split,
    saved in the run folder and reused on resume (the paper's with-history reward)."""
    run = tmp_path / "flower"
    settings = [*TINY[1:], "max_steps=1", "reward=personalized", "scorer_epochs=1"]
    args = ["train", "flower", "--dataset", "video-games", "--output-dir", str(run)]
    assert main([*args, *(x for s in settings for x in ("--set", s))]) == 0
    scorer = run / "scorer_sasrec.pt"
    assert scorer.is_file() and (run / "checkpoint").is_dir()
    stamp = scorer.stat().st_mtime_ns
    settings[-3] = "max_steps=2"
    assert main([*args, *(x for s in settings for x in ("--set", s))]) == 0
    assert scorer.stat().st_mtime_ns == stamp  # the resume scored with the same model
    assert "from step 1 to 2" in capsys.readouterr().out
    bad = [*args, "--set", "reward=personalized", "--set", "scorer_checkpoint=/no/such.pt"]
    assert main(bad) == 2
    assert "is not a file" in capsys.readouterr().err


def test_a_sasrec_file_serves_with_its_own_scores_and_its_item_count_checked(ml100k, tmp_path):
    from recagora.training.baselines.sasrec import SASRecConfig, SASRecRecommender

    dataset, split = ml100k
    n_items = len(dataset.catalog)
    path = SASRecRecommender(n_items, SASRecConfig(epochs=1, max_len=10)).save(tmp_path / "s.pt")
    popularity = split.train_interactions.item_counts(n_items)
    served = load_served(path, dataset.catalog, popularity)
    histories = [s.history for s in split.test[:3]]
    expected = SASRecRecommender.load(path, n_items=n_items).score_batch(histories)
    np.testing.assert_allclose(served.score_batch(histories), expected, rtol=1e-6)
    with pytest.raises(ModelError, match=r"\(1682 items\), not this run's 'small' \(50 items\)"):
        load_served(path, Catalog("small", dataset.catalog.items[:50]), popularity[:50])
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="is not a SASRec checkpoint"):
        check_recommender(tmp_path / "bad.pt")
