"""Per-round metrics tables, summary and PNG plots of a run folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from recagora.experiments.runner.events import read_events
from recagora.experiments.runner.folder import RunFolder
from recagora.item_space.figures import save_figure

METRICS_KIND = "round_metrics"

# No default plots: each scenario lists its own in its spec (`ScenarioSpec.round_plots`,
# from the `plot=True` entries of `ScenarioSpec.metrics`). Kept for the runner's import.
ROUND_PLOTS: tuple[tuple[str, str], ...] = ()


def metrics_frame(folder: RunFolder, trusted: bool = False) -> pd.DataFrame:
    """One row per finished round, read back from the event log's metrics events.

    trusted: the runner's own log, just written: only the metrics lines are parsed (a
    damaged line elsewhere goes unnoticed). Readers of any folder keep the default, which
    parses every line and so reports a damaged log.
    """
    marker = f'"{METRICS_KIND}"'.encode() if trusted else None
    rows = [
        {k: v for k, v in e.items() if k not in ("seq", "kind")}
        for e in read_events(folder.events_path, containing=marker)
        if e.get("kind") == METRICS_KIND
    ]
    return (
        pd.DataFrame(rows).sort_values("round").reset_index(drop=True) if rows else pd.DataFrame()
    )


def write_metrics_tables(folder: RunFolder, frame: pd.DataFrame) -> None:
    """metrics.parquet and metrics.csv (same content)."""
    frame.to_parquet(folder.metrics_parquet, index=False)
    frame.to_csv(folder.metrics_csv, index=False)


def overall_metrics(frame: pd.DataFrame) -> dict[str, float]:
    """Mean over rounds of every numeric metric, weighted by the round's active users.

    Counters (tokens, calls, exits) are summed instead of averaged.
    """
    if frame.empty:
        return {}
    weights = frame["active_users"].clip(lower=1) if "active_users" in frame else None
    overall: dict[str, float] = {}
    for column in frame.columns:
        if column == "round" or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = frame[column].astype(float)
        if _is_counter(column):
            overall[column] = float(values.sum())
        elif weights is not None and values.notna().all():
            overall[column] = float((values * weights).sum() / weights.sum())
        else:
            overall[column] = float(values.mean())
    overall["rounds_done"] = float(len(frame))
    return overall


def _is_counter(column: str) -> bool:
    return column.endswith(("_tokens", "exits", "cost_usd")) or column in (
        "llm_requests",
        "llm_cached",
        "llm_failures",
    )


def plot_rounds(
    folder: RunFolder, frame: pd.DataFrame, columns: Sequence[tuple[str, str]] = ROUND_PLOTS
) -> list[Path]:
    """One PNG per available per-round metric under plots/; returns the paths written.

    columns: (column, title) pairs, the scenario's `spec.round_plots`; a column absent
    from the run (or all NaN) is skipped.
    """
    written = []
    for column, title in columns:
        if column in frame and frame[column].notna().any():
            path = folder.plots_dir / f"round_{column.replace('@', '_at_')}.png"
            _line_plot(frame["round"] + 1, frame[column], title, "round", column, path)
            written.append(path)
    return written


def plot_tradeoff(points: pd.DataFrame, x: str, y: str, label: str, path: Path, title: str) -> Path:
    """Scatter + line of `y` against `x`, each point annotated with its `label` value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = points.sort_values(label)
    figure, axes = plt.subplots(figsize=(5, 4), dpi=100)
    axes.plot(ordered[x], ordered[y], marker="o")
    for _, row in ordered.iterrows():
        axes.annotate(
            f"{row[label]:g}",
            (row[x], row[y]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    axes.set(xlabel=x, ylabel=y, title=title)
    return save_figure(figure, path)


def bar_plot(
    table: pd.DataFrame, label: str, columns: Sequence[str], path: Path, title: str
) -> Path:
    """Grouped bars: one group per metric column, one bar per row (named by `label`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    table.set_index(label)[list(columns)].T.plot.bar(ax=axes, rot=0)
    axes.set(title=title)
    return save_figure(figure, path)


def _line_plot(xs: Any, ys: Any, title: str, xlabel: str, ylabel: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 3.5), dpi=100)
    axes.plot(xs, ys, marker="o")
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.xaxis.get_major_locator().set_params(integer=True)
    save_figure(figure, path)
