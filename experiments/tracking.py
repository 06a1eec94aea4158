"""Log a run folder to MLflow (`recagora run --track mlflow`), the tracker researchers already use.

One MLflow run per RecAgora run, found again by the `recagora.run_id` tag, so a resumed
run adds its new rounds to the same MLflow run instead of starting another:

- params: the resolved config, flattened (`platform.trirec.alpha_max`, ...);
- metrics: every per-round column of `metrics.csv` at step = round index (MLflow keys
  allow no `@`: `ndcg@5` is logged as `ndcg_at_5`); rounds already logged are skipped;
- tags: scenario, scenario version, status, the run folder's path;
- the run's status: FINISHED, or KILLED for a paused or failed run.

The store is $MLFLOW_TRACKING_URI when set, else a local file store `mlruns/` beside the
run folders (`MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri <runs>/mlruns`).
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from recagora.experiments.runner.folder import RunFolder
from recagora.item_space.errors import ConfigError

TRACKERS = ("mlflow",)
RUN_ID_TAG = "recagora.run_id"
MAX_PARAM_CHARS = 6000  # MLflow's limit on a param value


def check_tracker(name: str | None) -> None:
    """One-line error for an unknown tracker or a missing MLflow install (before any run)."""
    if name is None:
        return
    if name not in TRACKERS:
        raise ConfigError(f"unknown tracker {name!r}; trackers: {', '.join(TRACKERS)}")
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise ConfigError("--track mlflow needs MLflow: pip install 'recagora[track]'") from None


def tracking_uri(folder: RunFolder) -> str:
    """$MLFLOW_TRACKING_URI, else the local file store `mlruns/` beside the run folders.

    MLflow 3 keeps its file store in maintenance mode and refuses it unless
    MLFLOW_ALLOW_FILE_STORE is set; we set it for our default store only: it needs no
    database driver (mlflow-skinny has none) and `mlflow ui` still reads it.
    """
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return (folder.path.parent / "mlruns").resolve().as_uri()


def log_run(folder: RunFolder, status: str, uri: str | None = None) -> str:
    """Log (or top up) the MLflow run of `folder`; returns the MLflow run id."""
    from mlflow.entities import Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri or tracking_uri(folder))
    manifest, config = folder.read_manifest(), folder.read_config()
    scenario = str(config.get("scenario", "run"))
    run = _find_or_create(client, f"recagora-{scenario}", manifest, folder)
    if not run.data.params:
        params = [Param(k, _param(v)) for k, v in _flatten(config).items()]
        for start in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            client.log_batch(run.info.run_id, params=params[start : start + 100])
    metrics = _new_metrics(client, run, folder)
    for start in range(0, len(metrics), 1000):
        client.log_batch(run.info.run_id, metrics=metrics[start : start + 1000])
    tags = {
        "recagora.scenario": scenario,
        "recagora.scenario_version": str(manifest.get("scenario_version", "")),
        "recagora.status": status,
        "recagora.folder": str(folder.path.resolve()),
    }
    client.log_batch(run.info.run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    client.set_terminated(run.info.run_id, "FINISHED" if status == "finished" else "KILLED")
    return run.info.run_id


def _find_or_create(client, experiment_name: str, manifest: dict, folder: RunFolder):
    experiment = client.get_experiment_by_name(experiment_name)
    experiment_id = (
        experiment.experiment_id if experiment else client.create_experiment(experiment_name)
    )
    run_id = str(manifest.get("run_id") or folder.name)
    found = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{run_id}'")
    if found:
        return found[0]
    return client.create_run(experiment_id, run_name=folder.name, tags={RUN_ID_TAG: run_id})


def _new_metrics(client, run, folder: RunFolder) -> list:
    """Metric entries for the rounds of metrics.csv that the MLflow run does not have yet."""
    import pandas as pd
    from mlflow.entities import Metric

    if not folder.metrics_csv.is_file():
        return []
    frame = pd.read_csv(folder.metrics_csv)
    if "round" not in frame.columns or frame.empty:
        return []
    logged = {key: value for key, value in run.data.metrics.items()}
    last = -1
    if logged:
        key = next(iter(logged))
        last = max(m.step for m in client.get_metric_history(run.info.run_id, key))
    now = int(time.time() * 1000)
    out = []
    for row in frame.to_dict("records"):
        step = int(row["round"])
        if step <= last:
            continue
        for column, value in row.items():
            if column == "round" or not isinstance(value, int | float) or value != value:
                continue
            out.append(Metric(metric_key(column), float(value), now, step))
    return out


def metric_key(column: str) -> str:
    """An MLflow-legal metric name: `ndcg@5` -> `ndcg_at_5`, other odd characters -> `_`."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", column.replace("@", "_at_"))


def _flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _param(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 1] + "…"
