"""The report page's content for one run, as JSON-ready sections (no HTML here).

A section is {"id", "title", "kind", ...}: "kv" (rows of [label, value]), "text",
"table" (columns, rows), "chart" (a Vega-Lite spec), "view" (a searchable list of
entities, see entities.py), or "notes". The template renders them as tabs.
"""

from __future__ import annotations

from typing import Any

import yaml

from recagora.experiments.report import charts
from recagora.experiments.report.entities import short
from recagora.experiments.report.items import item_view, paper_ranking, paper_view
from recagora.experiments.report.journeys import user_journeys
from recagora.experiments.report.rundata import RunData

LEDGER_FIELDS = (
    "spec",
    "model",
    "requests",
    "calls",
    "cache_hits",
    "failed_requests",
    "repairs",
    "prompt_tokens",
    "completion_tokens",
    "cached_prompt_tokens",
    "cached_completion_tokens",
    "latency_total_s",
    "batch_wall_s",
    "cost_usd",
    "sessions",
    "structured_mode",
)


def build_page(data: RunData, max_entities: int = 500, seed: int = 0) -> dict[str, Any]:
    """{"run": {...}, "problems": [...], "sections": [...]} for `data`."""
    sections = [
        _overview(data),
        *_metric_sections(data),
        *_views(data, max_entities, seed),
        *_ledger(data.ledger),
    ]
    return {
        "run": {
            "name": data.name,
            "path": str(data.path),
            "scenario": data.scenario,
            "status": data.status,
            "rounds_complete": len(data.complete_rounds()),
        },
        "problems": data.problems,
        "sections": [s for s in sections if s is not None],
    }


def _overview(data: RunData) -> dict[str, Any]:
    manifest = {k: v for k, v in data.manifest.items() if k != "packages"}
    overall = data.summary.get("overall") or {}
    return {
        "id": "overview",
        "title": "Overview",
        "kind": "group",
        "parts": [
            {
                "title": "summary (mean over rounds, counters summed)",
                "kind": "kv",
                "kv": [[k, _round(v)] for k, v in overall.items()],
            },
            {"title": "manifest", "kind": "kv", "kv": [[k, short(v)] for k, v in manifest.items()]},
            {
                "title": "packages",
                "kind": "kv",
                "kv": [[k, v] for k, v in (data.manifest.get("packages") or {}).items()],
            },
            {
                "title": "config (resolved)",
                "kind": "text",
                "text": yaml.safe_dump(data.config, sort_keys=False) if data.config else "(none)",
            },
        ],
    }


def _metric_sections(data: RunData) -> list[dict[str, Any] | None]:
    metrics = charts.metrics_chart(charts.metric_rows_long(data.metric_rows()))
    exposure = charts.exposure_chart(data.events)
    return [
        {
            "id": "metrics",
            "title": "Metrics per round",
            "kind": "chart",
            "spec": metrics,
            "empty": "no round finished its metrics",
        },
        exposure
        and {
            "id": "exposure",
            "title": "Exposure by popularity group",
            "kind": "chart",
            "spec": exposure,
            "empty": "",
        },
    ]


def _views(data: RunData, limit: int, seed: int) -> list[dict[str, Any] | None]:
    users = user_journeys(data.events, limit, seed)
    items = item_view(data.events, limit)
    papers = paper_view(data.events, limit, seed)
    ranking = paper_ranking(data.events, limit)
    sections: list[dict[str, Any] | None] = []
    if users["entities"]:
        sections.append({"id": "users", "kind": "view", **users})
    if items:
        sections.append(
            {"id": "items", "kind": "view", "series_spec": charts.item_series_spec(), **items}
        )
    if papers:
        sections.append({"id": "papers", "kind": "view", **papers})
    if ranking:
        sections.append(
            {
                "id": "ranking",
                "kind": "table",
                **ranking,
                "title": "Ranking",
                "caption": ranking["title"],
            }
        )
    return sections


def _ledger(ledger: dict[str, Any]) -> list[dict[str, Any]]:
    if not ledger:
        return [
            {
                "id": "ledger",
                "title": "LLM ledger",
                "kind": "text",
                "text": "No LLM calls were recorded for this run (llm_ledger.json is empty).",
            }
        ]
    latency = ledger.get("latency_s") or {}
    kv = [[k, _round(ledger[k])] for k in LEDGER_FIELDS if k in ledger]
    kv += [[f"latency {k} (s)", _round(v)] for k, v in latency.items()]
    kv += [["failures", ledger.get("failures")], ["retries", ledger.get("retries")]]
    tags = ledger.get("by_tag") or {}
    columns = ["tag", "requests", "cache_hits", "failures", "prompt_tokens", "completion_tokens"]
    rows = [[tag, *[c.get(k) for k in columns[1:]]] for tag, c in tags.items()]
    return [
        {
            "id": "ledger",
            "title": "LLM ledger",
            "kind": "group",
            "parts": [
                {"title": "totals (every process that worked on the run)", "kind": "kv", "kv": kv},
                {"title": "by caller", "kind": "table", "columns": columns, "rows": rows},
                {
                    "title": "latency histogram",
                    "kind": "chart",
                    "spec": charts.latency_chart(ledger),
                    "empty": "no latencies recorded",
                },
            ],
        }
    ]


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value
