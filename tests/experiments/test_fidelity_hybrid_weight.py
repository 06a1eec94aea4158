"""`recagora fidelity` writes the hybrid's validation-picked w into fidelity.json and the table."""

from __future__ import annotations

import json

from recagora.experiments.cli.main import main


def test_the_hybrids_weight_is_in_the_report_and_the_table(tmp_path, uninformative_hybrid, capsys):
    """An LLM answering P(yes) = 0.5 ties every w on validation (logit 0): the grid's first, 0,
    is picked. The wrapped learned model is the popularity baseline (a test double: the real
    learned fit costs minutes)."""
    from recagora.agents.hybrid_user_model import DEFAULT_GRID

    out = tmp_path / "hybrid"
    args = [
        "--agents",
        "user=hybrid",
        "--llm",
        "fake:",
        "--users",
        "10",
        "--k",
        "5",
        "--ratios",
        "1",
    ]
    assert main(["fidelity", "--dataset", "ml-100k", *args, "--no-folds", "--out", str(out)]) == 0
    fitted = json.loads((out / "fidelity.json").read_text())["fitted"]
    assert fitted["hybrid"]["weight"] == 0.0
    assert list(fitted["hybrid"]["validation_log_likelihood"]) == [str(w) for w in DEFAULT_GRID]
    assert "hybrid w = 0 (picked on validation)" in capsys.readouterr().out
