"""Classic baselines on a given split: random vs popularity vs SASRec, full-catalog ranking.

Trains on the split's train samples, ranks the whole catalog for every test sample and
prints the papers' table (Flower's protocol): HR/NDCG@1,5,10, DGU/MGU over 8 popularity
groups (Flower definition), word entropy, TTR, distinct items, plus training time.

    .venv/bin/python benchmarks/baselines_bench.py --dataset video-games --epochs 10

With ``--subsets 500 200 --out FILE.json`` it also scores popularity and SASRec on those
seeded test subsets exactly as ``recagora evaluate --max-samples N --seed S`` scores a
generative checkpoint (same samples, title units, same metric code), so their rows can
sit in one table with SFT and Flower.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from recagora.item_space.datasets import load_dataset
from recagora.item_space.metrics import (
    accuracy_report,
    dgu_mgu_flower,
    distinct_items,
    entropy,
    type_token_ratio,
)
from recagora.item_space.popularity import popularity_groups
from recagora.training.baselines import PopularityRecommender, SASRecConfig, SASRecRecommender
from recagora.training.evaluation import evaluate_rankings, pick_samples


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="video-games", help="Registry name or path.")
    parser.add_argument("--epochs", type=int, default=10, help="SASRec training epochs.")
    parser.add_argument("--loss", default="ce", choices=["ce", "bce"], help="SASRec loss.")
    parser.add_argument("--batch-size", type=int, default=256, help="SASRec batch size.")
    parser.add_argument("--max-len", type=int, default=10, help="SASRec history length (items).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of SASRec and the random ranker.")
    parser.add_argument("--threads", type=int, default=1, help="Torch CPU threads.")
    parser.add_argument(
        "--subsets",
        type=int,
        nargs="*",
        default=[],
        help="Also score seeded test subsets of these sizes as `recagora evaluate` does.",
    )
    parser.add_argument(
        "--subset-seed", type=int, default=0, help="Seed of the subsets (recagora evaluate --seed)."
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the subset rows.")
    return parser.parse_args()


def evaluate(ranked: np.ndarray, targets: np.ndarray, context: dict) -> dict[str, float]:
    """The table row of one ranker: accuracy, Flower fairness, diversity."""
    row = accuracy_report(ranked, targets, ks=(1, 5, 10))
    fairness = dgu_mgu_flower(ranked, context["groups"], context["share"], n_groups=8, k=10)
    row.update(DGU=fairness.dgu, MGU=fairness.mgu)
    row["H-word"] = entropy(ranked, context["titles"])
    row["TTR"] = type_token_ratio(ranked, context["titles"])
    row["distinct"] = float(distinct_items(ranked))
    return row


def main() -> None:
    args = parse_args()
    dataset = load_dataset(args.dataset)
    split, titles, n_items = dataset.split(), dataset.catalog.titles, len(dataset.catalog)
    histories = [list(sample.history) for sample in split.test]
    targets = np.array([sample.target for sample in split.test])
    counts = np.zeros(n_items, dtype=np.int64)
    for sample in split.train:
        np.add.at(counts, np.asarray(sample.history, dtype=np.int64), 1)
    groups = popularity_groups(counts, 8, scheme="flower", titles=titles)
    context = {"groups": groups.group, "share": groups.share, "titles": titles}
    print(f"{dataset.name}: {n_items} items, {split.sizes()}")

    rows: dict[str, dict[str, float]] = {}
    rng = np.random.default_rng(args.seed)
    random_ranked = np.argsort(rng.random((len(targets), n_items)), axis=1)[:, :10]
    rows["random"] = evaluate(random_ranked, targets, context)

    started = time.perf_counter()
    popularity = PopularityRecommender.from_samples(split.train, n_items)
    fit_pop = time.perf_counter() - started
    rows["popularity"] = evaluate(popularity.rank_batch(histories, 10), targets, context)

    config = SASRecConfig(
        loss=args.loss,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_len=args.max_len,
        seed=args.seed,
        threads=args.threads,
    )
    sasrec = SASRecRecommender(n_items, config)
    result = sasrec.fit(split.train)
    started = time.perf_counter()
    rows["sasrec"] = evaluate(sasrec.rank_batch(histories, 10), targets, context)
    rank_seconds = time.perf_counter() - started

    print(
        f"popularity fit {fit_pop:.3f}s; SASRec fit {result.seconds:.1f}s "
        f"({args.epochs} epochs, {result.seconds / args.epochs:.1f}s/epoch, loss "
        f"{result.epoch_losses[0]:.3f} -> {result.epoch_losses[-1]:.3f}); "
        f"SASRec ranks {len(targets)} test samples in {rank_seconds:.2f}s"
    )
    columns = list(rows["sasrec"])
    print("ranker      " + " ".join(f"{c:>9}" for c in columns))
    for name, row in rows.items():
        print(f"{name:<11} " + " ".join(f"{row[c]:9.4f}" for c in columns))
    ratio = rows["sasrec"]["HR@10"] / max(rows["popularity"]["HR@10"], 1e-12)
    print(f"SASRec / popularity HR@10 = {ratio:.2f}x")
    if args.subsets:
        rankers = {"popularity": popularity, "sasrec": sasrec}
        subset_rows = score_subsets(rankers, dataset, split, args)
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(subset_rows, indent=2))
            print(f"subset rows: {args.out}")


def score_subsets(rankers: dict, dataset, split, args) -> dict[str, dict[str, dict]]:
    """{subset size: {ranker: report}} on `recagora evaluate`'s seeded test subsets."""
    out: dict[str, dict[str, dict]] = {}
    for size in args.subsets:
        samples = pick_samples(split.test, size, args.subset_seed)
        histories = [list(s.history) for s in samples]
        out[str(size)] = {
            name: evaluate_rankings(
                ranker.rank_batch(histories, 10), samples, dataset.catalog, split.train
            )
            for name, ranker in rankers.items()
        }
        for name, row in out[str(size)].items():
            print(
                f"{size} samples, {name}: HR@10 {row['HR@10']:.4f} DGU {row['DGU']:.4f} MGU {row['MGU']:.4f}"
            )
    return out


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
