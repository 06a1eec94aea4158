"""Tables, paired tests and the figure of `semantic_id_track.py`'s results.

Paired tests run on the same seeded test users: per user, the hit at 1 and the NDCG@10
averaged over the seeds, MindRec minus the other method, Wilcoxon signed-rank
(`scipy.stats.wilcoxon`, zero differences dropped); plus the exact McNemar test of the
hits at 1 pooled over (seed, user) pairs.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
from scipy.stats import binomtest, wilcoxon

COLUMNS = ("HR@1", "HR@5", "HR@10", "NDCG@1", "NDCG@5", "NDCG@10", "invalid", "code_H")
PAIRS = (("mindrec", "ar-sid"), ("mindrec", "mindrec-no-cat"))


def per_user(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seeds, users) hit at 1 and NDCG@10 from each seed's hit ranks, and the ranks."""
    ranks = np.asarray([row["hit_rank"] for row in rows], dtype=np.int64)
    ndcg = np.where((ranks >= 1) & (ranks <= 10), 1.0 / np.log2(np.maximum(ranks, 1) + 1.0), 0.0)
    return (ranks == 1).astype(float), ndcg, ranks


def _wilcoxon(a: np.ndarray, b: np.ndarray) -> float:
    diff = a - b
    return 1.0 if not np.any(diff) else float(wilcoxon(a, b, zero_method="wilcox").pvalue)


def paired(rows_a: list[dict], rows_b: list[dict]) -> dict:
    """MindRec (a) vs another method (b) on the same users: means, differences, p-values."""
    hit_a, ndcg_a, _ = per_user(rows_a)
    hit_b, ndcg_b, _ = per_user(rows_b)
    seeds = min(len(hit_a), len(hit_b))
    only_a = int(((hit_a[:seeds] == 1) & (hit_b[:seeds] == 0)).sum())
    only_b = int(((hit_a[:seeds] == 0) & (hit_b[:seeds] == 1)).sum())
    mcnemar = 1.0 if only_a + only_b == 0 else binomtest(only_a, only_a + only_b).pvalue
    out = {
        "users": int(hit_a.shape[1]),
        "seeds": seeds,
        "HR@1_only_a": only_a,
        "HR@1_only_b": only_b,
        "HR@1_mcnemar_p": float(mcnemar),
    }
    for name, a, b in (("HR@1", hit_a, hit_b), ("NDCG@10", ndcg_a, ndcg_b)):
        a, b = a[:seeds].mean(axis=0), b[:seeds].mean(axis=0)
        out |= {
            f"{name}_a": float(a.mean()),
            f"{name}_b": float(b.mean()),
            f"{name}_diff": float(a.mean() - b.mean()),
            f"{name}_wilcoxon_p": _wilcoxon(a, b),
        }
    return out


def paired_tests(runs: dict) -> dict:
    """Every pair of PAIRS both present in one dataset's runs."""
    return {
        f"{a} vs {b}": paired(runs[a]["test"], runs[b]["test"])
        for a, b in PAIRS
        if a in runs and b in runs
    }


def summary(results: dict) -> dict:
    """dataset -> method -> column -> (mean, std over seeds) of the test rows."""
    out: dict = {}
    for name, runs in results["datasets"].items():
        for method, run in runs.items():
            cells = {}
            for column in COLUMNS:
                values = [row[column] for row in run["test"]]
                spread = statistics.stdev(values) if len(values) > 1 else 0.0
                cells[column] = (statistics.mean(values), spread)
            cells["seeds"], cells["budget"] = len(run["test"]), run["budget"]
            out.setdefault(name, {})[method] = cells
    return out


def table(results: dict) -> str:
    """Markdown: one row per (dataset, method), mean +- std over seeds; invalid summed."""
    lines = ["| dataset | method | budget | " + " | ".join(COLUMNS) + " | seeds |"]
    lines.append("|---" * (len(COLUMNS) + 4) + "|")
    for name, methods in summary(results).items():
        for method, cells in methods.items():
            text = [f"{cells[c][0]:.4f} ± {cells[c][1]:.4f}" for c in COLUMNS if c != "invalid"]
            text.insert(COLUMNS.index("invalid"), f"{cells['invalid'][0] * cells['seeds']:.0f}")
            lines.append(
                f"| {name} | {method} | {cells['budget']} | "
                + " | ".join(text)
                + f" | {cells['seeds']} |"
            )
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    """Bars of HR@1, HR@10 and NDCG@10 (mean, std error bars) per dataset and method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = summary(results)
    metrics = ("HR@1", "HR@10", "NDCG@10")
    fig, axes = plt.subplots(1, len(data), figsize=(6 * len(data), 4), squeeze=False)
    for ax, (name, methods) in zip(axes[0], data.items(), strict=True):
        x = np.arange(len(metrics))
        width = 0.8 / max(1, len(methods))
        for i, (method, cells) in enumerate(methods.items()):
            means = [cells[m][0] for m in metrics]
            errors = [cells[m][1] for m in metrics]
            ax.bar(x + i * width, means, width, yerr=errors, label=method, capsize=2)
        ax.set_xticks(x + width * (len(methods) - 1) / 2, metrics)
        ax.set_title(f"{name} (test, mean ± std over seeds)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
