"""UGR on the GRPO trainer: hand-worked reward, difficulty weight and confidence loss."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch

from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Sample
from recagora.training.registry import make_trainer, trainer_config
from recagora.training.ugr_rewards import confidence_loss, difficulty_weights, uncertainty_rewards


def test_uncertainty_reward_penalises_confident_errors():
    beams = np.array([[2, 0, 1], [5, 6, 7]])
    scores = np.array([[-1.0, -2.0, -3.0], [-1.0, -2.0, -3.0]])
    got = uncertainty_rewards(beams, scores, np.array([2, 9]))
    confident = 1 / (1 + math.exp(-1))  # e^-2 / (e^-2 + e^-3)
    np.testing.assert_allclose(got[0], [1.0, -confident, -(1 - confident)])
    np.testing.assert_array_equal(got[1], [0.0, 0.0, 0.0])  # no hit: no advantage at all


def test_difficulty_weight_follows_the_answer_beam_rank():
    beams = np.array([[2, 0, 1], [0, 2, 1], [0, 1, 3]])
    got = difficulty_weights(beams, np.array([2, 2, 2]), alpha_min=0.2)
    np.testing.assert_allclose(got, [0.2, 0.2 + 0.8 * 1 / 2, 1.0])


def test_confidence_loss_by_hand():
    confidence = torch.tensor([[0.9, 0.6, 0.2], [0.5, 0.5, 0.5]])
    correct = torch.tensor([[False, True, False], [False, False, False]])
    partial = torch.tensor([[True, False, False], [True, False, False]])
    got = confidence_loss(confidence, correct, partial, coeff_partial=0.5, coeff_wrong=0.5)
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731
    assert float(got) == pytest.approx(0.5 * softplus(0.3) + 0.5 * softplus(-0.4), rel=1e-6)


def test_ugr_refuses_titles_and_bad_settings(toy_catalog, tiny_overrides, tmp_path):
    catalog = toy_catalog(["alpha", "beta", "gamma", "delta"])
    train = [Sample(user=f"u{i}", history=(i % 4,), target=2) for i in range(16)]
    with pytest.raises(ConfigError, match="UGR trains on semantic IDs"):
        make_trainer("ugr", catalog, train, overrides=tiny_overrides(tmp_path, num_generations=4))
    with pytest.raises(ConfigError, match="exceeds the catalog's 4"):
        make_trainer("ugr", catalog, train, overrides=tiny_overrides(tmp_path, allow_titles=True))
    with pytest.raises(ConfigError, match="set rollout=beam"):
        trainer_config("ugr", overrides=["rollout=sample"])
    with pytest.raises(ConfigError, match="must be >= 2"):
        trainer_config("ugr", overrides=["num_generations=1"])


def test_ugr_raises_the_answer_probability_on_a_toy_task(toy_catalog, tiny_overrides, tmp_path):
    catalog = toy_catalog(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])
    train = [Sample(user=f"u{i}", history=(i % 6, (i + 1) % 6), target=2) for i in range(48)]
    # alpha_min 0.5: with UGR's 0 a prompt whose answer is already the top beam stops
    # learning, which on a 6-item toy can be every prompt from the start
    settings = {"max_steps": 16, "num_generations": 6, "allow_titles": True, "alpha_min": 0.5}
    trainer = make_trainer(
        "ugr", catalog, train, overrides=tiny_overrides(tmp_path, learning_rate=1e-2, **settings)
    )
    before = _target_log_prob(trainer)
    trainer.train()
    assert _target_log_prob(trainer) > before + 0.5
    with (tmp_path / "metrics.csv").open() as handle:
        assert all(float(r["beam_hit"]) == 1.0 for r in csv.DictReader(handle))  # 6 of 6 items


def _target_log_prob(trainer) -> float:
    """Mean log pi('gamma' tokens | prompt) over the first 8 training prompts."""
    from recagora.training.data import prompt_response_batch

    samples = trainer.train_samples[:8]
    response, lengths = trainer.items.padded_items([2] * 8, trainer.backbone.tokenizer.pad_id)
    batch = prompt_response_batch(
        trainer.prompts(samples), response, lengths, trainer.backbone.tokenizer.pad_id
    )
    with torch.no_grad():
        values = trainer._token_log_probs(trainer.backbone, batch) * batch.response_mask
    return float(values.sum(1).mean())
