"""FLAME's point-wise classifier: trains on the MIMIC-IV demo, serves the clinic scenario."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recagora.experiments.cli.main import main
from recagora.item_space.errors import ConfigError


@pytest.fixture(scope="module")
def trained(shared_data, tmp_path_factory):
    if not (shared_data / "clinical" / "mimic-iv-demo-2.2").is_dir():
        pytest.skip(f"clinical demo data not present in {shared_data}")
    out = tmp_path_factory.mktemp("flame-cls")
    assert main(["train", "flame-cls", "--set", "epochs=15", "--output-dir", str(out)]) == 0
    return out


def test_the_run_folder_holds_the_arrays_and_a_report(trained):
    report = json.loads((trained / "report.json").read_text())
    assert 1 <= report["epoch"] <= 15 and 0.05 <= report["threshold"] <= 0.95
    assert 0.0 < report["test"]["jaccard"] < 1.0
    arrays = np.load(trained / "classifier.npz")
    meta = json.loads((trained / "classifier.json").read_text())
    assert arrays["drugs"].shape == (200, 32) and len(meta["tokens"]) == arrays["tokens"].shape[0]
    assert meta["seed"] == 0


def test_a_learned_classifier_beats_the_drug_prior_on_validation(trained):
    rows = (trained / "metrics.csv").read_text().splitlines()[1:]
    jaccards = [float(r.split(",")[2]) for r in rows]
    assert max(jaccards) > jaccards[0]


def test_the_classifier_serves_the_clinic_scenario(trained, tmp_path):
    argv = ["run", "clinic", "--agents", "clinician=classifier", "--set", f"classifier={trained}",
            "--set", "rounds=1", "--runs-dir", str(tmp_path), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    (folder,) = tmp_path.glob("clinic-*")
    summary = json.loads((folder / "summary.json").read_text())
    report = json.loads((trained / "report.json").read_text())
    # Round 0's proposals are the classifier's yes-lists: the same test Jaccard as training reported.
    assert summary["overall"]["proposed_jaccard"] == pytest.approx(
        report["test"]["jaccard"], abs=1e-4
    )


def test_serving_on_another_split_is_refused(trained, tmp_path, capsys):
    argv = ["run", "clinic", "--agents", "clinician=classifier", "--set", f"classifier={trained}",
            "--set", "seed=1", "--runs-dir", str(tmp_path), "--quiet"]  # fmt: skip
    assert main(argv) == 2
    assert "would test it on its own training visits" in capsys.readouterr().err


def test_bad_config_is_one_line():
    from recagora.training.flame_cls import FlameClsConfig

    with pytest.raises(ConfigError, match="epochs must be >= 1"):
        FlameClsConfig(epochs=0)
