"""SFT vs Flower vs static BoN vs BLADE, trained alike, then served in TriRec (issue 12).

On CDs_and_Vinyl and Video_Games, for each seed: one SFT run (`base`, --sft-steps at
--sft-learning-rate, the budget chosen on VALIDATION) is the starting point of all four
policies, which then take the same --rl-steps: SFT and Flower (= SFT + theta-mixed SubTB)
continue on the same batches at the SFT learning rate; BoN (tau 0) and BLADE (tau > 0) take
list-reward GRPO steps at --rl-learning-rate. All share one tiny-GPT shape. Offline:
HR@5/10, NDCG@5/10, DGU/MGU, ILD (item-space vectors), coverage and invalid generations on
one seeded test subset, and paired tests pooled over seeds (exact McNemar on hit@10,
Wilcoxon signed-rank on per-sample NDCG@10). Serving each policy of the first seed as
TriRec's recommender is examples/policy_trirec.py (per-round metrics, paired over users).

The committed figures (examples/results/policy_comparison/) came from:

    OMP_NUM_THREADS=1 .venv/bin/python examples/policy_comparison.py --out runs/policy-comparison
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest, wilcoxon

from recagora.item_space.datasets import load_dataset
from recagora.item_space.metrics.diversity import intra_list_diversity
from recagora.item_space.metrics.fairness import coverage
from recagora.training.evaluation import evaluate_checkpoint, pick_samples
from recagora.training.registry import make_trainer, trainer_config, trainer_extras

DATASETS = ("cds-vinyl", "video-games")
POLICIES = ("sft", "flower", "bon", "blade")
EVALUATED = ("base", *POLICIES)  # base: the seed's SFT run every policy starts from
PAIRS = (("blade", "bon"), ("blade", "sft"), ("bon", "sft"), ("flower", "sft"))
PAIRS += tuple((p, "base") for p in POLICIES)
OFFLINE = ("HR@5", "HR@10", "NDCG@5", "NDCG@10", "DGU", "MGU", "ILD", "coverage", "invalid")


def main() -> None:
    args = _parser().parse_args()
    if args.figure_from:  # redraw the figure of finished runs' results.json files
        merged = _merge([json.loads(Path(p).read_text()) for p in args.figure_from])
        _save(merged, Path(args.out))
        _figure(merged, Path(args.out) / "offline.png")
        return
    out = Path(args.out)
    results = {"settings": vars(args), "offline": {}, "paired": {}, "ranks": {}}
    for name in args.datasets:
        dataset = load_dataset(name)
        split = dataset.split("auto")
        test = pick_samples(split.test, args.test_samples, 0)  # one subset for every policy
        vectors = _vectors(dataset.catalog)
        rows, hits = [], {p: [] for p in EVALUATED}
        for seed in args.seeds:
            folder = out / name / f"seed{seed}"
            runs = {"base": folder / "base", **_train_all(dataset, split, seed, folder, args)}
            for policy, run in runs.items():
                row, per_sample = _offline(run, dataset.catalog, test, split.train, vectors)
                rows.append({"policy": policy, "seed": seed, **row})
                hits[policy].append(per_sample)
        results["offline"][name] = rows
        results["paired"][name] = _paired(hits)
        results["ranks"][name] = {p: [_sparse(r) for r in hits[p]] for p in EVALUATED}
        _save(results, out)
    _print(results)
    _figure(results, out / "offline.png")


def _merge(parts: list[dict]) -> dict:
    """One results dict from per-dataset runs (settings kept per dataset)."""
    merged = {"settings": {}, "offline": {}, "paired": {}, "ranks": {}}
    for part in parts:
        for name in part["offline"]:
            merged["settings"][name] = part["settings"]
            for key in ("offline", "paired", "ranks"):
                merged[key][name] = part.get(key, {}).get(name, {})
    return merged


def _figure(results: dict, path: Path) -> None:
    """HR@10, NDCG@10 and MGU per policy and dataset: mean over seeds, bars = one std."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ("HR@10", "NDCG@10", "MGU")
    names = list(results["offline"])
    fig, axes = plt.subplots(len(names), 3, figsize=(10, 3 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        frame = pd.DataFrame(results["offline"][name]).groupby("policy")[list(metrics)]
        mean, std = frame.mean(), frame.std()
        shown = [p for p in EVALUATED if p in mean.index]
        mean, std = mean.reindex(shown), std.reindex(shown)
        for col, metric in enumerate(metrics):
            ax = axes[row][col]
            ax.bar(shown, mean[metric], yerr=std[metric], capsize=3, color="0.6")
            ax.set_title(f"{name}: {metric}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _save(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float))


def _common(seed: int, output_dir: Path, args) -> list[str]:
    """The settings every policy shares: backbone shape, prompts, batches, seed."""
    return [
        f"output_dir={output_dir}",
        f"seed={seed}",
        f"batch_size={args.batch_size}",
        f"micro_batch_size={args.batch_size}",
        "prompt.max_history=5",
        "progress=false",
        "warmup_steps=2",
        f"backbone.tiny_n_layer={args.layers}",
        f"backbone.tiny_n_embd={args.width}",
        "backbone.tiny_n_head=2",
    ]


def _train_all(dataset, split, seed: int, folder: Path, args) -> dict[str, Path]:
    """The seed's base SFT run, then each policy's --rl-steps from it; {policy: run}."""
    base = folder / "base"
    _train("sft", dataset, split, _common(seed, base, args) + _sft_settings(args), None)
    runs = {}
    for method in POLICIES:
        run = folder / method
        settings = _common(seed, run, args) + [f"max_steps={args.rl_steps}"]
        if method in ("sft", "flower"):  # the same batches and learning rate, from base
            settings.append(f"learning_rate={args.sft_learning_rate}")
            _train(method, dataset, split, settings + _flower_settings(method), base)
        else:  # BoN and BLADE: list-reward GRPO from base (base is also their reference)
            _train(method, dataset, split, settings + _list_settings(base, args), None)
        runs[method] = run
    return runs


def _sft_settings(args) -> list[str]:
    size = args.sft_batch_size  # the last setting wins over _common's batch size
    return [
        f"max_steps={args.sft_steps}",
        f"learning_rate={args.sft_learning_rate}",
        f"batch_size={size}",
        f"micro_batch_size={size}",
    ]


def _flower_settings(method: str) -> list[str]:
    return ["theta=0.9995"] if method == "flower" else []  # the paper's Video_Games value


def _list_settings(base: Path, args) -> list[str]:
    return [
        f"init_from={base}",
        f"num_generations={args.generations}",
        f"reference_lists={args.reference_lists}",
        "list_length=5",
        "auxiliary=mgu",
        "aux_weight=1.0",
        f"learning_rate={args.rl_learning_rate}",
    ]


def _train(method: str, dataset, split, settings: list[str], start: Path | None) -> None:
    """Train (or resume) one run; `start`: a run whose weights it starts from."""
    from recagora.training.grpo_trainer import load_initial_policy

    config = trainer_config(method, overrides=settings)
    extras = trainer_extras(method, config, dataset.catalog, split)
    trainer = make_trainer(method, dataset.catalog, split.train, overrides=settings, **extras)
    if start is not None:  # a finished run resumes from its own checkpoint over these
        load_initial_policy(trainer, start)
    cpu, wall = time.process_time(), time.perf_counter()
    trainer.train()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{dataset.name} {config.output_dir}: {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)


def _vectors(catalog) -> np.ndarray:
    from recagora.item_space.space import ItemSpace  # the shared, cached embeddings

    return ItemSpace.build(catalog).catalog.vectors


def _offline(run: Path, catalog, test, train, vectors) -> tuple[dict, np.ndarray]:
    """The policy's offline row and (n,) 1-based rank of each answer in its top 10 (0 = miss)."""
    report = evaluate_checkpoint(run, catalog, test, train, num_beams=10)
    ranked = report.per_sample["ranked"]
    row = {key: float(report[key]) for key in OFFLINE if key in report}
    row["ILD"] = intra_list_diversity(ranked, vectors)
    row["coverage"] = coverage(ranked, len(catalog))
    return row, np.asarray(report.per_sample["hit_rank"], np.int64)


def _paired(ranks: dict[str, list[np.ndarray]]) -> dict[str, dict]:
    """Per pair and k in (5, 10), samples pooled over seeds (seed s of A with seed s of B):
    exact McNemar on hit@k, Wilcoxon signed-rank on per-sample NDCG@k.

    ranks: {policy: per seed, (n,) 1-based rank of the answer in the top 10, 0 = miss}.
    """
    out = {}
    for a, b in PAIRS:
        x, y = np.concatenate(ranks[a]), np.concatenate(ranks[b])
        out[f"{a} vs {b}"] = {"n": len(x)}
        for k in (5, 10):
            out[f"{a} vs {b}"].update(_paired_at(_ndcg_at(x, k), _ndcg_at(y, k), k))
    return out


def _sparse(ranks: np.ndarray) -> dict[str, int]:
    """{test-sample position: rank} of the hits only (most of the 1,000 samples miss)."""
    return {str(i): int(ranks[i]) for i in np.flatnonzero(ranks)}


def _ndcg_at(ranks: np.ndarray, k: int) -> np.ndarray:
    """Per-sample NDCG@k of one held-out item at 1-based `ranks` (0 = not in the top 10)."""
    hit = (ranks > 0) & (ranks <= k)
    return np.where(hit, 1.0 / np.log2(np.maximum(ranks, 1) + 1.0), 0.0)


def _paired_at(x: np.ndarray, y: np.ndarray, k: int) -> dict:
    only_a, only_b = int(((x > 0) & (y == 0)).sum()), int(((y > 0) & (x == 0)).sum())
    discordant = only_a + only_b
    return {
        f"ndcg@{k}_a": float(x.mean()),
        f"ndcg@{k}_b": float(y.mean()),
        f"hit@{k} only_a": only_a,
        f"hit@{k} only_b": only_b,
        f"mcnemar@{k}_p": float(binomtest(only_a, discordant, 0.5).pvalue) if discordant else 1.0,
        f"wilcoxon@{k}_p": float(wilcoxon(x, y).pvalue) if np.any(x != y) else 1.0,
    }


def _print(results: dict) -> None:
    for name, rows in results["offline"].items():
        frame = pd.DataFrame(rows).groupby("policy")[list(OFFLINE)].agg(["mean", "std"])
        print(f"\n{name}: offline, mean (std) over seeds")
        print(frame.round(4).to_string())
        print(pd.DataFrame(results["paired"][name]).T.to_string())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/policy-comparison", help="Folder for runs/results.")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), help="Datasets.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="Seeds (>= 3).")
    parser.add_argument("--sft-steps", type=int, default=800, help="Base SFT steps.")
    parser.add_argument(
        "--sft-learning-rate", type=float, default=3e-3, help="Base SFT (and SFT/Flower) lr."
    )
    parser.add_argument("--rl-steps", type=int, default=6, help="Steps of every policy from base.")
    parser.add_argument("--sft-batch-size", type=int, default=32, help="Base SFT batch.")
    parser.add_argument(
        "--batch-size", type=int, default=8, help="Samples per step of every policy from base."
    )
    parser.add_argument("--generations", type=int, default=4, help="BoN/BLADE: G lists.")
    parser.add_argument("--reference-lists", type=int, default=2, help="BoN/BLADE: M prior lists.")
    parser.add_argument("--rl-learning-rate", type=float, default=1e-3, help="BoN/BLADE lr.")
    parser.add_argument("--layers", type=int, default=2, help="Tiny GPT blocks.")
    parser.add_argument("--width", type=int, default=64, help="Tiny GPT hidden width.")
    parser.add_argument("--test-samples", type=int, default=1000, help="Seeded test subset.")
    parser.add_argument(
        "--figure-from",
        nargs="*",
        default=[],
        help="Only merge these results.json files into --out and draw offline.png.",
    )
    return parser


if __name__ == "__main__":
    main()
