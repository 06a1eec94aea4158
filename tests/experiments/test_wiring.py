"""experiments.wiring: SASRec candidates trained on the train split, cached on disk, reloaded."""

from __future__ import annotations

import numpy as np
import pytest

from recagora.environments.trirec.candidates import hard_negative_candidates
from recagora.environments.trirec.config import CandidateConfig, TrirecConfig
from recagora.experiments.wiring import sasrec_cache_path, sasrec_scorer, scenario_extras


def test_only_sasrec_configs_get_a_scorer_factory_and_callers_win():
    assert scenario_extras(TrirecConfig(), {}) == {}
    sasrec = TrirecConfig(candidates=CandidateConfig(source="sasrec"))
    assert scenario_extras(sasrec, {})["candidate_scorer_factory"] is sasrec_scorer
    mine = object()
    assert scenario_extras(sasrec, {"candidate_scorer_factory": mine}) == {
        "candidate_scorer_factory": mine
    }


@pytest.mark.slow
def test_sasrec_is_trained_once_then_loaded_and_gives_protocol_candidates(
    tmp_path, monkeypatch, capsys
):
    from recagora.item_space.datasets import load_dataset

    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    dataset = load_dataset("ml-100k")
    split = dataset.split("loo")
    config = TrirecConfig(candidates=CandidateConfig(source="sasrec", sasrec_epochs=1))
    trained = sasrec_scorer(config, dataset, split)
    assert "training SASRec" in capsys.readouterr().err
    (checkpoint,) = (tmp_path / "sasrec").glob("ml-100k-*.pt")
    loaded = sasrec_scorer(config, dataset, split)
    assert "training SASRec" not in capsys.readouterr().err  # the cache answered
    tests = split.test[:64]
    histories = [s.history for s in tests]
    scores = trained(histories)
    assert scores.shape == (64, len(dataset.catalog))
    np.testing.assert_allclose(loaded(histories), scores, rtol=1e-5, atol=1e-5)
    targets = np.asarray([s.target for s in tests], np.int64)
    draw = hard_negative_candidates(scores, histories, targets, 10, np.random.default_rng(0))
    for row, history, target in zip(draw.tolist(), histories, targets.tolist(), strict=True):
        assert row.count(target) == 1 and len(set(row)) == 10 and not set(row) & set(history)
    # Another seed is another model: another cache file.
    other = TrirecConfig(seed=1, candidates=CandidateConfig(source="sasrec", sasrec_epochs=1))
    assert sasrec_cache_path("ml-100k", split, _sasrec_config(other), 1682) != checkpoint


def _sasrec_config(config: TrirecConfig):
    from recagora.training.baselines.sasrec import SASRecConfig

    return SASRecConfig(epochs=config.candidates.sasrec_epochs, seed=config.seed)
