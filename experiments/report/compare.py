"""Several runs side by side: what differs in their configs, their overall metrics, and
their per-round metrics on shared panels (one line per run; the legend toggles runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from recagora.experiments.report import charts
from recagora.experiments.report.rundata import RunData

IGNORED_CONFIG = ("seed",)  # differs on purpose in repeats; still shown in the table


def compare_page(runs: list[RunData], reports: list[Path]) -> dict[str, Any]:
    """Sections of the comparison page of `runs` (their reports at `reports`)."""
    varying = varying_fields([r.config for r in runs])
    labels = run_labels(runs, varying)
    long = pd.concat(
        [
            charts.metric_rows_long(r.metric_rows(), label)
            for r, label in zip(runs, labels, strict=True)
        ],
        ignore_index=True,
    )
    problems = [f"{r.name}: {p}" for r in runs for p in r.problems]
    sections = [
        {
            "id": "table",
            "title": "Side by side",
            "kind": "table",
            "caption": _caption(varying),
            **_overall_table(runs, labels, varying),
        },
        {
            "id": "metrics",
            "title": "Metrics per round",
            "kind": "chart",
            "spec": charts.metrics_chart(long, series="run"),
            "empty": "no run finished a round",
        },
        {
            "id": "reports",
            "title": "Run reports",
            "kind": "links",
            "links": [
                [f"{label}: {r.name}", p.as_uri()]
                for r, label, p in zip(runs, labels, reports, strict=True)
            ],
        },
    ]
    run = {"name": f"{len(runs)} runs", "scenario": ", ".join(sorted({r.scenario for r in runs}))}
    return {"run": run, "problems": problems, "sections": sections}


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"platform.trirec.alpha_max": 0.5, ...} of a nested config."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def varying_fields(configs: list[dict[str, Any]]) -> list[str]:
    """Config fields whose value is not the same in every run (sorted)."""
    flats = [flatten(c) for c in configs]
    names = sorted({k for f in flats for k in f})
    return [n for n in names if len({repr(f.get(n)) for f in flats}) > 1]


def run_labels(runs: list[RunData], varying: list[str]) -> list[str]:
    """A short label per run from its varying fields (`alpha_max=0.3`), else its name."""
    shown = [n for n in varying if n not in IGNORED_CONFIG] or varying
    labels = []
    for r in runs:
        flat = flatten(r.config)
        parts = [f"{n.rsplit('.', 1)[-1]}={flat.get(n)}" for n in shown[:3]]
        labels.append(", ".join(parts) or r.name)
    if len(set(labels)) < len(labels):  # same fields shown: fall back to the folder names
        labels = [f"{label} ({r.name})" for label, r in zip(labels, runs, strict=True)]
    return labels


def _overall_table(runs: list[RunData], labels: list[str], varying: list[str]) -> dict[str, Any]:
    """One column per run: its varying config fields, status, then every overall metric."""
    overall = [r.summary.get("overall") or {} for r in runs]
    metrics = list(dict.fromkeys(k for o in overall for k in o))
    flats = [flatten(r.config) for r in runs]
    rows = [["run", *[r.name for r in runs]], ["status", *[r.status for r in runs]]]
    rows += [[name, *[f.get(name) for f in flats]] for name in varying]
    rows += [[m, *[_round(o.get(m)) for o in overall]] for m in metrics]
    return {"columns": ["", *labels], "rows": rows}


def _caption(varying: list[str]) -> str:
    if not varying:
        return "The runs share one config."
    return "Config fields that differ: " + ", ".join(varying) + "."


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value
