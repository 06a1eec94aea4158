"""`recagora fidelity` writes the hybrid's validation-picked w into fidelity.json and the table."""

from __future__ import annotations

import json
import math

from recagora.experiments.cli.main import main


def test_the_hybrids_weight_is_in_the_report_and_the_table(tmp_path, monkeypatch, capsys):
    """An LLM answering P(yes) = 0.5 ties every w on validation (logit 0): the grid's first, 0,
    is picked. The wrapped learned model is the popularity baseline (a test double: the real
    learned fit costs minutes)."""
    import recagora.agents.llm as llm_package
    import recagora.agents.user_models as user_models
    from recagora.agents.hybrid_user_model import DEFAULT_GRID
    from recagora.item_space.fidelity.baselines import baseline_factories

    opened = llm_package.open_llm
    even = json.dumps({"Yes": math.log(0.5), "No": math.log(0.5)})
    monkeypatch.setattr(
        llm_package,
        "open_llm",
        lambda spec, **kw: opened(spec, fake_reply_fn=lambda messages, schema: even, **kw),
    )
    monkeypatch.setattr(
        user_models,
        "build_user_model",
        lambda name, dataset, split, seed=0, **kw: baseline_factories(len(dataset.catalog), seed)[
            "popularity"
        ](split),
    )
    out = tmp_path / "hybrid"
    args = ["--agents", "user=hybrid", "--llm", "fake:", "--users", "10", "--k", "5", "--ratios", "1"]
    assert main(["fidelity", "--dataset", "ml-100k", *args, "--no-folds", "--out", str(out)]) == 0
    fitted = json.loads((out / "fidelity.json").read_text())["fitted"]
    assert fitted["hybrid"]["weight"] == 0.0
    assert list(fitted["hybrid"]["validation_log_likelihood"]) == [str(w) for w in DEFAULT_GRID]
    assert "hybrid w = 0 (picked on validation)" in capsys.readouterr().out
