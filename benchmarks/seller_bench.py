"""SELLER on ML-100K: explanations by soft tokens on frozen SmolLM2 vs nearest training explanation.

Runs `recagora train seller` with the given sizes and prints BLEU-4, ROUGE-L, MiniLM
embedding similarity, distinct-1/2 and USR against the templated references. Run:

    .venv/bin/python benchmarks/seller_bench.py [--train 48] [--test 16] [--epochs 2]
"""

from __future__ import annotations

import argparse
import time


def table(report: dict) -> str:
    names = ["seller", "retrieval (nearest training explanation)"]
    keys = ["bleu4", "rouge_l", "embedding_sim", "distinct1", "distinct2", "usr"]
    lines = ["| method | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    lines += [f"| {n} | " + " | ".join(f"{report[n][k]:.4f}" for k in keys) + " |" for n in names]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=48, help="Training (user, next item) pairs.")
    parser.add_argument("--test", type=int, default=16, help="Test users (their last item).")
    parser.add_argument("--epochs", type=int, default=2, help="Passes over the training pairs.")
    parser.add_argument("--output-dir", default="runs/bench/seller", help="Run folder.")
    args = parser.parse_args()
    from recagora.item_space.datasets import load_dataset
    from recagora.training.seller.config import SellerConfig
    from recagora.training.seller.run import run_seller

    cfg = SellerConfig(n_train=args.train, n_test=args.test, epochs=args.epochs, learning_rate=5e-3,
                       max_new_tokens=24, output_dir=args.output_dir)
    start = time.perf_counter()
    report = run_seller(cfg, load_dataset("ml-100k"))
    print(table(report))
    print(f"train {report['train_seconds']} s, total {time.perf_counter() - start:.0f} s, "
          f"loss {report['loss_first']} -> {report['loss_last']}")


if __name__ == "__main__":
    main()
