"""Vega-Lite specs of the report's charts, built with Altair (rendered in the page by
vega-embed: hover for values, click a legend entry to show only that series)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from recagora.agents.llm.ledger import LATENCY_FLOOR_S, LATENCY_RATIO

# Columns of round_metrics that are bookkeeping, not metrics.
NOT_METRICS = ("round",)
PANEL_WIDTH = 210
PANEL_HEIGHT = 120


def metric_rows_long(rows: list[dict[str, Any]], label: str | None = None) -> pd.DataFrame:
    """[{round, metric, value[, run]}] for every numeric metric of every round (1-based)."""
    records = [
        {"round": row["round"] + 1, "metric": key, "value": float(value), "run": label}
        for row in rows
        for key, value in row.items()
        if key not in NOT_METRICS and isinstance(value, int | float) and not isinstance(value, bool)
    ]
    frame = pd.DataFrame(records, columns=["round", "metric", "value", "run"])
    return frame if label is not None else frame.drop(columns="run")


def metrics_chart(long: pd.DataFrame, series: str = "metric") -> dict[str, Any] | None:
    """Small multiples, one panel per metric (own y scale), one line per `series`
    ("metric" for one run, "run" to compare runs); the legend toggles series."""
    if long.empty:
        return None
    pick = alt.selection_point(fields=[series], bind="legend")
    tooltip = ["metric:N", "round:O", alt.Tooltip("value:Q", format=".4g")]
    if series == "run":
        tooltip.insert(0, "run:N")
    base = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("round:O", title="round"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=alt.Color(f"{series}:N", legend=alt.Legend(title=f"{series} (click)")),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.12)),
            tooltip=tooltip,
        )
        .add_params(pick)
        .properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
    )
    return (
        base.facet(facet=alt.Facet("metric:N", title=None), columns=4)
        .resolve_scale(y="independent")
        .to_dict()
    )


def exposure_chart(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Share of exposure per popularity group after each round (stacked to 100%)."""
    records = [
        {"round": e["round"] + 1, "group": g + 1, "weight": float(w)}
        for e in events
        if e.get("kind") == "exposure" and isinstance(e.get("round"), int)
        for g, w in enumerate(e.get("group_weight") or [])
    ]
    if not records:
        return None
    frame = pd.DataFrame(records)
    frame["share"] = frame["weight"] / frame.groupby("round")["weight"].transform("sum")
    pick = alt.selection_point(fields=["group"], bind="legend")
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("round:O", title="round"),
            y=alt.Y(
                "share:Q", stack="normalize", title="share of exposure", axis=alt.Axis(format="%")
            ),
            color=alt.Color(
                "group:O",
                scale=alt.Scale(scheme="viridis"),
                legend=alt.Legend(title="popularity group (click)"),
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=[
                "round:O",
                "group:O",
                alt.Tooltip("share:Q", format=".1%"),
                alt.Tooltip("weight:Q", format=".4g"),
            ],
        )
        .add_params(pick)
        .properties(width=420, height=240)
        .to_dict()
    )


def item_series_spec() -> dict[str, Any]:
    """Per-item exposure over rounds; the page fills the named data set `series`
    ([{round, shown, consumed}]) with the item picked."""
    return (
        alt.Chart(alt.Data(name="series"))
        .transform_fold(["shown", "consumed"], as_=["measure", "count"])
        .mark_line(point=True)
        .encode(
            x=alt.X("round:O", title="round"),
            y=alt.Y("count:Q", title="times"),
            color=alt.Color("measure:N", legend=alt.Legend(title=None)),
            tooltip=["round:O", "measure:N", "count:Q"],
        )
        .properties(width=320, height=150)
        .to_dict()
    )


def latency_chart(ledger: dict[str, Any]) -> dict[str, Any] | None:
    """Calls per latency from the ledger's histogram: bucket b holds latencies from
    LATENCY_FLOOR_S * LATENCY_RATIO**b seconds (agents/llm/ledger.py)."""
    histogram = ledger.get("latency_histogram") or {}
    if not isinstance(histogram, dict) or not histogram:
        return None
    frame = pd.DataFrame(
        [
            {"latency_s": LATENCY_FLOOR_S * LATENCY_RATIO ** int(b), "calls": int(n)}
            for b, n in histogram.items()
        ]
    )
    return (
        alt.Chart(frame)
        .mark_bar(width=3)
        .encode(
            x=alt.X("latency_s:Q", scale=alt.Scale(type="log"), title="latency (s, log)"),
            y=alt.Y("calls:Q"),
            tooltip=[alt.Tooltip("latency_s:Q", format=".3g"), "calls:Q"],
        )
        .properties(width=520, height=160)
        .to_dict()
    )
