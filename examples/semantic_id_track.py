"""The semantic-ID track (issue 13): MindRec against autoregressive SIDs and classic baselines.

Datasets: games-semids (MindRec's Amazon Games, LETTER codes; category tree by clustering
interaction vectors, since it ships no text) and Video_Games (semantic IDs built here by
`recagora data semantic-ids`: MiniLM + FAISS residual quantiser, 4 x 256; category tree
by Ward clustering of the same embeddings). Leave-one-out, histories of at most 10 items.

Methods, all on the same users, split and step budget:
- popularity and SASRec (Kang & McAuley, ICDM 2018), full-catalog ranking;
- AR-SID: the SFT trainer on semantic IDs with the tiny GPT (TIGER / LC-Rec style:
  autoregressive codes with an end-of-item token, trie-constrained beam search);
- MindRec (`recagora train mindrec`): masked diffusion over category path + SID,
  diffusion beam search; and MindRec without the category phase (LETTER-LLaDA style).
Metrics: HR/NDCG@1,5,10 over 10 beams, invalid items, code entropy (bits, of the SID
tokens of the top-10 lists, MindRec's H). Mean +- std over seeds (training seeds; the
users and the semantic IDs are fixed).

This CPU is small, so the run is scaled down: `--users` users (seeded choice, seed 0)
train every method, `--test-users` of them are scored. No setting here was tuned on
the test split. Run (about 30 min on 2 shared cores at the defaults):

    .venv/bin/python examples/semantic_id_track.py --out runs/semantic_id_track
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from recagora.item_space.datasets import load_dataset
from recagora.item_space.datasets.semantic_ids import write_semantic_id_folder
from recagora.item_space.metrics import entropy
from recagora.item_space.semantic_id_build import SemanticIdConfig, semantic_ids_for
from recagora.training.baselines import PopularityRecommender, SASRecConfig, SASRecRecommender
from recagora.training.evaluation import evaluate_checkpoint, evaluate_rankings, pick_samples
from recagora.training.registry import make_trainer

METHODS = ("popularity", "sasrec", "mindrec", "ar-sid", "mindrec-no-cat")
COLUMNS = ("HR@1", "HR@5", "HR@10", "NDCG@1", "NDCG@5", "NDCG@10", "invalid", "code_H")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["games-semids", "video-games"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--users", type=int, default=2000, help="Users that train (seeded).")
    parser.add_argument("--test-users", type=int, default=300, help="Of them, users scored.")
    parser.add_argument("--steps", type=int, default=300, help="Optimizer steps (AR-SID, MindRec).")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sasrec-epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("runs/semantic_id_track"))
    return parser.parse_args()


def with_semantic_ids(name: str, out: Path):
    """The dataset with semantic IDs on its items (built and written for a catalog without)."""
    dataset = load_dataset(name)
    if all("semantic_id" in item.attributes for item in dataset.catalog.items):
        return dataset
    sids = semantic_ids_for(dataset.catalog, SemanticIdConfig(levels=4, codes=256, seed=0))
    print(
        f"{name}: semantic IDs built: {json.dumps(sids.stats['collisions_before'])} before, "
        f"{sids.stats['seconds']} s quantising, cached={sids.stats['cached']}"
    )
    index = write_semantic_id_folder(dataset, sids.tokens(), out / f"{name}-semids", sids.stats)
    return load_dataset(index.parent)


def user_subset(dataset, users: int, test_users: int):
    """(train samples, test samples) of a seeded choice of users (leave-one-out, 10 items)."""
    split = dataset.split("loo", max_history=10)
    everyone = sorted({sample.user for sample in split.test})
    rng = np.random.default_rng(0)
    chosen = set(rng.choice(everyone, size=min(users, len(everyone)), replace=False).tolist())
    train = [s for s in split.train if s.user in chosen]
    test = pick_samples([s for s in split.test if s.user in chosen], test_users, 0)
    return train, test


def code_entropy(ranked: np.ndarray, catalog) -> float:
    codes = [" ".join(item.attributes["semantic_id"]) for item in catalog.items]
    return entropy(ranked, codes)


def score_ranker(ranked, test, catalog, train) -> dict:
    report = dict(evaluate_rankings(ranked, test, catalog, train))
    report["code_H"] = code_entropy(ranked, catalog)
    return report


def run_generative(method: str, dataset, train, test, seed: int, args, folder: Path) -> dict:
    trainer_method = "sft" if method == "ar-sid" else "mindrec"
    overrides = [f"seed={seed}", f"max_steps={args.steps}", f"batch_size={args.batch_size}"]
    overrides += [f"output_dir={folder}", f"save_every={args.steps}"]
    if method == "mindrec-no-cat":
        overrides.append("category_phase=false")
    if method == "ar-sid":
        overrides.append("backbone.name=tiny-gpt")
    make_trainer(trainer_method, dataset.catalog, train, None, overrides).train()
    report = evaluate_checkpoint(folder, dataset.catalog, test, train, num_beams=10)
    report = dict(report) | {"code_H": code_entropy(report.per_sample["ranked"], dataset.catalog)}
    return report


def run_method(method: str, dataset, train, test, seed: int, args) -> dict:
    catalog, histories = dataset.catalog, [list(s.history) for s in test]
    if method == "popularity":
        ranker = PopularityRecommender.from_samples(train, len(catalog))
        return score_ranker(ranker.rank_batch(histories, 10), test, catalog, train)
    if method == "sasrec":
        ranker = SASRecRecommender(len(catalog), SASRecConfig(epochs=args.sasrec_epochs, seed=seed))
        ranker.fit(train)
        return score_ranker(ranker.rank_batch(histories, 10), test, catalog, train)
    folder = args.out / "runs" / dataset.name / f"{method}-seed{seed}"
    return run_generative(method, dataset, train, test, seed, args, folder)


def table(rows: dict) -> str:
    """Markdown: one row per (dataset, method), mean +- std over seeds."""
    lines = ["| dataset | method | " + " | ".join(COLUMNS) + " | seeds |"]
    lines.append("|---" * (len(COLUMNS) + 3) + "|")
    for (name, method), reports in rows.items():
        cells = []
        for column in COLUMNS:
            values = [r[column] for r in reports]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(
                f"{statistics.mean(values):.4f} ± {spread:.4f}"
                if column != "invalid"
                else f"{sum(values):.0f}"
            )
        lines.append(f"| {name} | {method} | " + " | ".join(cells) + f" | {len(reports)} |")
    return "\n".join(lines)


def save(rows: dict, out: Path) -> None:
    """rows.json (every report) and table.md (the table so far) in `out`."""
    (out / "rows.json").write_text(
        json.dumps({f"{k[0]}/{k[1]}": v for k, v in rows.items()}, indent=1)
    )
    (out / "table.md").write_text(table(rows) + "\n")


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows: dict = {}
    for name in args.datasets:
        dataset = with_semantic_ids(name, args.out)
        train, test = user_subset(dataset, args.users, args.test_users)
        print(
            f"{dataset.name}: {len(dataset.catalog)} items, {len(train)} train samples, "
            f"{len(test)} test users"
        )
        for method in args.methods:
            for seed in args.seeds:
                started = time.perf_counter()
                report = run_method(method, dataset, train, test, seed, args)
                report["seconds"] = time.perf_counter() - started
                rows.setdefault((name, method), []).append(report)
                print(
                    f"  {method} seed {seed}: HR@1 {report['HR@1']:.4f} HR@10 "
                    f"{report['HR@10']:.4f} invalid {report['invalid']:.0f} "
                    f"({report['seconds']:.0f} s)",
                    flush=True,
                )
                save(rows, args.out)  # after every seed: a cut-short run keeps its rows
    print(table(rows))


if __name__ == "__main__":
    main()
