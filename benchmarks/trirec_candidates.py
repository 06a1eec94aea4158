"""TriRec's candidate sources side by side: NDCG@5 of the held-out item with each `--candidates`.

    .venv/bin/python benchmarks/trirec_candidates.py [--dataset ml-100k] [--users 50] [--rounds 1]

Each source builds every user's set from the held-out item plus 9 negatives: `popularity`
(sampled by training popularity), `sasrec` (SASRec's 9 top-scored items, the paper's
protocol; SASRec is trained on the train split once and then cached, so the first run
pays for it) and `itemspace` (item-space neighbours of the history). One run per source,
surrogate user and template item agents (no LLM), the same seeded users; prints NDCG@5 after
re-ranking, the stage-1 NDCG@5 (user scores alone) and each run's wall time.
"""

from __future__ import annotations

import argparse
import time

from random_baselines import expected_ndcg  # benchmarks/, the script's folder

from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.runner.config import load_config
from recagora.experiments.runner.runner import start_run

SOURCES = ("popularity", "sasrec", "itemspace")


def run_source(source: str, args: argparse.Namespace) -> dict:
    """One surrogate episode with candidates from `source`; its overall metrics and wall time."""
    flags = {"dataset": args.dataset, "users": args.users, "rounds": args.rounds,
             "seed": args.seed, "agents": "user=surrogate,item=surrogate,platform=trirec"}  # fmt: skip
    config = load_config(TrirecConfig, None, flags, [f"candidates.source={source}"])
    started = time.perf_counter()
    result = start_run(config, runs_dir=args.runs_dir)
    overall = result.summary["overall"]
    return {
        "candidates": source,
        "ndcg@5": overall.get("ndcg@5", float("nan")),
        "stage1_ndcg@5": overall.get("stage1_ndcg@5", float("nan")),
        "wall_s": time.perf_counter() - started,
        "run": result.folder.name,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--users", type=int, default=50, help="Seeded sample of test users.")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    parser.add_argument("--runs-dir", default="bench-out/candidates")
    args = parser.parse_args()
    for source in args.sources:
        row = run_source(source, args)
        print("  ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in row.items()), flush=True)  # fmt: skip
    print(f"random order of 10 candidates: NDCG@5 {expected_ndcg(5, 10):.4f} (expected)")


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
