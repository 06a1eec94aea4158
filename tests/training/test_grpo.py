"""GRPO on the trainer base: hand-worked pieces, a toy task it must learn, exact resume."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from recagora.item_space.errors import ConfigError, ModelError
from recagora.item_space.types import Sample
from recagora.training.grpo_trainer import (
    _first_distinct,
    clipped_token_loss,
    group_advantages,
    k3_kl,
)
from recagora.training.registry import make_trainer, trainer_config

TITLES = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]


def _toy(toy_catalog):
    """Every user's next item is 'gamma' (id 2), whatever the history."""
    catalog = toy_catalog(TITLES)
    train = [Sample(user=f"u{i}", history=(i % 6, (i + 1) % 6), target=2) for i in range(48)]
    return catalog, train


def test_group_advantages_by_hand():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5]])
    adv = group_advantages(rewards, scale=True, eps=0.0 + 1e-12)
    # row 0: mean 0.5, population std 0.5 -> +-1; row 1: all equal -> 0
    torch.testing.assert_close(adv[0], torch.tensor([1.0, -1.0, -1.0, 1.0]))
    assert torch.all(adv[1] == 0)
    torch.testing.assert_close(
        group_advantages(rewards, scale=False)[0], torch.tensor([0.5, -0.5, -0.5, 0.5])
    )


def test_clipped_loss_and_kl_by_hand():
    old = torch.zeros(1, 2)
    new = torch.log(torch.tensor([[1.5, 0.5]]))  # ratios 1.5 and 0.5
    positive = clipped_token_loss(new, old, torch.tensor([[2.0]]), 0.2)
    torch.testing.assert_close(positive, torch.tensor([[-2.4, -1.0]]))  # min(3, 2.4), min(1, 1.6)
    negative = clipped_token_loss(new, old, torch.tensor([[-2.0]]), 0.2)
    torch.testing.assert_close(negative, torch.tensor([[3.0, 1.6]]))  # min(-3,-2.4), min(-1,-1.6)
    d = torch.tensor([[0.0, 1.0]])
    torch.testing.assert_close(k3_kl(torch.zeros(1, 2), d), torch.exp(d) - d - 1)
    assert k3_kl(torch.zeros(1, 2), torch.zeros(1, 2)).sum() == 0


def test_first_distinct_keeps_draw_order():
    np.testing.assert_array_equal(_first_distinct(np.array([4, 4, 1, 4, 3, 1]), 3), [4, 1, 3])
    np.testing.assert_array_equal(_first_distinct(np.array([5, 5, 5]), 2), [5, -1])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("num_generations=1", "must be >= 2"),
        ("rollout=greedy", "rollout 'greedy' is unknown"),
        ("clip_epsilon=0", "clip_epsilon must be > 0"),
    ],
)
def test_bad_grpo_settings_are_config_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        trainer_config("grpo", overrides=[override])


def _rewards(run) -> list[float]:
    with (run / "metrics.csv").open() as handle:
        return [float(row["reward"]) for row in csv.DictReader(handle)]


@pytest.mark.parametrize(("rollout", "groups"), [("sample", 6), ("beam", 6)])
def test_grpo_raises_the_reward_on_a_toy_task(
    rollout, groups, toy_catalog, tiny_overrides, tmp_path
):
    """Sampling: the hit rate rises from chance (1/6). Beams: the 6 beams hold all 6 items,
    so the group's mean reward is always 1/6, and the answer's probability must rise."""
    catalog, train = _toy(toy_catalog)
    settings = {"max_steps": 24, "num_generations": groups, "rollout": rollout}
    settings["learning_rate"] = 1e-2
    trainer = make_trainer("grpo", catalog, train, overrides=tiny_overrides(tmp_path, **settings))
    target = _target_log_prob(trainer)
    trainer.train()
    rewards = _rewards(tmp_path)
    if rollout == "sample":
        assert np.mean(rewards[-4:]) > np.mean(rewards[:4]) + 0.2, rewards
    else:
        assert rewards == pytest.approx([1 / 6] * 24, abs=1e-5), rewards
    assert _target_log_prob(trainer) > target + 0.5


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


def test_resume_equals_an_uninterrupted_run_with_kl(toy_catalog, tiny_overrides, tmp_path):
    catalog, train = _toy(toy_catalog)
    extra = {"num_generations": 4, "kl_beta": 0.1, "save_every": 2}
    whole = make_trainer(
        "grpo", catalog, train, overrides=tiny_overrides(tmp_path / "a", max_steps=4, **extra)
    )
    whole.train()
    make_trainer(
        "grpo", catalog, train, overrides=tiny_overrides(tmp_path / "b", max_steps=2, **extra)
    ).train()
    resumed = make_trainer(
        "grpo", catalog, train, overrides=tiny_overrides(tmp_path / "b", max_steps=4, **extra)
    )
    resumed.train()
    for name, tensor in whole.backbone.trainable_state().items():
        torch.testing.assert_close(resumed.backbone.trainable_state()[name], tensor)
    assert _rewards(tmp_path / "a") == _rewards(tmp_path / "b")
    assert max(float(r["kl"]) for r in csv.DictReader((tmp_path / "a/metrics.csv").open())) > 0


def test_init_from_loads_an_sft_policy_and_refuses_another_backbone(
    toy_catalog, tiny_overrides, tmp_path
):
    catalog, train = _toy(toy_catalog)
    sft = make_trainer("sft", catalog, train, overrides=tiny_overrides(tmp_path / "sft"))
    sft.train()
    grpo = make_trainer(
        "grpo",
        catalog,
        train,
        overrides=tiny_overrides(tmp_path / "g", init_from=tmp_path / "sft"),
    )
    for name, tensor in sft.backbone.trainable_state().items():
        torch.testing.assert_close(grpo.backbone.trainable_state()[name], tensor)
    wider = tiny_overrides(tmp_path / "w", init_from=tmp_path / "sft")
    wider = [
        o if not o.startswith("backbone.tiny_n_embd") else "backbone.tiny_n_embd=64" for o in wider
    ]
    with pytest.raises(ModelError, match="pass the same backbone"):
        make_trainer("grpo", catalog, train, overrides=wider)
