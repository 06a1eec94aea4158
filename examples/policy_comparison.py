"""SFT vs Flower vs static BoN vs BLADE, trained alike, then served in TriRec (issue 12).

On CDs_and_Vinyl and Video_Games, for each seed: SFT and Flower train from scratch for the
same steps and batches (Flower = SFT + theta-mixed SubTB on the same batches); BoN (tau 0)
and BLADE (tau > 0) start from that seed's SFT run and take the same RL steps. All share
one tiny-GPT shape. Offline: HR@5/10, NDCG@5/10, DGU/MGU, ILD (item-space vectors),
coverage and invalid generations on one seeded test subset, and paired tests pooled
over seeds (exact McNemar on hit@10, Wilcoxon signed-rank on per-sample NDCG@10). Then
each policy of seed 0 is served as TriRec's recommender (`--recommender`) for a
5-round episode with the default user agent (learned) and surrogate items, and the
per-round metrics are kept.

Budgets are small so the whole script fits a shared 2-core CPU; raise them with flags:

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
PAIRS = (("blade", "bon"), ("blade", "sft"), ("bon", "sft"), ("flower", "sft"))
OFFLINE = ("HR@5", "HR@10", "NDCG@5", "NDCG@10", "DGU", "MGU", "ILD", "coverage", "invalid")


def main() -> None:
    args = _parser().parse_args()
    out = Path(args.out)
    results = {"settings": vars(args), "offline": {}, "paired": {}, "trirec": {}}
    for name in args.datasets:
        dataset = load_dataset(name)
        split = dataset.split("auto")
        test = pick_samples(split.test, args.test_samples, 0)  # one subset for every policy
        vectors = _vectors(dataset.catalog)
        rows, hits = [], {p: [] for p in POLICIES}
        for seed in args.seeds:
            runs = _train_all(dataset, split, seed, out / name / f"seed{seed}", args)
            for policy, run in runs.items():
                row, per_sample = _offline(run, dataset.catalog, test, split.train, vectors)
                rows.append({"policy": policy, "seed": seed, **row})
                hits[policy].append(per_sample)
        results["offline"][name] = rows
        results["paired"][name] = _paired(hits)
        _save(results, out)  # the offline part is kept even if an episode is cut short
        results["trirec"][name] = {}
        for policy in args.trirec_policies:
            run = out / name / f"seed{args.seeds[0]}" / policy
            results["trirec"][name][policy] = _trirec(name, run, out, args)
            _save(results, out)
    _print(results)


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
    runs = {}
    for method in POLICIES:
        run = folder / method
        settings = _common(seed, run, args)
        if method in ("sft", "flower"):
            settings.append(f"max_steps={args.sft_steps}")
        else:  # BoN and BLADE: same RL steps from this seed's SFT policy
            settings += [
                f"init_from={folder / 'sft'}",
                f"max_steps={args.rl_steps}",
                f"num_generations={args.generations}",
                f"reference_lists={args.reference_lists}",
                "list_length=5",
                "auxiliary=mgu",
                "aux_weight=1.0",
                f"learning_rate={args.rl_learning_rate}",
            ]
        if method == "flower":
            settings.append("theta=0.9995")  # the paper's Video_Games value
        config = trainer_config(method, overrides=settings)
        extras = trainer_extras(method, config, dataset.catalog, split)
        started = time.perf_counter()
        make_trainer(method, dataset.catalog, split.train, overrides=settings, **extras).train()
        print(f"{dataset.name} seed {seed} {method}: {time.perf_counter() - started:.0f} s")
        runs[method] = run
    return runs


def _vectors(catalog) -> np.ndarray:
    from recagora.item_space.space import ItemSpace  # the shared, cached embeddings

    return ItemSpace.build(catalog).catalog.vectors


def _offline(run: Path, catalog, test, train, vectors) -> tuple[dict, np.ndarray]:
    report = evaluate_checkpoint(run, catalog, test, train, num_beams=10)
    ranked = report.per_sample["ranked"]
    row = {key: float(report[key]) for key in OFFLINE if key in report}
    row["ILD"] = intra_list_diversity(ranked, vectors)
    row["coverage"] = coverage(ranked, len(catalog))
    ranks = report.per_sample["hit_rank"]
    return row, np.where(ranks > 0, 1.0 / np.log2(np.maximum(ranks, 1) + 1.0), 0.0)


def _paired(gains: dict[str, list[np.ndarray]]) -> dict[str, dict]:
    """Per pair, samples pooled over seeds (seed s of A paired with seed s of B)."""
    out = {}
    for a, b in PAIRS:
        x, y = np.concatenate(gains[a]), np.concatenate(gains[b])
        only_a, only_b = int(((x > 0) & (y == 0)).sum()), int(((y > 0) & (x == 0)).sum())
        discordant = only_a + only_b
        mcnemar = binomtest(only_a, discordant, 0.5).pvalue if discordant else 1.0
        differs = np.any(x != y)
        out[f"{a} vs {b}"] = {
            "n": len(x),
            "ndcg@10_a": float(x.mean()),
            "ndcg@10_b": float(y.mean()),
            "hit@10 only_a": only_a,
            "hit@10 only_b": only_b,
            "mcnemar_p": float(mcnemar),
            "wilcoxon_p": float(wilcoxon(x, y).pvalue) if differs else 1.0,
        }
    return out


def _trirec(dataset: str, run: Path, out: Path, args) -> list[dict]:
    """Per-round metrics of a TriRec episode with `run` as the platform's recommender."""
    from recagora.experiments.cli.main import main as cli

    runs_dir = out / "trirec" / dataset / run.name
    argv = ["run", "trirec", "--dataset", dataset, "--recommender", str(run), "--quiet"]
    argv += ["--agents", "item=surrogate", "--llm", "fake:", "--users", str(args.users)]
    argv += ["--rounds", "5", "--seed", "0", "--runs-dir", str(runs_dir)]
    started = time.perf_counter()
    if cli(argv) != 0:
        return [{"error": "trirec run failed"}]
    folder = max(runs_dir.iterdir(), key=lambda p: p.stat().st_mtime)
    frame = pd.read_parquet(folder / "metrics.parquet")
    print(f"trirec {dataset} {run.name}: {time.perf_counter() - started:.0f} s")
    return frame.select_dtypes("number").to_dict(orient="records")


def _print(results: dict) -> None:
    for name, rows in results["offline"].items():
        frame = pd.DataFrame(rows).groupby("policy")[list(OFFLINE)].agg(["mean", "std"])
        print(f"\n{name}: offline, mean (std) over seeds")
        print(frame.round(4).to_string())
        print(pd.DataFrame(results["paired"][name]).T.to_string())
        for policy, rounds in results["trirec"].get(name, {}).items():
            keep = [k for k in rounds[-1] if any(m in k for m in ("ndcg", "gu", "cover", "satis"))]
            print(policy, "trirec last round:", {k: round(rounds[-1][k], 4) for k in keep})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/policy-comparison", help="Folder for runs/results.")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), help="Datasets.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="Seeds (>= 3).")
    parser.add_argument("--sft-steps", type=int, default=40, help="SFT and Flower steps.")
    parser.add_argument("--rl-steps", type=int, default=4, help="BoN and BLADE steps from SFT.")
    parser.add_argument("--batch-size", type=int, default=8, help="Samples per step (all).")
    parser.add_argument("--generations", type=int, default=2, help="BoN/BLADE: G lists.")
    parser.add_argument("--reference-lists", type=int, default=2, help="BoN/BLADE: M prior lists.")
    parser.add_argument("--rl-learning-rate", type=float, default=3e-4, help="BoN/BLADE lr.")
    parser.add_argument("--layers", type=int, default=2, help="Tiny GPT blocks.")
    parser.add_argument("--width", type=int, default=64, help="Tiny GPT hidden width.")
    parser.add_argument("--test-samples", type=int, default=150, help="Seeded test subset.")
    parser.add_argument("--users", type=int, default=8, help="TriRec users.")
    parser.add_argument(
        "--trirec-policies", nargs="*", default=list(POLICIES), help="Policies served in TriRec."
    )
    return parser


if __name__ == "__main__":
    main()
