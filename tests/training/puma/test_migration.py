"""PUMA's rating model and migration on a tiny random LM: identity migration, bad input, training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from recagora.item_space.errors import ConfigError
from recagora.training.puma.adapter import IdentityAdapter, MigrationAdapter, source_prompts
from recagora.training.puma.config import PumaConfig
from recagora.training.puma.data import RatingData
from recagora.training.puma.model import RatingLM
from recagora.training.puma.train import apply_adapter, fit_adapter, fit_prompts, predict

from ..soft_lm_fixture import tiny_lm

WORDS = ["the", "user's", "preferences", "are", "encoded", "in", "feature", "predict", "rating", "an", "integer", "from", "to", "gives", "movie", "rating", "(", ")", '"', "a", "b", "c", "d"]


def rating_lm(hidden: int = 32) -> RatingLM:
    return RatingLM(*tiny_lm(vocab_words=WORDS, hidden=hidden))


def toy_data(n_users: int = 6) -> RatingData:
    """User u rates every movie 1 + u % 5: only the prompt can tell users apart."""
    rows = [(u, t, float(1 + u % 5)) for u in range(n_users) for t in "abcd"]
    frame = pd.DataFrame(rows, columns=["user_row", "title", "rating"])
    return RatingData([f"u{u}" for u in range(n_users)], frame, frame.iloc[::2].reset_index(drop=True))


def test_identity_migration_a_to_a_reproduces_a():
    rlm, data = rating_lm(), toy_data()
    gen = torch.Generator().manual_seed(0)
    cfg = PumaConfig(epochs=1, batch_size=4)
    table, _ = fit_prompts(rlm, data, cfg, gen)
    migrated = apply_adapter(IdentityAdapter(rlm.hidden_size, rlm.hidden_size), table)
    assert np.array_equal(predict(rlm, migrated, data.test), predict(rlm, table, data.test))


def test_stage_one_fits_per_user_prompts():
    rlm, data = rating_lm(), toy_data()
    gen = torch.Generator().manual_seed(0)
    cfg = PumaConfig(batch_size=8, lr_prompt=0.02)
    truth = data.test["rating"].to_numpy()
    table, cost = fit_prompts(rlm, data, cfg, gen, epochs=1)
    early = np.abs(predict(rlm, table, data.test) - truth).mean()
    table, cost = fit_prompts(rlm, data, cfg, gen, epochs=40)
    assert np.abs(predict(rlm, table, data.test) - truth).mean() < 0.6 * early
    assert cost.lm_passes == 40 * len(data.train)


def test_an_adapter_trains_into_a_wider_target():
    source, target, data = rating_lm(32), rating_lm(48), toy_data()
    gen = torch.Generator().manual_seed(0)
    table = torch.randn(6, 32, generator=gen)
    adapter = MigrationAdapter(32, 48, width=16, scale=target.lm.scale)
    before = [p.clone() for p in adapter.parameters()]
    cost = fit_adapter(target, adapter, table, data, [0, 1, 2], PumaConfig(batch_size=4, migrate_epochs=1), gen)
    assert cost.lm_passes == 12  # 3 users x 4 ratings, once
    assert apply_adapter(adapter, table).shape == (6, 48)
    assert any(not torch.equal(a, b) for a, b in zip(before, adapter.parameters(), strict=True))
    del source


def test_a_backbone_pair_with_no_adapter_shape_is_one_line():
    with pytest.raises(ConfigError, match="no adapter shape") as error:
        IdentityAdapter(576, 640)
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="no adapter shape"):
        MigrationAdapter(576, 640, width=8)(torch.zeros(2, 640))


def test_a_target_user_without_a_source_prompt_is_one_line():
    tables = {"a": torch.zeros(2, 4), "b": torch.ones(2, 3)}
    assert source_prompts(tables, ["u1", "u2"], ["u2"]).shape == (1, 7)  # aggregated [A; B]
    with pytest.raises(ConfigError, match="'u9' has no source prompt"):
        source_prompts(tables, ["u1", "u2"], ["u1", "u9"])


def test_validation_picks_the_epoch_kept_and_stops_after_patience():
    rlm, data = rating_lm(), toy_data()
    data = RatingData(data.users, data.train, data.test, valid=data.test)
    cfg = PumaConfig(batch_size=8, lr_prompt=0.05, patience=1)
    table, cost = fit_prompts(rlm, data, cfg, torch.Generator().manual_seed(0), epochs=30)
    assert 1 <= cost.best_epoch <= cost.epochs and cost.valid_passes == cost.epochs * len(data.test)
    assert cost.epochs < 30 or cost.best_epoch == 30  # it stopped one stale epoch after the best
    assert cost.epochs == 30 or cost.epochs == cost.best_epoch + 1
    truth = data.test["rating"].to_numpy()
    kept = np.sqrt(np.mean((predict(rlm, table, data.test) - truth) ** 2))
    assert kept <= 1.5  # the kept table is the best epoch's, not a diverged last one


def test_a_run_reports_every_method_with_paired_intervals(tmp_path):
    from recagora.item_space.datasets import load_dataset
    from recagora.training.puma import run as puma_run

    folders = {}
    for width in (32, 48):
        model, tokenizer = tiny_lm(vocab_words=WORDS, hidden=width)
        folders[width] = tmp_path / f"lm{width}"
        model.save_pretrained(folders[width])
        tokenizer.save_pretrained(folders[width])
    cfg = PumaConfig(backbone_a=str(folders[32]), backbone_b=str(folders[48]), n_users=8, max_train_per_user=4,
                     max_test_per_user=2, epochs=2, migrate_epochs=2, budget=4, clusters=2, min_per_cluster=1,
                     selection_seeds=2, bootstrap=200, batch_size=8, output_dir=str(tmp_path / "run"))
    report = puma_run.run_puma(cfg, load_dataset("ml-100k"), log=lambda _: None)
    assert report["valid_ratings"] == 16 and report["test_ratings"] == 16
    assert {puma_run.GROUP + " [selection seed 1]", "aggregated [A; B] -> A"} <= set(report["rows"])
    pair = report["paired"][f"{puma_run.GROUP} - {puma_run.RETRAIN}"]
    assert pair["ci95"][0] <= pair["difference"] <= pair["ci95"][1]
    retrain = report["rows"][puma_run.RETRAIN]
    assert retrain["compute_vs_retraining"] == 1 and retrain["seconds_cold"] >= retrain["seconds"]
    assert len(pd.read_csv(tmp_path / "run" / "predictions.csv")) == 16
