"""UGR vs SFT (and plain GRPO) on games-semids, tiny GPT: issue 12's UGR table and plot.

From one SFT run (`recagora train sft --dataset games-semids ...`), trains UGR and plain
GRPO (hit reward over the same top-G constrained beams, no difficulty weight, no
confidence) for the same steps and batches, scoring NDCG@10 on a seeded VALIDATION subset
every `--eval-every` steps (the "does RL degrade?" curves, with each method's mean
rollout reward), then reports on a seeded TEST subset: HR@1/5/10 and NDCG@5/10 of SFT,
GRPO and UGR; UGR's confidence AUROC (beam level: is this beam the answer?); NDCG@10 as
the least-confident users (top beam's confidence) are rejected, 0-50%; NDCG@1 before and
after re-ranking each user's 10 beams by confidence. Nothing is tuned on the test subset.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/policy_ugr_semids.py \\
        --sft runs/ugr-semids/sft --out runs/ugr-semids --rl-steps 40 --eval-every 10
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from recagora.item_space.datasets import load_dataset
from recagora.training.evaluation import evaluate_rankings, pick_samples
from recagora.training.policy import GenerativeRecommender
from recagora.training.registry import make_trainer
from recagora.training.ugr_confidence import rejection_curve, rerank_by_confidence

SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def main() -> None:
    args = _parser().parse_args()
    dataset = load_dataset("games-semids")
    split = _subsample(dataset.split("auto"), args.users, args.seed)
    if args.sft_steps > 0:  # an SFT run on this (sub)sample, same settings as the RL runs
        sft = _settings(args, Path(args.out) / "sft", args.sft_steps)
        sft = [
            s
            for s in sft
            if not s.startswith(("init_from", "num_generations", "rollout", "learning_rate"))
        ]
        make_trainer(
            "sft",
            dataset.catalog,
            split.train,
            overrides=[
                *sft,
                f"learning_rate={args.sft_learning_rate}",
                "batch_size=32",
                "micro_batch_size=32",
            ],
        ).train()
        args.sft = str(Path(args.out) / "sft")
    valid = pick_samples(split.valid, args.valid_samples, args.seed)
    test = pick_samples(split.test, args.test_samples, args.seed)
    out = Path(args.out)
    curves = {m: _train_with_curve(m, args, dataset.catalog, split, valid) for m in ("ugr", "grpo")}
    _plot(curves, out / "ugr_vs_grpo.png")
    results = {"curves": curves, "test": {}}
    for name, run in (("sft", args.sft), ("grpo", out / "grpo"), ("ugr", out / "ugr")):
        started = time.perf_counter()
        policy = GenerativeRecommender.load(run, dataset.catalog)
        results["test"][name] = _test_report(policy, test, dataset.catalog, split.train)
        results["test"][name]["eval_seconds"] = time.perf_counter() - started
    results["settings"] = vars(args)
    (out / "ugr_semids.json").write_text(json.dumps(results, indent=2, default=str))
    _print(results)


def _subsample(split, users: int, seed: int):
    """The split restricted to `users` seeded users (0 = all): their train, valid, test."""
    if users <= 0:
        return split
    from dataclasses import replace

    names = sorted({s.user for s in split.test})
    keep = set(np.random.default_rng(seed).choice(names, size=users, replace=False).tolist())
    part = {k: [s for s in getattr(split, k) if s.user in keep] for k in ("train", "valid", "test")}
    return replace(split, **part)


def _settings(args, output_dir: Path, steps: int) -> list[str]:
    return [
        f"output_dir={output_dir}",
        f"init_from={args.sft}",
        f"num_generations={args.generations}",
        "rollout=beam",
        f"max_steps={steps}",
        f"batch_size={args.batch_size}",
        f"micro_batch_size={args.batch_size}",
        "warmup_steps=1",
        "prompt.max_history=5",
        f"seed={args.seed}",
        "progress=false",
        f"save_every={args.eval_every}",
        f"learning_rate={args.learning_rate}",
        f"backbone.tiny_n_layer={args.layers}",
        f"backbone.tiny_n_embd={args.width}",
        f"backbone.tiny_n_head={args.heads}",
    ]


def _train_with_curve(method, args, catalog, split, valid) -> dict[str, list[float]]:
    """Train `method` from the SFT run in chunks; val NDCG@10 and mean reward per chunk."""
    overrides = _settings(args, Path(args.out) / method, args.rl_steps)
    trainer = make_trainer(method, catalog, split.train, overrides=overrides)
    policy = GenerativeRecommender(
        trainer.backbone, trainer.items, trainer.config.prompt, trainer.titles, method
    )
    curve = {"step": [0], "valid_ndcg@10": [_ndcg10(policy, valid, catalog, split.train)]}
    started = time.perf_counter()
    for stop in range(args.eval_every, args.rl_steps + 1, args.eval_every):
        trainer.config.max_steps = stop  # train() runs (or resumes) up to this step
        trainer.train()
        curve["step"].append(stop)
        curve["valid_ndcg@10"].append(_ndcg10(policy, valid, catalog, split.train))
    with (Path(args.out) / method / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    curve["reward"] = [float(r["reward"]) for r in rows]
    curve["train_seconds"] = time.perf_counter() - started
    return curve


def _ndcg10(policy, samples, catalog, train) -> float:
    ranked, _, invalid = policy.rank([s.history for s in samples], 10)
    return float(evaluate_rankings(ranked, samples, catalog, train, invalid)["NDCG@10"])


def _test_report(policy, samples, catalog, train) -> dict:
    histories = [s.history for s in samples]
    ranked, _, invalid = policy.rank(histories, 10)
    report = evaluate_rankings(ranked, samples, catalog, train, invalid)
    keys = ("HR@1", "HR@5", "HR@10", "NDCG@1", "NDCG@5", "NDCG@10", "MGU", "invalid")
    out = {key: float(report[key]) for key in keys}
    if not policy.has_confidence:
        return out
    confidence = policy.confidence(histories, ranked)
    ranks = report.per_sample["hit_rank"]
    out.update(_confidence_report(confidence, ranked, ranks, samples, catalog, train))
    return out


def _confidence_report(confidence, ranked, ranks, samples, catalog, train) -> dict:
    from sklearn.metrics import roc_auc_score

    correct = (ranks[:, None] - 1) == np.arange(ranked.shape[1])[None, :]
    valid = ranked >= 0
    labels, scores = correct[valid], confidence[valid]
    auroc = float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else None
    ndcg10 = np.where(ranks > 0, 1.0 / np.log2(np.maximum(ranks, 1) + 1.0), 0.0)
    reranked = rerank_by_confidence(ranked, confidence)
    after = evaluate_rankings(reranked, samples, catalog, train)
    return {
        "confidence_auroc_beams": auroc,
        "positives": int(labels.sum()),
        "ndcg@10_rejecting": dict(
            zip(map(str, SHARES), rejection_curve(confidence[:, 0], ndcg10, SHARES), strict=True)
        ),
        "ndcg@1_reranked": float(after["NDCG@1"]),
        "ndcg@10_reranked": float(after["NDCG@10"]),
        "top1_hit_rate_rejecting": dict(
            zip(
                map(str, SHARES), rejection_curve(confidence[:, 0], ranks == 1, SHARES), strict=True
            )
        ),
    }


def _plot(curves: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from recagora.item_space.figures import save_figure

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for method, curve in curves.items():
        steps = np.arange(1, len(curve["reward"]) + 1)
        left.plot(steps, curve["reward"], label=method)
        right.plot(curve["step"], curve["valid_ndcg@10"], marker="o", label=method)
    left.set(xlabel="RL step", ylabel="mean rollout reward (own definition)", title="reward")
    right.set(xlabel="RL step", ylabel="NDCG@10 (validation subset)", title="NDCG@10")
    left.legend()
    right.legend()
    save_figure(figure, path)


def _print(results: dict) -> None:
    print("| policy | HR@1 | HR@5 | HR@10 | NDCG@5 | NDCG@10 |")
    for name, row in results["test"].items():
        cells = " | ".join(f"{row[k]:.4f}" for k in ("HR@1", "HR@5", "HR@10", "NDCG@5", "NDCG@10"))
        print(f"| {name} | {cells} |")
    ugr = results["test"]["ugr"]
    print("UGR confidence AUROC (beams):", ugr.get("confidence_auroc_beams"))
    print("UGR NDCG@1 before/after re-ranking:", ugr["NDCG@1"], ugr.get("ndcg@1_reranked"))
    print("UGR NDCG@10 rejecting the least confident:", ugr.get("ndcg@10_rejecting"))
    for method, curve in results["curves"].items():
        print(method, "valid NDCG@10 over steps", curve["step"], curve["valid_ndcg@10"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sft", default="", help="SFT run folder on games-semids.")
    parser.add_argument("--sft-steps", type=int, default=0, help="Train SFT here (replaces --sft).")
    parser.add_argument("--sft-learning-rate", type=float, default=1e-3, help="SFT lr here.")
    parser.add_argument("--layers", type=int, default=4, help="Tiny GPT blocks (all runs).")
    parser.add_argument("--width", type=int, default=128, help="Tiny GPT hidden width.")
    parser.add_argument("--heads", type=int, default=4, help="Tiny GPT attention heads.")
    parser.add_argument("--users", type=int, default=0, help="Seeded user subsample (0 = all).")
    parser.add_argument("--out", default="runs/ugr-semids", help="Folder for the runs and results.")
    parser.add_argument("--rl-steps", type=int, default=40, help="RL optimizer steps per method.")
    parser.add_argument("--eval-every", type=int, default=10, help="Validation NDCG every N steps.")
    parser.add_argument("--batch-size", type=int, default=8, help="Prompts per RL step.")
    parser.add_argument("--generations", type=int, default=16, help="G: beams per prompt.")
    parser.add_argument("--learning-rate", type=float, default=1e-4, help="RL learning rate.")
    parser.add_argument("--valid-samples", type=int, default=300, help="Seeded validation subset.")
    parser.add_argument("--test-samples", type=int, default=1000, help="Seeded test subset.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of runs and subsets.")
    return parser


if __name__ == "__main__":
    main()
