"""The semantic-ID track (issue 13): MindRec against autoregressive SIDs and classic baselines.

Datasets: games-semids (MindRec's Amazon Games, LETTER codes; category tree by clustering
interaction vectors, since it ships no text) and Video_Games (semantic IDs built here by
`recagora data semantic-ids`: MiniLM + FAISS residual quantiser, 4 x 256; category tree
by Ward clustering of the same embeddings). Leave-one-out, histories of at most 10 items;
every method trains on ALL the training samples.

Methods, on the same split, histories and step budget:
- popularity and SASRec (Kang & McAuley, ICDM 2018), full-catalog ranking;
- AR-SID: the SFT trainer on semantic IDs (TIGER / LC-Rec style: the prompt is the
  history's codes only, the answer the target's codes + the end-of-item token,
  trie-constrained beam search), tiny GPT of MindRec's size (2 layers x 128);
- MindRec (`recagora train mindrec`): masked diffusion over category path + SID,
  diffusion beam search; and MindRec without the category phase (LETTER-LLaDA style).

Budgets are chosen on VALIDATION only: seed 0 of each generative method trains in stages
(`--budgets`, resumed, so the last stage equals an uninterrupted run) and the stage with
the best validation NDCG@10 is kept; SASRec's epochs likewise (`--sasrec-epochs`). Seeds
1.. then train at the chosen budget and every seed is scored on the seeded test users.
Metrics: HR/NDCG@1,5,10 over 10 beams, invalid items, code entropy (bits, of the SID
tokens of the top-10 lists); paired tests MindRec vs AR-SID (`semantic_id_track_stats.py`). Run:

    OMP_NUM_THREADS=1 .venv/bin/python examples/semantic_id_track.py \\
        --out /tmp/semantic_id_track --results examples/results/semantic_id_track
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
from semantic_id_track_stats import paired_tests, plot, summary, table  # examples/, beside

from recagora.item_space.datasets import load_dataset
from recagora.item_space.datasets.semantic_ids import write_semantic_id_folder
from recagora.item_space.metrics import entropy
from recagora.item_space.semantic_id_build import SemanticIdConfig, semantic_ids_for
from recagora.training.baselines import (
    PopularityRecommender,
    SASRecConfig,
    SASRecRecommender,
)
from recagora.training.evaluation import (
    evaluate_checkpoint,
    evaluate_rankings,
    pick_samples,
)
from recagora.training.registry import make_trainer

METHODS = ("popularity", "mindrec", "ar-sid", "mindrec-no-cat", "sasrec")
# AR-SID's prompt is the codes alone (no instruction text), its model MindRec's size.
AR_SID = [
    "backbone.name=tiny-gpt",
    "backbone.tiny_n_layer=2",
    'prompt.template="{history}"',
    'prompt.separator=""',
    'prompt.quote=""',
    "prompt.max_history=10",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["video-games", "games-semids"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--budgets",
        type=int,
        nargs="+",
        default=[300, 600],
        help="Optimizer-step stages tried on validation (generative methods).",
    )
    parser.add_argument(
        "--sasrec-epochs",
        type=int,
        nargs="+",
        default=[1, 3],
        help="SASRec epochs tried on validation.",
    )
    parser.add_argument("--lr", type=float, default=1e-3, help="Peak learning rate (generative).")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--valid-users", type=int, default=500, help="Seeded validation users.")
    parser.add_argument("--test-users", type=int, default=1000, help="Seeded test users.")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/semantic_id_track"),
        help="Scratch folder: run folders and checkpoints.",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("runs/semantic_id_track/results"),
        help="Where results.json, table.md and the PNG go.",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="Rebuild the paired tests, table and figure from --results/results.json.",
    )
    return parser.parse_args()


def with_semantic_ids(name: str, out: Path):
    """The dataset with semantic IDs on its items (built and written for a catalog without)."""
    dataset = load_dataset(name)
    if all("semantic_id" in item.attributes for item in dataset.catalog.items):
        return dataset
    sids = semantic_ids_for(dataset.catalog, SemanticIdConfig(levels=4, codes=256, seed=0))
    index = write_semantic_id_folder(dataset, sids.tokens(), out / f"{name}-semids", sids.stats)
    # Keep the dataset's own items (titles, categories): they only gain their codes.
    codes = {
        item.key: item.attributes["semantic_id"]
        for item in load_dataset(index.parent).catalog.items
    }
    for item in dataset.catalog.items:
        item.attributes["semantic_id"] = codes[item.key]
    return dataset


def code_entropy(ranked: np.ndarray, catalog) -> float:
    codes = [" ".join(item.attributes["semantic_id"]) for item in catalog.items]
    return entropy(ranked, codes)


def scored(report, catalog) -> dict:
    """The report's metrics, code entropy and each sample's hit rank (for paired tests)."""
    ranked = report.per_sample["ranked"]
    out = {k: float(v) for k, v in report.items()}
    out["code_H"] = code_entropy(ranked, catalog)
    out["hit_rank"] = report.per_sample["hit_rank"].tolist()
    return out


class Track:
    """One dataset's runs: budget choice on validation, then every seed on test."""

    def __init__(self, dataset, args):
        self.dataset, self.args, self.catalog = dataset, args, dataset.catalog
        split = dataset.split("loo", max_history=10)
        self.split, self.train = split, split.train
        self.valid = pick_samples(split.valid, args.valid_users, 0)
        self.test = pick_samples(split.test, args.test_users, 0)

    def evaluate(self, ranked, samples) -> dict:
        return scored(evaluate_rankings(ranked, samples, self.catalog, self.train), self.catalog)

    def classic(self, method: str, seed: int, epochs: int):
        """Popularity, or SASRec fitted for `epochs` on the training interactions."""
        if method == "popularity":
            return PopularityRecommender.from_samples(self.train, len(self.catalog))
        ranker = SASRecRecommender(len(self.catalog), SASRecConfig(epochs=epochs, seed=seed))
        ranker.fit(self.split.train_interactions)
        return ranker

    def score_ranker(self, ranker, samples) -> dict:
        ranked = ranker.rank_batch([list(s.history) for s in samples], 10)
        return self.evaluate(ranked, samples)

    def generative(self, method: str, seed: int, steps: int) -> Path:
        """Train (or resume) `method` to `steps`; the run folder."""
        folder = self.args.out / "runs" / self.dataset.name / f"{method}-seed{seed}"
        overrides = [
            f"seed={seed}",
            f"max_steps={steps}",
            f"batch_size={self.args.batch_size}",
            f"micro_batch_size={self.args.batch_size}",
            f"learning_rate={self.args.lr}",
            "warmup_steps=50",
            f"output_dir={folder}",
            f"save_every={steps}",
            "progress=false",
            "num_threads=1",
        ]
        if method == "mindrec-no-cat":
            overrides.append("category_phase=false")
        trainer = "sft" if method == "ar-sid" else "mindrec"
        if method == "ar-sid":
            overrides += AR_SID
        make_trainer(trainer, self.catalog, self.train, None, overrides).train()
        return folder

    def score_checkpoint(self, checkpoint: Path, samples) -> dict:
        report = evaluate_checkpoint(checkpoint, self.catalog, samples, self.train, num_beams=10)
        return scored(report, self.catalog)

    def choose(self, method: str) -> tuple[int, list[dict], object]:
        """(chosen budget, validation rows, seed 0's model at it: checkpoint folder or
        ranker), on validation only; ties keep the smaller budget."""
        rows, best = [], None
        if method == "popularity":
            ranker = self.classic(method, 0, 0)
            return 0, [self.score_ranker(ranker, self.valid) | {"budget": 0}], ranker
        for budget in sorted(self.args.sasrec_epochs if method == "sasrec" else self.args.budgets):
            started = time.perf_counter()
            if method == "sasrec":
                kept = self.classic(method, 0, budget)  # seed 0's test reuses it
                row = self.score_ranker(kept, self.valid)
            else:
                folder = self.generative(method, 0, budget)
                kept = folder / f"checkpoint-{budget}"
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(folder / "checkpoint", kept)
                row = self.score_checkpoint(kept, self.valid)
            row |= {"budget": budget, "seconds": time.perf_counter() - started}
            rows.append({k: v for k, v in row.items() if k != "hit_rank"})
            log(
                f"  valid {method} budget {budget}: HR@10 {row['HR@10']:.4f} "
                f"NDCG@10 {row['NDCG@10']:.4f} ({row['seconds']:.0f} s)"
            )
            if best is None or row["NDCG@10"] > best[0]["NDCG@10"]:
                best = (row, kept)
        return best[0]["budget"], rows, best[1]

    def run(self, method: str) -> dict:
        budget, valid_rows, kept = self.choose(method)
        tests = []
        for seed in self.args.seeds:
            started = time.perf_counter()
            if method in ("popularity", "sasrec"):
                ranker = kept if seed == 0 else self.classic(method, seed, budget)
                row = self.score_ranker(ranker, self.test)
            else:
                checkpoint = kept if seed == 0 else self.generative(method, seed, budget)
                row = self.score_checkpoint(checkpoint, self.test)
            row |= {"seed": seed, "seconds": time.perf_counter() - started}
            tests.append(row)
            log(
                f"  test {method} seed {seed}: HR@1 {row['HR@1']:.4f} HR@10 {row['HR@10']:.4f} "
                f"invalid {row['invalid']:.0f} ({row['seconds']:.0f} s)"
            )
            if method == "popularity":
                break  # deterministic: one seed is every seed
        return {"budget": budget, "valid": valid_rows, "test": tests}


def log(text: str) -> None:
    print(time.strftime("%H:%M:%S"), text, flush=True)


def save(results: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=1))
    (folder / "table.md").write_text(table(results) + "\n")


def report(results: dict, folder: Path) -> None:
    """Paired tests, summary, table.md, results.json and the figure from the rows."""
    results["paired"] = {name: paired_tests(runs) for name, runs in results["datasets"].items()}
    results["summary"] = summary(results)
    save(results, folder)
    plot(results, folder / "semantic_id_track.png")
    print(table(results))


def main() -> None:
    args = parse_args()
    if args.report_only:  # e.g. after a run cut short: its rows are saved per method
        report(json.loads((args.results / "results.json").read_text()), args.results)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    results = {"settings": {k: str(v) for k, v in vars(args).items()}, "datasets": {}}
    for name in args.datasets:
        track = Track(with_semantic_ids(name, args.out), args)
        log(
            f"{name}: {len(track.catalog)} items, {len(track.train)} train samples, "
            f"{len(track.valid)} valid / {len(track.test)} test users"
        )
        runs = results["datasets"].setdefault(name, {})
        for method in args.methods:
            runs[method] = track.run(method)
            save(results, args.results)  # after every method: a cut-short run keeps its rows
    report(results, args.results)


if __name__ == "__main__":
    main()
