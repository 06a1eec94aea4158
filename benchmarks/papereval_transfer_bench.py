"""How far the ICLR 2017 scorer carries to accept/reject decisions (the transfer check we can run).

    python benchmarks/papereval_transfer_bench.py --seeds 0 1 2

No other ICLR year is in the shared data, so this is the in-year stand-in: on the same
seeded held-out ICLR 2017 papers (70/10/20 split, as `recagora papereval train-scorer`),
AUROC and NDCG@10 by decision (accepted = 1) of a scorer trained on the mean rating and of
one trained on the decisions alone (the export without its reviews file), against the mean
of 500 seeded random orders of the same papers. The scorers are those of `recagora papereval
train-scorer --loss mse --seed S`, without and with `--submissions <ICLR17_submissions.csv>`.
For another year: `recagora papereval evaluate-scorer --scorer S --submissions ICLR18_...`.
"""

from __future__ import annotations

import argparse

import numpy as np

from recagora.item_space.openreview import OpenReviewSource, decision_labels, load_openreview
from recagora.item_space.papers import ICLR_FILES, load_iclr_openreview, shared_data_dir
from recagora.training.papereval.config import PaperScorerConfig
from recagora.training.papereval.ranking_metrics import random_order_baseline
from recagora.training.papereval.trainer import (
    corpus_features,
    test_decision_metrics,
    train_paper_scorer,
)


def rows_for_seed(rated, decided, features, loss: str, backbone: str, seed: int) -> dict:
    """{variant: decision_report} on one seed's test papers."""
    config = PaperScorerConfig(backbone=backbone, loss=loss, seed=seed)
    rows = {}
    for name, corpus in (("trained on mean rating", rated), ("trained on decisions", decided)):
        trainer, _, split = train_paper_scorer(config, corpus, features)
        rows[name] = test_decision_metrics(trainer, split, corpus)
    accepted = decision_labels(decided.targets)
    accepted = accepted[np.flatnonzero(np.isfinite(accepted))[split.test]]
    chance = random_order_baseline(accepted, 500, seed=seed)
    rows["random order (500 orders)"] = {k: v["mean"] for k, v in chance.items()}
    rows["random order (500 orders)"]["n"] = float(len(accepted))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--loss", default="mse", help="listmle, mse or listnet.")
    parser.add_argument("--backbone", default="minilm", help="Frozen feature backbone.")
    args = parser.parse_args()
    rated = load_iclr_openreview()
    submissions = shared_data_dir() / "iclr-openreview" / ICLR_FILES[0]
    decided = load_openreview(OpenReviewSource(submissions=str(submissions)))
    features = corpus_features(PaperScorerConfig(backbone=args.backbone), rated)
    per_seed = [
        rows_for_seed(rated, decided, features, args.loss, args.backbone, s) for s in args.seeds
    ]
    print(f"{int(per_seed[0]['random order (500 orders)']['n'])} held-out ICLR 2017 papers per seed, seeds {args.seeds}")  # fmt: skip
    print(f"{'variant':28s}{'AUROC':>16s}{'NDCG@10':>16s}   per seed AUROC")
    for name in per_seed[0]:
        auc = [row[name]["auroc"] for row in per_seed]
        ndcg = [row[name]["ndcg@10"] for row in per_seed]
        cells = [f"{np.mean(v):.3f}+-{np.std(v):.3f}" for v in (auc, ndcg)]
        print(f"{name:28s}{cells[0]:>16s}{cells[1]:>16s}   {' '.join(f'{a:.3f}' for a in auc)}")


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
