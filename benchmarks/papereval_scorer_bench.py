"""PaperEval scorer on ICLR 2017: ListMLE vs MSE vs ListNet, with and without retrieved references.

    python benchmarks/papereval_scorer_bench.py --backbones minilm --seeds 0 1 2

Each cell trains on a seeded paper-level split (70/10/20) and reports the test set's
NDCG@10, NDCG@20 (gain 2^rel - 1, rel = rating scaled to [0,1]), Spearman and Kendall
against the mean review rating, mean +- std over seeds. A random scorer on the same
test sets is the baseline row (same process, same splits).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from recagora.item_space.papers import load_iclr_openreview, paper_labels
from recagora.training.papereval.config import PaperScorerConfig
from recagora.training.papereval.ranking_metrics import normalise_labels, ranking_report
from recagora.training.papereval.trainer import corpus_features, split_papers, train_paper_scorer

METRICS = ("ndcg@10", "ndcg@20", "spearman", "kendall")


def random_baseline(corpus, seeds) -> list[dict]:
    labels = paper_labels(corpus.targets)
    relevance = normalise_labels(labels, labels.min(), labels.max())
    rows = []
    for seed in seeds:
        test = split_papers(len(labels), 0.1, 0.2, seed).test
        rows.append(
            ranking_report(np.random.default_rng(seed + 100).random(len(test)), relevance[test])
        )
    return rows


def summarise(name: str, rows: list[dict], seconds: float) -> None:
    cells = [
        f"{np.mean([r[m] for r in rows]):.4f}+-{np.std([r[m] for r in rows]):.4f}" for m in METRICS
    ]
    print(f"{name:34s}" + "".join(f"{c:>18s}" for c in cells) + f"{seconds:9.1f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbones", nargs="+", default=["minilm"])
    parser.add_argument("--losses", nargs="+", default=["listmle", "mse", "listnet"])
    parser.add_argument("--references", nargs="+", type=int, default=[0, 2])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    corpus = load_iclr_openreview()
    print(f"{'variant':34s}" + "".join(f"{m:>18s}" for m in METRICS) + "     time", flush=True)
    summarise("random scores", random_baseline(corpus, args.seeds), 0.0)
    for backbone in args.backbones:
        for refs in args.references:
            start = time.time()
            features = corpus_features(
                PaperScorerConfig(backbone=backbone, references=refs), corpus
            )
            print(
                f"# {backbone} features with {refs} references: {features.shape} in {time.time() - start:.1f}s",
                flush=True,
            )
            for loss in args.losses:
                start, rows = time.time(), []
                for seed in args.seeds:
                    config = PaperScorerConfig(
                        backbone=backbone, references=refs, loss=loss, seed=seed, epochs=args.epochs
                    )
                    rows.append(train_paper_scorer(config, corpus, features)[1].test_metrics)
                summarise(f"{backbone} refs={refs} {loss}", rows, time.time() - start)


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
