"""SFT and Flower on the tiny GPT: learning, gradient accumulation, resume, bad input."""

from __future__ import annotations

import pytest
import torch

from recagora.item_space.errors import ConfigError, DatasetError, ModelError
from recagora.item_space.types import Sample
from recagora.training.registry import make_trainer


def _held_out_loss(trainer, samples):
    with torch.no_grad():
        trainer.step = 0
        trainer._positions = {id(s): i for i, s in enumerate(samples)}
        return trainer.micro_batch_loss(samples, samples)[0].item()


def _weights(trainer):
    return {k: v.clone() for k, v in trainer.backbone.trainable_state().items()}


@pytest.mark.parametrize(("method", "extra"), [("sft", {}), ("flower", {"theta": 0.9})])
def test_a_few_steps_lower_the_loss_and_change_the_parameters(
    method, extra, small_world, tiny_overrides, tmp_path
):
    catalog, train = small_world
    trainer = make_trainer(
        method, catalog, train, overrides=tiny_overrides(tmp_path, max_steps=12, **extra)
    )
    fixed = train[:16]
    before, weights = _held_out_loss(trainer, fixed), _weights(trainer)
    trainer.train()
    after = _held_out_loss(trainer, fixed)
    assert after < before
    assert all(
        not torch.equal(weights[k], v) for k, v in trainer.backbone.trainable_state().items()
    )
    assert (tmp_path / "metrics.csv").read_text().count("\n") == 13
    assert (tmp_path / "curves.png").stat().st_size > 0


def _step_gradients(trainer):
    """Run one optimizer step's forward/backward passes; return the accumulated gradients."""
    captured = {}

    def capture():
        captured.update({n: p.grad.clone() for n, p in trainer.backbone.model.named_parameters()})
        return 0.0

    trainer._clip_and_step = capture
    metrics = trainer.optimizer_step(0)
    return captured, metrics["loss"]


@pytest.mark.filterwarnings(r"ignore:Detected call of `lr_scheduler.step\(\)`")
@pytest.mark.parametrize("method", ["sft", "flower"])
def test_gradient_accumulation_matches_one_big_batch(method, small_world, tiny_overrides, tmp_path):
    catalog, train = small_world
    results = []
    for micro in (8, 2, 1):
        extra = {"theta": 0.5} if method == "flower" else {}
        overrides = tiny_overrides(tmp_path / str(micro), micro_batch_size=micro, **extra)
        results.append(_step_gradients(make_trainer(method, catalog, train, overrides=overrides)))
    (reference, loss), others = results[0], results[1:]
    for gradients, other_loss in others:
        assert abs(other_loss - loss) < 1e-5 * abs(loss)
        for key, value in reference.items():
            torch.testing.assert_close(gradients[key], value, atol=1e-6, rtol=1e-4)


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(small_world, tiny_overrides, tmp_path):
    catalog, train = small_world
    straight = make_trainer(
        "flower", catalog, train, overrides=tiny_overrides(tmp_path / "a", max_steps=4, theta=0.5)
    )
    straight.train()
    first = make_trainer(
        "flower", catalog, train, overrides=tiny_overrides(tmp_path / "b", max_steps=2, theta=0.5)
    )
    first.train()
    resumed = make_trainer(
        "flower", catalog, train, overrides=tiny_overrides(tmp_path / "b", max_steps=4, theta=0.5)
    )
    resumed.train()
    assert resumed.step == 4
    for key, value in straight.backbone.trainable_state().items():
        torch.testing.assert_close(resumed.backbone.trainable_state()[key], value)
    assert (tmp_path / "b" / "metrics.csv").read_text().count("\n") == 5


def test_bad_input_fails_before_training(small_world, tiny_overrides, tmp_path, toy_catalog):
    catalog, train = small_world
    with pytest.raises(DatasetError, match="not in the catalog"):
        make_trainer(
            "sft", catalog, [*train, Sample("u", (5, 999), 3)], overrides=tiny_overrides(tmp_path)
        )
    with pytest.raises(DatasetError, match="train split is empty"):
        make_trainer("sft", catalog, [], overrides=tiny_overrides(tmp_path))
    with pytest.raises(ConfigError, match="did you mean 'flower'"):
        make_trainer("flowr", catalog, train, overrides=tiny_overrides(tmp_path))
    with pytest.raises(ConfigError, match="max_step"):
        make_trainer("sft", catalog, train, overrides=[*tiny_overrides(tmp_path), "max_step=3"])
    with pytest.raises(ModelError, match="cannot be loaded offline"):
        make_trainer(
            "sft",
            catalog,
            train,
            overrides=[*tiny_overrides(tmp_path), "backbone.name=no/such-model"],
        )
    with pytest.raises(ConfigError, match="item scorer"):
        make_trainer(
            "flower", catalog, train, overrides=[*tiny_overrides(tmp_path), "reward=personalized"]
        )
    assert not (tmp_path / "checkpoint").exists()
