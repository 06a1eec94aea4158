"""`--track mlflow`: one MLflow run per RecAgora run, topped up (never duplicated) on resume."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from mlflow.tracking import MlflowClient

from recagora.experiments.cli.main import main
from recagora.experiments.runner.folder import RunFolder
from recagora.experiments.tracking import log_run, metric_key, tracking_uri


def _folder(tmp_path, rounds: int) -> RunFolder:
    folder = RunFolder(tmp_path / "runs" / "trirec-x")
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.manifest_path.write_text(json.dumps({"run_id": "r-1", "scenario_version": "v1"}))
    folder.config_path.write_text(
        yaml.safe_dump({"scenario": "trirec", "seed": 3, "platform": {"alpha": 0.5}})
    )
    frame = pd.DataFrame({"round": range(rounds), "ndcg@5": [0.1 * (r + 1) for r in range(rounds)]})
    frame.to_csv(folder.metrics_csv, index=False)
    return folder


def _history(client, run_id: str, key: str) -> list[tuple[int, float]]:
    return sorted((m.step, round(m.value, 6)) for m in client.get_metric_history(run_id, key))


def test_metric_names_become_mlflow_legal():
    assert metric_key("ndcg@5") == "ndcg_at_5" and metric_key("exposure gini") == "exposure gini"


def test_a_resumed_run_tops_up_the_same_mlflow_run(tmp_path):
    folder = _folder(tmp_path, rounds=2)
    first = log_run(folder, "paused")
    _folder(tmp_path, rounds=4)  # the resume wrote rounds 2 and 3
    second = log_run(folder, "finished")
    assert first == second
    client = MlflowClient(tracking_uri(folder))
    assert _history(client, first, "ndcg_at_5") == [(0, 0.1), (1, 0.2), (2, 0.3), (3, 0.4)]
    run = client.get_run(first)
    assert run.data.params["platform.alpha"] == "0.5" and run.data.params["seed"] == "3"
    assert run.data.tags["recagora.status"] == "finished" and run.info.status == "FINISHED"


@pytest.mark.slow
def test_cli_run_with_track_mlflow(tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = ["run", "trirec", "--agents", "user=surrogate,item=surrogate", "--llm", "fake:",
            "--users", "3", "--rounds", "2", "--set", "user_fit.max_train_samples=2000",
            "--quiet", "--runs-dir", str(runs), "--track", "mlflow"]  # fmt: skip
    assert main(argv) == 0
    assert "mlflow: run " in capsys.readouterr().out
    client = MlflowClient(tracking_uri(RunFolder(next(runs.glob("trirec-*")))))
    (experiment,) = [e for e in client.search_experiments() if e.name == "recagora-trirec"]
    (run,) = client.search_runs([experiment.experiment_id])
    assert [s for s, _ in _history(client, run.info.run_id, "ndcg_at_5")] == [0, 1]


def test_an_unknown_tracker_is_one_line(capsys):
    assert main(["run", "trirec", "--track", "wandb"]) == 2
    assert capsys.readouterr().err.strip() == "error: unknown tracker 'wandb'; trackers: mlflow"
