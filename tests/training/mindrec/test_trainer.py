"""`recagora train mindrec` on a slice of games-semids: learning, resume, serving."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recagora.item_space.errors import ModelError
from recagora.item_space.types import Catalog, UserHistory
from recagora.training.evaluation import evaluate_checkpoint
from recagora.training.mindrec.items import build_item_codes, level_aware_codes, semantic_ids
from recagora.training.mindrec.policy import MindRecRecommender
from recagora.training.policy import GenerativeRecommender
from recagora.training.registry import make_trainer

from .conftest import label_paths

TINY = {
    "batch_size": 16,
    "micro_batch_size": 8,
    "learning_rate": 3e-3,
    "warmup_steps": 1,
    "progress": False,
    "d_model": 32,
    "n_heads": 2,
    "n_layers": 1,
    "max_history": 5,
}


def _overrides(output_dir, **extra) -> list[str]:
    values = {"output_dir": str(output_dir), "max_steps": 4, **TINY, **extra}
    return [f"{k}={v}" for k, v in values.items()]


def _codes(catalog: Catalog, with_categories: bool):
    categories = level_aware_codes(label_paths(catalog), 2) if with_categories else None
    return build_item_codes(catalog, semantic_ids(catalog), categories)


def _trainer(world, output_dir, with_categories=True, **extra):
    catalog, train, _ = world
    overrides = _overrides(output_dir, category_phase=with_categories, **extra)
    codes = _codes(catalog, with_categories)
    return make_trainer("mindrec", catalog, train, overrides=overrides, item_codes=codes)


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(games_world, tmp_path):
    straight = _trainer(games_world, tmp_path / "a", max_steps=4)
    straight.train()
    _trainer(games_world, tmp_path / "b", max_steps=2).train()
    resumed = _trainer(games_world, tmp_path / "b", max_steps=4)
    resumed.train()
    assert resumed.step == 4
    for key, value in straight.backbone.trainable_state().items():
        torch.testing.assert_close(resumed.backbone.trainable_state()[key], value)
    assert (tmp_path / "b" / "metrics.csv").read_text().count("\n") == 5


def test_the_loss_falls_and_the_weights_change(games_world, tmp_path):
    trainer = _trainer(games_world, tmp_path, max_steps=40, dropout=0.0)
    before = {k: v.clone() for k, v in trainer.backbone.trainable_state().items()}
    trainer.train()
    rows = (tmp_path / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    losses = [float(r.split(",")[header.index("loss")]) for r in rows[1:]]
    assert np.mean(losses[-10:]) < 0.8 * np.mean(losses[:10])
    after = trainer.backbone.trainable_state()
    assert any(not torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("with_categories", [True, False])
def test_the_run_folder_serves_as_a_recommender_and_evaluates(
    games_world, tmp_path, with_categories
):
    catalog, train, test = games_world
    _trainer(games_world, tmp_path, with_categories, max_steps=3).train()
    policy = GenerativeRecommender.load(tmp_path, catalog)  # the loader registry's hook
    assert isinstance(policy, MindRecRecommender)
    ranking = policy.recommend(UserHistory(user="u", items=[1, 2, 3]), k=5)
    assert 1 <= len(ranking) <= 5 and (ranking.items < len(catalog)).all()
    scores = policy.score_batch([[1, 2, 3]], num_beams=5)
    assert np.isfinite(scores).sum() == len(ranking)
    assert set(np.flatnonzero(np.isfinite(scores[0]))) == set(ranking.items.tolist())
    allowed = [4, 9, 17, 30]
    restricted = policy.recommend(UserHistory(user="u", items=[1]), k=3, candidates=allowed)
    assert set(restricted.items.tolist()) <= set(allowed)
    report = evaluate_checkpoint(tmp_path, catalog, test, train, num_beams=10)
    assert report["invalid"] == 0 and report["samples"] == len(test)
    assert {"HR@1", "NDCG@5", "HR@10"} <= set(report)


def test_a_checkpoint_of_another_catalog_is_refused(games_world, tmp_path):
    catalog, _, _ = games_world
    _trainer(games_world, tmp_path, max_steps=1).train()
    other = Catalog("games-299", catalog.items[:299])
    with pytest.raises(ModelError, match="was trained on catalog"):
        MindRecRecommender.load(tmp_path, other)
