"""PUMA on ML-100K: stage-1 prompts on SmolLM2, migration to Gemma-3-270M vs retraining.

Runs `recagora train puma` with the given sizes (a seeded user subsample: this is a
CPU benchmark) and prints the report's table: RMSE/MAE on each user's held-out latest
ratings, LM passes (one rating forward + backward) and the compute ratio to full
retraining on B. Run:

    .venv/bin/python benchmarks/puma_bench.py [--users 12] [--train 5] [--epochs 2] [--budget 2]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def table(report: dict) -> str:
    lines = ["| method | RMSE | MAE | LM passes | compute / retraining | RMSE vs retraining | s |", "|---|---|---|---|---|---|---|"]
    for name, row in report["rows"].items():
        lines.append(f"| {name} | {row['rmse']:.4f} | {row['mae']:.4f} | {row['lm_passes']} | "
                     f"{row['compute_vs_retraining']:.3f} | {row['rmse_vs_retraining']:+.2%} | {row['seconds']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=12, help="ML-100K users (seeded draw).")
    parser.add_argument("--train", type=int, default=5, help="Most recent training ratings per user.")
    parser.add_argument("--test", type=int, default=2, help="Held-out ratings per user.")
    parser.add_argument("--epochs", type=int, default=2, help="Stage-1 / retraining epochs.")
    parser.add_argument("--budget", type=int, default=2, help="Users the adapter trains on.")
    parser.add_argument("--output-dir", default="runs/bench/puma", help="Run folder.")
    args = parser.parse_args()
    from recagora.item_space.datasets import load_dataset
    from recagora.training.puma.config import PumaConfig
    from recagora.training.puma.run import run_puma

    cfg = PumaConfig(n_users=args.users, max_train_per_user=args.train, max_test_per_user=args.test,
                     epochs=args.epochs, budget=args.budget, migrate_epochs=1, clusters=2,
                     min_per_cluster=1, batch_size=10, output_dir=args.output_dir)
    start = time.perf_counter()
    report = run_puma(cfg, load_dataset("ml-100k"))
    print(table(report))
    print(f"total {time.perf_counter() - start:.0f} s; report {Path(args.output_dir) / 'report.json'}")
    print(json.dumps({"users": report["users"], "train": report["train_ratings"], "test": report["test_ratings"]}))


if __name__ == "__main__":
    main()
