"""Trained policies served as TriRec's recommender, beside popularity and SASRec (issue 12).

Each policy run (seed 0 of examples/policy_comparison.py: base, SFT, Flower, BoN, BLADE)
is served with `recagora run trirec --recommender RUN` for one episode with the default
user agent (learned), surrogate items and the same seed, so every policy meets the same
cohort; the references draw TriRec's candidates from popularity or SASRec instead. Kept
per policy: the per-round metrics (metrics.parquet) and, rebuilt from the run's events,
each user's per-round NDCG@5 and stage-1 NDCG@5 (their means are checked against the
round metrics), so policies are compared PAIRED over users: Wilcoxon signed-rank on each
user's mean NDCG@5 over the rounds where the held-out item was a candidate.

    OMP_NUM_THREADS=1 .venv/bin/python examples/policy_trirec.py --dataset video-games \\
        --runs runs/pc/video-games/video-games/seed0 --users 300 \\
        --out examples/results/policy_comparison/trirec_video-games.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from recagora.item_space.metrics.accuracy import per_user_ndcg_at_k

POLICIES = ("base", "sft", "flower", "bon", "blade")
REFERENCES = ("popularity", "sasrec")  # TriRec's own candidate sources, no checkpoint
PER_USER = ("ndcg@5", "stage1_ndcg@5")


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    out = Path(args.out)
    if args.figure_from:  # only draw the per-round figure of finished results files
        _figure({Path(p).stem: json.loads(Path(p).read_text()) for p in args.figure_from}, out)
        return
    if not args.dataset or not args.runs:
        parser.error("an episode needs --dataset and --runs")
    results = json.loads(out.read_text()) if out.is_file() else {}
    versions = _code_versions()
    kept = results.get("settings", {}).get(
        "learned_user_fit_version", versions["learned_user_fit_version"]
    )
    if kept != versions["learned_user_fit_version"]:  # kept episodes met another user model
        results, args.rerun = {}, True
    results.setdefault("settings", {}).update({k: str(v) for k, v in vars(args).items()})
    results["settings"].update(versions)
    targets = _targets(args.dataset)
    users = {}
    for policy in args.policies:
        if policy in results.get("rounds", {}) and not args.rerun:  # kept from a cut-short run
            users[policy] = pd.DataFrame(results["per_user"][policy])
            continue
        folder, seconds = _episode(args, policy)
        rounds = pd.read_parquet(folder / "metrics.parquet").select_dtypes("number")
        users[policy] = _per_user(folder, targets, rounds)
        results.setdefault("rounds", {})[policy] = rounds.to_dict(orient="records")
        results.setdefault("per_user", {})[policy] = users[policy].to_dict(orient="list")
        results.setdefault("seconds", {})[policy] = seconds
        results["paired"] = _paired(users)
        _save(results, out)
        print(f"{policy}: {seconds}", flush=True)
    _print(results)


def _episode(args, policy: str) -> tuple[Path, dict[str, float]]:
    """Run one 5-round episode; (its run folder, wall and CPU seconds)."""
    from recagora.experiments.cli.main import main as cli

    runs_dir = Path(args.runs_dir) / args.dataset / policy
    argv = ["run", "trirec", "--dataset", args.dataset, "--quiet", "--agents", "item=surrogate"]
    argv += ["--llm", "fake:", "--users", str(args.users), "--rounds", str(args.rounds)]
    argv += ["--seed", str(args.seed), "--runs-dir", str(runs_dir)]
    if policy in REFERENCES:
        argv += ["--candidates", policy]
    else:
        argv += ["--recommender", str(Path(args.runs) / policy)]
    wall, cpu = time.perf_counter(), time.process_time()
    with _one_torch_thread():
        if cli(argv) != 0:
            raise SystemExit(f"trirec episode of {policy} failed")
    seconds = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
    return max(runs_dir.iterdir(), key=lambda p: p.stat().st_mtime), seconds


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    """Torch on one thread for the whole episode.

    MiniLM's embedder (item_space/embedding.py, `MiniLMConfig.num_threads` = 2) sets the
    process-wide count when it loads and never restores it, so the rest of the episode
    (the learned user's network) ran on 2 threads: on the shared 2-core machine that cost
    up to 13x more CPU per torch call. Until it restores the count, the call is held here.
    """
    import torch

    previous, setter = torch.get_num_threads(), torch.set_num_threads
    setter(1)
    torch.set_num_threads = lambda count: None
    try:
        yield
    finally:
        torch.set_num_threads = setter
        setter(previous)


def _code_versions() -> dict[str, str]:
    """The commit and the learned user's FIT_VERSION the episodes ran with: every policy of
    one results file must meet the same user model (a refit user is another simulator)."""
    import subprocess

    from recagora.agents.learned_user.fit import FIT_VERSION

    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    return {"git_head": head.strip(), "learned_user_fit_version": str(FIT_VERSION)}


def _targets(dataset: str) -> dict[str, int]:
    """{user: held-out item} of TriRec's leave-one-out split (the episode's targets)."""
    from recagora.item_space.datasets import load_dataset

    return {s.user: int(s.target) for s in load_dataset(dataset).split("loo").test}


def _per_user(folder: Path, targets: dict[str, int], rounds: pd.DataFrame) -> pd.DataFrame:
    """(round, user, ndcg@5, stage1_ndcg@5) of each user whose held-out item was a candidate,
    rebuilt from the events; each round's means must equal the run's own round metrics."""
    events = [json.loads(line) for line in (folder / "events.jsonl").open()]
    by_kind = {
        kind: {(e["round"], e["user"]): e for e in events if e.get("kind") == kind}
        for kind in ("ads", "score", "rerank")
    }
    rows = []
    for (round_index, user), rerank in by_kind["rerank"].items():
        slate, target = np.asarray([rerank["slate"]]), targets[user]
        if target not in slate:  # consumed earlier, or not among the candidates
            continue
        candidates = np.asarray(by_kind["ads"][(round_index, user)]["item"])
        scores = np.asarray(by_kind["score"][(round_index, user)]["scores"])
        stage1 = candidates[np.argsort(-scores, kind="stable")][None, :]
        rows.append(
            {
                "round": round_index,
                "user": user,
                "ndcg@5": float(per_user_ndcg_at_k(slate, np.asarray([target]), 5)[0]),
                "stage1_ndcg@5": float(per_user_ndcg_at_k(stage1, np.asarray([target]), 5)[0]),
            }
        )
    frame = pd.DataFrame(rows)
    _check_against_rounds(frame, rounds)
    return frame


def _check_against_rounds(frame: pd.DataFrame, rounds: pd.DataFrame) -> None:
    """The per-user rows must reproduce the episode's per-round NDCG@5 and stage-1 NDCG@5.

    Stage 1 is compared to 1e-2 only: the events keep scores to 3 decimals, so ties the
    episode broke on the full-precision scores may break differently here.
    """
    mine = frame.groupby("round")[list(PER_USER)].mean()
    theirs = rounds.set_index("round")[list(PER_USER)].loc[mine.index]
    counts = frame.groupby("round").size().to_numpy()
    if not np.array_equal(counts, rounds.set_index("round")["evaluated_users"].loc[mine.index]):
        raise SystemExit(f"evaluated users differ from the run's: {counts}")
    if not np.allclose(mine["ndcg@5"], theirs["ndcg@5"], atol=1e-9):
        raise SystemExit("per-user NDCG@5 does not reproduce the round metrics")
    if not np.allclose(mine["stage1_ndcg@5"], theirs["stage1_ndcg@5"], atol=1e-2):
        raise SystemExit("per-user stage-1 NDCG@5 does not reproduce the round metrics")


def _paired(users: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Every policy pair, over the users evaluable in both: each user's mean NDCG@5 (and
    stage-1 NDCG@5) over their evaluable rounds; Wilcoxon signed-rank (two-sided)."""
    means = {p: f.groupby("user")[list(PER_USER)].mean() for p, f in users.items()}
    out = {}
    for a, b in itertools.combinations(means, 2):
        both = pd.merge(
            means[a], means[b], left_index=True, right_index=True, suffixes=("_a", "_b")
        )
        row = {"users": len(both)}
        for metric in PER_USER:
            x, y = both[f"{metric}_a"].to_numpy(), both[f"{metric}_b"].to_numpy()
            row[f"{metric}_a"], row[f"{metric}_b"] = float(x.mean()), float(y.mean())
            row[f"{metric}_wilcoxon_p"] = float(wilcoxon(x, y).pvalue) if np.any(x != y) else 1.0
        out[f"{a} vs {b}"] = row
    return out


def _figure(results: dict[str, dict], path: Path) -> None:
    """Per-round NDCG@5, stage-1 NDCG@5, DGU and coverage of every policy, one row per file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = ("ndcg@5", "stage1_ndcg@5", "dgu", "coverage")
    fig, axes = plt.subplots(len(results), len(metrics), figsize=(14, 3.2 * len(results)))
    for row, (name, result) in enumerate(results.items()):
        for col, metric in enumerate(metrics):
            ax = axes[row][col] if len(results) > 1 else axes[col]
            for policy, rounds in result["rounds"].items():
                frame = pd.DataFrame(rounds)
                ax.plot(frame["round"], frame[metric], marker="o", label=policy)
            ax.set(title=f"{name}: {metric}", xlabel="round")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _save(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    # compact: the per-user rows (about 80k numbers at 1,000 users) are data, not for reading
    out.write_text(json.dumps(results, separators=(",", ":"), default=float) + "\n")


def _print(results: dict) -> None:
    keep = ["round", "evaluated_users", "ndcg@5", "stage1_ndcg@5", "dgu", "mgu", "coverage"]
    for policy, rounds in results.get("rounds", {}).items():
        print(f"\n{policy}\n" + pd.DataFrame(rounds)[keep].round(4).to_string(index=False))
    print(pd.DataFrame(results.get("paired", {})).T.round(4).to_string())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="", help="video-games or cds-vinyl.")
    parser.add_argument("--runs", default="", help="Folder holding one run per policy.")
    parser.add_argument("--out", required=True, help="Results JSON (resumed if it exists).")
    parser.add_argument(
        "--figure-from",
        nargs="*",
        default=[],
        help="Only draw these results files into --out (PNG).",
    )
    parser.add_argument(
        "--policies", nargs="+", default=[*POLICIES, *REFERENCES], help="Served, in order."
    )
    parser.add_argument("--users", type=int, default=300, help="Real users in the cohort.")
    parser.add_argument("--rounds", type=int, default=5, help="Rounds per episode.")
    parser.add_argument("--seed", type=int, default=0, help="Episode seed (same for all).")
    parser.add_argument("--runs-dir", default="runs/policy-trirec", help="Episode run folders.")
    parser.add_argument("--rerun", action="store_true", help="Rerun policies already in --out.")
    return parser


if __name__ == "__main__":
    main()
