"""The suite's result as a leaderboard (one row per model), long-form CSV rows and JSON.

The leaderboard reads the headline protocol: choice at the largest K with the first
negative kind (K=10, popularity negatives by default), discrimination at 1:1 and 1:9 asked
as a list (Agent4Rec's protocol: the items shown together) and 1:1 asked item by item alone,
ratings on ML-100K's u1..u5 folds when they ran (mean of 5), else on the held-out items,
and population bias on the headline choice protocol.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any


def headline_choice(report: dict) -> str:
    """The choice protocol the leaderboard shows, e.g. 'K10-popularity'."""
    config = report["config"]
    return f"K{max(config['ks'])}-{config['negatives'][0]}"


def leaderboard(report: dict) -> list[dict[str, Any]]:
    """One row per model: name, then the headline metrics (None where not available)."""
    return [_row(report, name) for name in report["models"]]


def _row(report: dict, name: str) -> dict[str, Any]:
    key = headline_choice(report)
    ndcg = f"ndcg@{report['config']['ndcg_k']}"
    choice = report["choice"][key][name]
    disc = report["discrimination"][name]
    first, last = min(report["config"]["ratios"]), max(report["config"]["ratios"])
    rating = _rating_headline(report, name)
    population = report["population"]["models"][key][name]
    return {
        "model": name,
        f"{key} top1": choice["top1"],
        f"{key} {ndcg}": choice[ndcg],
        f"{key} loglik": choice["log_likelihood"],
        f"{key} ECE": choice["ece"],
        f"list 1:{first} accuracy": disc["list"][f"1:{first}"]["accuracy"],
        f"list 1:{first} F1": disc["list"][f"1:{first}"]["f1"],
        f"list 1:{last} accuracy": disc["list"][f"1:{last}"]["accuracy"],
        f"alone 1:{first} accuracy": disc["alone"][f"1:{first}"]["accuracy"],
        "rating RMSE": rating.get("rmse"),
        "rating MAE": rating.get("mae"),
        "rating JSD": rating.get("jsd"),
        "1-2 star share": rating.get("low_share"),
        "1-2 star share real": rating.get("low_share_real"),
        "user mean corr": rating.get("user_mean_correlation"),
        "popularity-group JSD": population["jsd"],
        "choice Gini": population["gini"],
    }


def fitted_notes(report: dict) -> str:
    """'hybrid w = 0.25 (picked on validation)' for each model whose fit chose a weight; '' if none."""
    notes = [
        f"{name} w = {summary['weight']:g}"
        + (" (picked on validation)" if "validation_log_likelihood" in summary else "")
        for name, summary in report.get("fitted", {}).items()
        if "weight" in summary
    ]
    return "; ".join(notes)


def rating_source(report: dict) -> str:
    """'u1..u5 folds (mean)' or 'held-out items' or 'not available'."""
    folds = report["ratings"].get("folds")
    if folds and any(entry.get("available") for entry in folds.values()):
        return "u1..u5 folds (mean)"
    heldout = report["ratings"]["heldout"]
    if any(entry.get("available") for entry in heldout.values()):
        return "held-out items"
    return "not available"


def _rating_headline(report: dict, name: str) -> dict:
    folds = report["ratings"].get("folds")
    if folds and folds.get(name, {}).get("available"):
        return folds[name]["mean"]
    entry = report["ratings"]["heldout"].get(name, {})
    return entry if entry.get("available") else {}


def long_rows(report: dict) -> list[dict[str, Any]]:
    """Every scalar metric as (section, protocol, model, metric, value) rows."""
    rows = []
    for key, models in report["choice"].items():
        rows += _scalars("choice", key, models)
    for name, asked in report["discrimination"].items():
        for way in ("list", "alone"):
            for ratio, scores in asked[way].items():
                rows += _scalars("discrimination", f"{way} {ratio}", {name: scores})
    rows += _scalars("ratings", "held-out", report["ratings"]["heldout"])
    folds = report["ratings"].get("folds") or {}
    rows += _scalars(
        "ratings", "u1..u5 mean", {n: e["mean"] for n, e in folds.items() if e.get("available")}
    )
    for key, models in report["population"]["models"].items():
        rows += _scalars("population", key, models)
    return rows


def _scalars(section: str, protocol: str, models: dict) -> list[dict[str, Any]]:
    return [
        {"section": section, "protocol": protocol, "model": name, "metric": metric, "value": value}
        for name, scores in models.items()
        for metric, value in scores.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text of dict rows (columns from the first row)."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def to_json(report: dict) -> str:
    """Strict JSON (NaN and infinities become null)."""
    return json.dumps(_clean(report), indent=2, allow_nan=False) + "\n"


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value
