"""A trained checkpoint as a Recommender, evaluation, personalised Flower, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recagora.experiments.cli.main import main
from recagora.item_space.errors import ModelError
from recagora.item_space.recommender import Recommender
from recagora.item_space.types import UserHistory
from recagora.training.baselines import PopularityRecommender
from recagora.training.evaluation import evaluate_rankings
from recagora.training.flower_trainer import scorer_from_recommender
from recagora.training.policy import GenerativeRecommender
from recagora.training.registry import make_trainer


@pytest.fixture(scope="module")
def trained_run(small_world, tmp_path_factory):
    catalog, train = small_world
    run = tmp_path_factory.mktemp("run")
    overrides = [
        f"output_dir={run}",
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
    make_trainer("sft", catalog, train, overrides=overrides).train()
    return run


def test_a_checkpoint_serves_as_a_recommender(trained_run, small_world):
    catalog, _ = small_world
    policy = GenerativeRecommender.load(trained_run, catalog)
    assert isinstance(policy, Recommender)
    ranking = policy.recommend(UserHistory(user="u", items=[1, 2, 3]), k=5)
    assert len(ranking) == 5 and len(set(ranking.items.tolist())) == 5
    assert (np.diff(ranking.scores) <= 0).all()
    restricted = policy.recommend(
        UserHistory(user="u", items=[1, 2]), k=3, candidates=[7, 11, 19, 23]
    )
    assert set(restricted.items.tolist()) <= {7, 11, 19, 23} and len(restricted) == 3
    done = []  # progress callback: one call per batch, counting every history once
    items, _, invalid = policy.rank(
        [[1, 2], [3], [4, 5], [6]], 3, batch_size=3, on_batch=done.append
    )
    assert done == [3, 1] and items.shape == (4, 3) and invalid == 0


def test_flower_refuses_to_resume_an_sft_checkpoint(trained_run, small_world):
    """It used to load SFT's weights, find step 3 >= max_steps and 'train' nothing."""
    catalog, train = small_world
    overrides = [f"output_dir={trained_run}", "max_steps=3", "batch_size=8", "progress=false",
                 "backbone.tiny_n_layer=1", "backbone.tiny_n_embd=32", "backbone.tiny_n_head=2",
                 "backbone.tiny_vocab_size=600", "prompt.max_history=3"]  # fmt: skip
    before = (trained_run / "checkpoint" / "weights.safetensors").read_bytes()
    with pytest.raises(ModelError, match="holds a sft checkpoint; train flower into another"):
        make_trainer("flower", catalog, train, overrides=overrides).train()
    assert (trained_run / "checkpoint" / "weights.safetensors").read_bytes() == before


def test_a_corrupt_checkpoint_is_one_line_before_anything_loads(trained_run, tmp_path):
    from recagora.training.checkpoints import verify_checkpoint

    copy = tmp_path / "checkpoint"
    copy.mkdir()
    for name in ("policy.json", "tokenizer.json", "weights.safetensors"):
        (copy / name).write_bytes((trained_run / "checkpoint" / name).read_bytes())
    assert verify_checkpoint(copy)["method"] == "sft"
    weights = (copy / "weights.safetensors").read_bytes()
    (copy / "weights.safetensors").write_bytes(weights[:100])  # a truncated copy
    with pytest.raises(ModelError, match="weights.safetensors' is unreadable"):
        verify_checkpoint(copy)
    (copy / "weights.safetensors").write_bytes(weights)
    (copy / "policy.json").write_text('{"method": "sft"}')
    with pytest.raises(ModelError, match="missing step, catalog"):
        verify_checkpoint(copy)


def test_a_checkpoint_from_another_catalog_is_refused(trained_run, video_games):
    with pytest.raises(ModelError, match="trained on catalog 'video-games-120'"):
        GenerativeRecommender.load(trained_run, video_games.catalog)


def test_evaluation_metrics_on_a_fixed_ranking(small_world, toy_catalog):
    from recagora.item_space.types import Sample

    catalog = toy_catalog(["A", "B", "C", "D"])
    train = [Sample("u", (0, 0, 0, 1), 2), Sample("v", (0, 1, 2), 3)]  # history counts 4, 2, 1, 0
    samples = [Sample("x", (0,), 1), Sample("y", (1,), 3)]
    ranked = np.array([[0, 1, 2], [2, 0, -1]])
    report = evaluate_rankings(ranked, samples, catalog, train, invalid=0, n_groups=3)
    assert report["HR@1"] == 0.0 and report["HR@3"] == 0.5
    assert abs(report["NDCG@3"] - 0.5 / np.log2(3)) < 1e-12  # target at rank 1 (0-based) in row 0
    # groups (3 titles seen): A -> 0, B -> 1, C -> 2; train share 4/7, 2/7, 1/7; recommended 2/5, 1/5, 2/5.
    gaps = np.array([2 / 5 - 4 / 7, 1 / 5 - 2 / 7, 2 / 5 - 1 / 7])
    assert abs(report["DGU"] - (gaps.max() - gaps.min())) < 1e-12
    assert abs(report["MGU"] - np.abs(gaps).mean()) < 1e-12
    assert report["distinct_items"] == 3.0


def test_personalised_flower_uses_a_classic_recommender(small_world, tiny_overrides, tmp_path):
    catalog, train = small_world
    scorer = scorer_from_recommender(
        PopularityRecommender.from_samples(train, len(catalog)), len(catalog)
    )
    trainer = make_trainer(
        "flower",
        catalog,
        train,
        overrides=tiny_overrides(tmp_path, max_steps=2, reward="personalized"),
        item_scorer=scorer,
    )
    trainer.train()
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and "subtb_loss" in rows[0]


@pytest.mark.slow
def test_cli_train_and_evaluate(tmp_path, capsys):
    run = tmp_path / "run"
    settings = [
        "max_steps=2",
        "batch_size=4",
        "micro_batch_size=4",
        "backbone.tiny_n_layer=1",
        "backbone.tiny_n_embd=32",
        "backbone.tiny_n_head=2",
        "backbone.tiny_vocab_size=600",
        "prompt.max_history=2",
        "progress=false",
    ]
    args = ["train", "sft", "--dataset", "video-games", "--output-dir", str(run)]
    assert main([*args, *(x for s in settings for x in ("--set", s))]) == 0
    assert (
        main(
            [
                "evaluate",
                str(run),
                "--dataset",
                "video-games",
                "--max-samples",
                "6",
                "--num-beams",
                "10",
            ]
        )
        == 0
    )
    report = json.loads((run / "eval_test.json").read_text())
    assert report["samples"] == 6 and report["invalid"] == 0 and 0 <= report["HR@10"] <= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "flowr"], "unknown method 'flowr' (did you mean 'flower'?)"),
        (
            ["train", "sft", "--backbone", "no/such-model", "--set", "max_steps=1"],
            "nor in the Hugging Face cache",
        ),
        (["train", "sft", "--set", "max_stepz=1"], "unknown config key 'max_stepz'"),
        (["evaluate", "/nonexistent/run"], "is not a checkpoint"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(args, message, tmp_path, capsys):
    code = main([*args, "--output-dir", str(tmp_path)] if args[0] == "train" else args)
    error = capsys.readouterr().err
    assert code == 2 and message in error and "Traceback" not in error
    assert not (tmp_path / "checkpoint").exists()


def test_a_policy_ranks_with_the_torch_threads_it_was_loaded_with(trained_run, small_world):
    """MiniLM's embedder sets 2 process-wide threads mid-episode; ranking keeps its own."""
    import torch

    catalog, _ = small_world
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        policy = GenerativeRecommender.load(trained_run, catalog)
        before = policy.rank([[1, 2], [3]], 3)
        seen = []
        advance = policy.backbone.advance
        policy.backbone.advance = lambda *a: seen.append(torch.get_num_threads()) or advance(*a)
        torch.set_num_threads(2)  # what another library does later in the process
        after = policy.rank([[1, 2], [3]], 3)
        assert seen and set(seen) == {1} and torch.get_num_threads() == 2  # restored
        np.testing.assert_array_equal(before[0], after[0])
        np.testing.assert_array_equal(before[1], after[1])
    finally:
        torch.set_num_threads(previous)
