"""UGR's confidence measured on enough positives: games-semids test users, bootstrap CIs.

Re-evaluates finished games-semids runs (SFT, plain GRPO, UGR from
benchmarks/policy_ugr_semids.py) on --test-samples seeded test users (0 = all), 10 beams.
For each run: HR@1/5/10, NDCG@1/5/10 and, for its confidence c (Fan et al., KDD 2026; the
SFT and GRPO runs carry the same two tokens untrained, a control) and for the beam's
total log-probability (the baseline any beam search already has):
  - beam level: AUROC of "this beam is the held-out item";
  - user level: AUROC of "the held-out item is in the top 10", scored by the user's max c
    (resp. the top beam's log-probability);
each with a 95% percentile bootstrap CI over USERS (a user's 10 beams are resampled
together); NDCG@10 as the least-confident 0-50% of users are rejected (user-level score);
NDCG@1 before and after re-ranking each user's beams by c.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/policy_ugr_confidence.py \\
        --runs sft=runs/semids-sft-2000 grpo=runs/ugr60/grpo ugr=runs/ugr60/ugr \\
        --test-samples 0 --out examples/results/policy_comparison/ugr_confidence.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from recagora.item_space.datasets import load_dataset
from recagora.training.evaluation import evaluate_rankings, pick_samples
from recagora.training.policy import GenerativeRecommender
from recagora.training.ugr_confidence import rejection_curve, rerank_by_confidence

SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
ACCURACY = ("HR@1", "HR@5", "HR@10", "NDCG@1", "NDCG@5", "NDCG@10", "invalid")


def main() -> None:
    args = _parser().parse_args()
    dataset = load_dataset("games-semids")
    split = dataset.split("auto")
    test = (
        list(split.test)
        if args.test_samples <= 0
        else pick_samples(split.test, args.test_samples, args.seed)
    )
    results = {"settings": vars(args), "test_users": len(test), "policies": {}}
    for name, run in (spec.split("=", 1) for spec in args.runs):
        started, cpu = time.perf_counter(), time.process_time()
        report = _evaluate(
            GenerativeRecommender.load(run, dataset.catalog), test, dataset, split, args
        )
        report["seconds"] = {
            "wall": time.perf_counter() - started,
            "cpu": time.process_time() - cpu,
        }
        results["policies"][name] = report
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1, default=float))
        print(
            name,
            json.dumps({k: v for k, v in report.items() if k != "rejecting"}, default=float),
            flush=True,
        )


def _evaluate(policy, test, dataset, split, args) -> dict:
    histories = [s.history for s in test]
    ranked, log_prob, invalid = policy.rank(histories, 10, batch_size=args.batch_size)
    report = evaluate_rankings(ranked, test, dataset.catalog, split.train, invalid)
    out = {key: float(report[key]) for key in ACCURACY}
    ranks = np.asarray(report.per_sample["hit_rank"])  # 1-based rank of the answer, 0 = miss
    confidence = policy.confidence(histories, ranked, batch_size=args.batch_size)
    correct = (ranks[:, None] - 1) == np.arange(ranked.shape[1])[None, :]
    valid = ranked >= 0
    rng = np.random.default_rng(args.seed)
    draws = [rng.integers(0, len(test), len(test)) for _ in range(args.bootstrap)]
    out["hits@10"], out["positive_beams"] = int((ranks > 0).sum()), int(correct.sum())
    for score_name, scores in (("confidence", confidence), ("log_prob", log_prob)):
        beams = np.where(valid, scores, -np.inf)
        user_score = beams.max(axis=1)
        out[f"auroc_beam_{score_name}"] = _auroc_ci(correct, beams, valid, draws)
        out[f"auroc_user_{score_name}"] = _auroc_ci(
            ranks[:, None] > 0, user_score[:, None], None, draws
        )
        ndcg10 = np.where(ranks > 0, 1.0 / np.log2(np.maximum(ranks, 1) + 1.0), 0.0)
        out.setdefault("rejecting", {})[f"ndcg@10_by_{score_name}"] = dict(
            zip(map(str, SHARES), rejection_curve(user_score, ndcg10, SHARES), strict=True)
        )
    after = evaluate_rankings(
        rerank_by_confidence(ranked, confidence), test, dataset.catalog, split.train
    )
    out["ndcg@1_reranked"], out["ndcg@10_reranked"] = (
        float(after["NDCG@1"]),
        float(after["NDCG@10"]),
    )
    return out


def _auroc_ci(labels: np.ndarray, scores: np.ndarray, valid, draws) -> dict:
    """AUROC over all (user, beam) cells with `valid` (None = all), and its 95% bootstrap
    percentile CI from resampling users (rows) with `draws`; None where one class is absent."""
    keep = np.ones(labels.shape, bool) if valid is None else valid

    def auroc(rows):
        y, s = labels[rows][keep[rows]], scores[rows][keep[rows]]
        return float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else np.nan

    point = auroc(np.arange(len(labels)))
    boot = np.array([auroc(rows) for rows in draws])
    boot = boot[np.isfinite(boot)]
    low, high = np.percentile(boot, [2.5, 97.5]).tolist() if len(boot) else (None, None)
    return {"auroc": point, "ci95": [low, high], "positives": int(labels[keep].sum())}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", required=True, help="name=run_folder, in order.")
    parser.add_argument("--test-samples", type=int, default=0, help="Seeded test users (0 = all).")
    parser.add_argument("--bootstrap", type=int, default=1000, help="Bootstrap resamples of users.")
    parser.add_argument("--batch-size", type=int, default=64, help="Prompts per beam-search batch.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the subset and bootstrap.")
    parser.add_argument("--out", required=True, help="Results JSON.")
    return parser


if __name__ == "__main__":
    main()
