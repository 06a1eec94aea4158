"""PNG plots of a fidelity report: reliability diagrams, rating and popularity-group shares,
and the discrimination accuracy of each model asked item by item (alone) and as a list.

Each figure is written to a temp file and renamed, so a failure leaves no partial PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recagora.item_space.fidelity.report import headline_choice
from recagora.item_space.figures import save_figure


def save_plots(report: dict, folder: Path) -> list[Path]:
    """Write every plot of `report` into `folder`; return the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    paths = [_reliability(report, name, folder) for name in report["models"]]
    rating = _ratings(report, folder)
    return [
        *paths,
        *([rating] if rating else []),
        _population(report, folder),
        _discrimination(report, folder),
    ]


def _discrimination(report: dict, folder: Path) -> Path:
    """Accuracy at each 1:m: per model a pale bar asked alone and a solid one as a list."""
    import matplotlib.pyplot as plt

    ratios = [f"1:{m}" for m in report["config"]["ratios"]]
    names = report["models"]
    width = 0.8 / (2 * len(names))
    figure, axis = plt.subplots(figsize=(9, 4), dpi=100)
    for index, name in enumerate(names):
        color = f"C{index}"
        for offset, (way, alpha) in enumerate((("alone", 0.4), ("list", 1.0))):
            values = [report["discrimination"][name][way][r]["accuracy"] for r in ratios]
            x = np.arange(len(ratios)) + (2 * index + offset) * width
            axis.bar(x, values, width=width, color=color, alpha=alpha, label=f"{name} {way}")
    axis.set_xticks(np.arange(len(ratios)) + 0.4 - width / 2, ratios)
    axis.set(
        xlabel="held-out : never-seen items",
        ylabel="accuracy of the yes / pick decisions",
        ylim=(0, 1),
        title=f"{report['dataset']}: discrimination asked alone (pale) and as a list (solid)",
    )
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    figure.tight_layout()
    return _save(figure, folder / "discrimination.png")


def _reliability(report: dict, name: str, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    key = headline_choice(report)
    scores = report["choice"][key][name]
    bins = scores["reliability"]
    edges = np.asarray(bins["edges"])
    accuracy = np.array([np.nan if a is None else a for a in bins["accuracy"]])
    figure, axis = plt.subplots(figsize=(5, 5), dpi=100)
    axis.bar(
        edges[:-1],
        np.nan_to_num(accuracy),
        width=np.diff(edges),
        align="edge",
        edgecolor="black",
        alpha=0.7,
        label="accuracy per bin",
    )
    axis.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    axis.set(
        xlabel="top-1 confidence",
        ylabel="top-1 accuracy",
        xlim=(0, 1),
        ylim=(0, 1),
        title=f"{name}: {key}, ECE {scores['ece']:.3f}",
    )
    axis.legend(loc="upper left")
    return _save(figure, folder / f"reliability_{_safe(name)}.png")


def _ratings(report: dict, folder: Path) -> Path | None:
    import matplotlib.pyplot as plt

    levels = report["ratings"]["levels"]
    entries = {n: e for n, e in report["ratings"]["heldout"].items() if e.get("available")}
    if not levels or not entries:
        return None
    real = next(iter(entries.values()))["real_distribution"]
    return _grouped_bars(
        plt,
        [str(v) for v in levels],
        {"real": real, **{n: e["distribution"] for n, e in entries.items()}},
        "rating",
        "share of held-out ratings",
        f"{report['dataset']}: simulated vs real ratings",
        folder / "ratings.png",
    )


def _population(report: dict, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    key = headline_choice(report)
    models = report["population"]["models"][key]
    series = {
        "real": report["population"]["real"]["groups"],
        **{n: e["groups"] for n, e in models.items()},
    }
    labels = [str(g) for g in range(len(series["real"]))]
    return _grouped_bars(
        plt,
        labels,
        series,
        "popularity group (0 = least popular)",
        "share of chosen items",
        f"{report['dataset']}: choices by popularity group ({key})",
        folder / "popularity_groups.png",
    )


def _grouped_bars(
    plt, labels, series: dict, xlabel: str, ylabel: str, title: str, path: Path
) -> Path:
    figure, axis = plt.subplots(figsize=(7, 4), dpi=100)
    width = 0.8 / len(series)
    for offset, (name, values) in enumerate(series.items()):
        axis.bar(np.arange(len(labels)) + offset * width, values, width=width, label=name)
    axis.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels)
    axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    axis.legend()
    return _save(figure, path)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def _save(figure, path: Path) -> Path:
    return save_figure(figure, path)
