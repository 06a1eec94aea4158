"""BLADE / BoN: hand-worked list rewards and Beta-posterior CDF, the trainer on a toy task."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Sample
from recagora.training import blade_rewards as R
from recagora.training.registry import make_trainer, trainer_config

TITLES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


def test_list_accuracy_rewards_by_hand():
    lists = np.array([[[3, 1, 2], [4, 5, -1]]])
    targets = np.array([[2, 2]])
    np.testing.assert_array_equal(R.hit_at_k(lists, targets), [[1.0, 0.0]])
    np.testing.assert_allclose(R.ndcg_at_k(lists, targets), [[1 / np.log2(4), 0.0]])  # rank 2


def test_mgu_and_ild_by_hand():
    group = np.array([0, 0, 1, 1, -1])  # item 4 ungrouped
    # history shares (0.5, 0.5); list [0, 0?] -> lists hold distinct items: [0, 1] -> (1, 0)
    lists = np.array([[[0, 1], [0, 2], [4, -1]]])
    got = R.mgu(lists, [[0, 3]], group, 2)
    np.testing.assert_allclose(got, [[0.5, 0.0, 0.5]])  # |1-.5|,|0-.5| ; equal ; empty (0,0)
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(R.ild(np.array([[[0, 1], [0, 2], [0, -1]]]), vectors), [[1, 0, 0]])


def test_mid_rank_cdf_counts_ties_half():
    reference = np.array([[0.0, 0.0, 0.5, 1.0]])
    values = np.array([[0.0, 0.5, 2.0]])
    np.testing.assert_allclose(R.mid_rank_cdf(values, reference), [[0.25, 0.625, 1.0]])


def test_tau_zero_is_the_static_smoothed_cdf():
    reference = np.array([[0.0, 0.0, 0.5, 1.0]])  # M = 4
    rewards = np.array([[0.0, 0.5, 2.0]])
    static = (4 * np.array([0.25, 0.625, 1.0]) + 1) / (4 + 2)  # (M F + a0) / (M + a0 + b0)
    np.testing.assert_allclose(R.posterior_cdf(rewards, reference, tau=0.0), [static])
    # everything above the reference range gets the same static F: indiscriminate supervision
    above = np.array([[2.0, 3.0]])
    assert len(set(R.posterior_cdf(above, reference, 0.0)[0].tolist())) == 1
    assert len(set(R.posterior_cdf(above, reference, 0.3)[0].tolist())) == 2  # tau > 0 ranks them


def test_beta_posterior_mean_is_the_tau_mixture():
    reference = np.array([[0.0, 0.0, 0.5, 1.0]])
    rewards = np.array([[0.0, 0.5, 2.0]])
    ref_cdf = R.mid_rank_cdf(rewards, reference)
    cur_cdf = R.mid_rank_cdf(rewards, rewards)  # (0.5, 1.5, 2.5) / 3
    np.testing.assert_allclose(cur_cdf, [[1 / 6, 0.5, 5 / 6]])
    alpha, beta = R.beta_posterior(ref_cdf, cur_cdf, m=4, g=3, tau=0.3)
    np.testing.assert_allclose(alpha / (alpha + beta), R.posterior_cdf(rewards, reference, 0.3))
    # n0 = 6, w = 0.3 * 6 / (0.7 * 3): alpha + beta = n0 + w G = 6 / 0.7
    np.testing.assert_allclose(alpha + beta, 6 / 0.7)
    surrogate = R.log_cdf_reward(rewards, reference, 0.3)
    assert np.all(np.isfinite(surrogate)) and np.all(np.diff(surrogate[0]) > 0)


@pytest.mark.parametrize(
    ("method", "override", "message"),
    [
        ("blade", "tau=1.0", "tau 1.0 must lie in [0, 1)"),
        ("blade", "tau=-0.1", "must lie in [0, 1)"),
        ("bon", "tau=0.3", "bon is BLADE with tau = 0"),
        ("blade", "num_generations=1", "must be >= 2"),
        ("blade", "rollout=beam", "set rollout=sample"),
        ("blade", "auxiliary=genre", "auxiliary one of"),
    ],
)
def test_bad_blade_settings_are_config_errors(method, override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        trainer_config(method, overrides=[override])


def _toy(toy_catalog):
    catalog = toy_catalog(TITLES)
    train = [Sample(user=f"u{i}", history=(i % 8, (i + 3) % 8), target=2) for i in range(48)]
    return catalog, train


def test_list_longer_than_the_catalog_is_refused(toy_catalog, tiny_overrides, tmp_path):
    catalog, train = _toy(toy_catalog)
    with pytest.raises(ConfigError, match="list_length 9 exceeds the catalog's 8"):
        make_trainer("blade", catalog, train, overrides=tiny_overrides(tmp_path, list_length=9))


def _column(run, name) -> list[float]:
    with (run / "metrics.csv").open() as handle:
        return [float(row[name]) for row in csv.DictReader(handle)]


@pytest.mark.parametrize("method", ["blade", "bon"])
def test_blade_and_bon_raise_ndcg_on_a_toy_task_and_resume_exactly(
    method, toy_catalog, tiny_overrides, tmp_path
):
    """'gamma' is always next: lists that put it first must become more likely."""
    catalog, train = _toy(toy_catalog)
    extra = {"list_length": 3, "num_generations": 4, "reference_lists": 4, "learning_rate": 1e-2}
    run = tmp_path / "whole"
    make_trainer(
        method, catalog, train, overrides=tiny_overrides(run, max_steps=20, **extra)
    ).train()
    rewards = _column(run, "list_reward")
    assert np.mean(rewards[-4:]) > np.mean(rewards[:4]) + 0.1, rewards
    prior = _column(run, "prior_reward")  # the frozen reference's lists do not move
    assert np.mean(prior[-4:]) < np.mean(rewards[-4:])
    part = tmp_path / "part"
    for steps in (2, 4):
        make_trainer(
            method, catalog, train, overrides=tiny_overrides(part, max_steps=steps, **extra)
        ).train()
    assert _column(part, "list_reward") == rewards[:4]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["blade", "--set", "tau=1.5"], "tau 1.5 must lie in [0, 1)"),
        (["bon", "--set", "num_generations=1"], "must be >= 2"),
        (["grpo", "--set", "rollout=greedy"], "rollout 'greedy' is unknown"),
    ],
)
def test_cli_bad_rl_settings_are_one_line_exit_2_and_write_nothing(args, message, tmp_path, capsys):
    from recagora.experiments.cli.main import main

    out = tmp_path / "run"
    assert main(["train", *args, "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not out.exists()


def test_ild_auxiliary_needs_vectors_and_adds_diversity(toy_catalog, tiny_overrides, tmp_path):
    catalog, train = _toy(toy_catalog)
    extra = {"list_length": 3, "num_generations": 2, "reference_lists": 2, "max_steps": 1}
    extra.update(auxiliary="ild", aux_weight=1.0)
    with pytest.raises(ConfigError, match="needs item vectors"):
        make_trainer("blade", catalog, train, overrides=tiny_overrides(tmp_path, **extra))
    vectors = np.eye(8)  # orthogonal items: every list of >= 2 distinct items has ILD 1
    trainer = make_trainer(
        "blade", catalog, train, overrides=tiny_overrides(tmp_path, **extra), item_vectors=vectors
    )
    lists = np.array([[[0, 1, 2], [2, 3, -1]]])  # distinct toy titles: unit id = item id
    # target 'gamma' (2) at rank 2 in list 0, rank 0 in list 1; ILD 1 for both lists
    got = trainer.list_rewards(train[:1], lists)
    np.testing.assert_allclose(got, [[1 / np.log2(4) + 1.0, 1.0 + 1.0]])
