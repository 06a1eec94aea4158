"""PUMA on ML-100K: stage-1 prompts on SmolLM2, migration to Gemma-3-270M vs retraining.

Five modes, each single-threaded unless --threads says otherwise:

    # training passes per second on each backbone (first epoch fills the prefix cache)
    .venv/bin/python benchmarks/puma_bench.py throughput [--batch 16]
    # the prompt learning rate, chosen on the validation split (never test)
    .venv/bin/python benchmarks/puma_bench.py pilot --users 30 --lrs 0.005,0.02
    # the run: `recagora train puma` with these sizes, then the report's table
    .venv/bin/python benchmarks/puma_bench.py run --users 100 --train 8 --test 10 --budget 20 --seeds 3
    # larger migration budgets from a finished run's prompts (stage 1 and retraining reused)
    .venv/bin/python benchmarks/puma_bench.py sweep --from-run RUN --budgets 40,80 --output-dir RUN/sweep
    # the figure of a run's report
    .venv/bin/python benchmarks/puma_bench.py plot --report RUN/report.json --png examples/results/puma/puma.png

`run` prints RMSE/MAE on each user's held-out later ratings, LM passes (one training
rating forward + backward), cold-start seconds, both as ratios to full retraining on B,
and the paired bootstrap intervals (over users) of the RMSE differences.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def table(report: dict) -> str:
    lines = ["| method | RMSE | MAE | LM passes | epochs (best) | s (cold) | passes / retraining | s / retraining | "
             "RMSE vs retraining |", "|---|---|---|---|---|---|---|---|---|"]
    for name, row in report["rows"].items():
        lines.append(f"| {name} | {row['rmse']:.4f} | {row['mae']:.4f} | {row['lm_passes']} | "
                     f"{row.get('epochs', 0)} ({row.get('best_epoch', 0)}) | {row.get('seconds_cold', row['seconds'])} | "
                     f"{row['compute_vs_retraining']:.3f} | {row.get('seconds_vs_retraining', 0):.3f} | "
                     f"{row['rmse_vs_retraining']:+.2%} |")
    lines += ["", "| paired: RMSE(x) - RMSE(y) | difference | 95% CI (users resampled) |", "|---|---|---|"]
    for name, pair in report.get("paired", {}).items():
        lines.append(f"| {name} | {pair['difference']:+.4f} | [{pair['ci95'][0]:+.4f}, {pair['ci95'][1]:+.4f}] |")
    return "\n".join(lines)


def throughput(args) -> None:
    """Training passes/s of each backbone, on 40 users' ratings: first epoch, then cached."""
    from recagora.item_space.datasets import load_dataset
    from recagora.training.puma.config import PumaConfig
    from recagora.training.puma.data import load_ratings
    from recagora.training.puma.model import RatingLM
    from recagora.training.puma.train import fit_prompts
    from recagora.training.soft_tokens import load_frozen_lm

    data = load_ratings(load_dataset("ml-100k"), 40, 8, 4, 0.2, np.random.default_rng(0))
    data.train = data.train.iloc[: args.batch * args.steps]
    cfg = PumaConfig(batch_size=args.batch)
    for name in ("smollm2", "gemma3-270m"):
        rlm = RatingLM(*load_frozen_lm(name))
        for label in ("first epoch (fills the prefix cache)", "later epochs (prefixes cached)"):
            wall, cpu = time.perf_counter(), time.process_time()
            _, cost = fit_prompts(rlm, data, cfg, torch.Generator().manual_seed(0), epochs=1)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{name} batch {args.batch} {label}: {cost.lm_passes / cpu:.1f} passes per CPU-second "
                  f"({cost.lm_passes / wall:.1f} per wall second)")


def pilot(args) -> None:
    """Validation RMSE of stage-1 prompts per backbone and learning rate (best epoch kept)."""
    from recagora.item_space.datasets import load_dataset
    from recagora.training.puma.config import PumaConfig
    from recagora.training.puma.data import load_ratings
    from recagora.training.puma.model import RatingLM
    from recagora.training.puma.train import _valid_rmse, fit_prompts
    from recagora.training.soft_tokens import load_frozen_lm

    data = load_ratings(load_dataset("ml-100k"), args.users, args.train, 0, 0.2, np.random.default_rng(args.seed),
                        args.valid)
    data.test = data.valid  # predictions below read the validation split only
    for name in ("smollm2", "gemma3-270m"):
        rlm = RatingLM(*load_frozen_lm(name))
        for lr in (float(v) for v in args.lrs.split(",")):
            cfg = PumaConfig(lr_prompt=lr, batch_size=args.batch, patience=args.patience)
            table, cost = fit_prompts(rlm, data, cfg, torch.Generator().manual_seed(args.seed), epochs=args.epochs)
            score = _valid_rmse(rlm, lambda u, t=table: t[u], data.valid)
            print(json.dumps({"backbone": name, "lr_prompt": lr, "valid_rmse": round(score, 4),
                              "epochs": cost.epochs, "best_epoch": cost.best_epoch, "seconds": round(cost.seconds, 1)}),
                  flush=True)


def run(args) -> None:
    from recagora.item_space.datasets import load_dataset
    from recagora.training.puma.config import PumaConfig
    from recagora.training.puma.run import run_puma

    cfg = PumaConfig(n_users=args.users, max_train_per_user=args.train, val_per_user=args.valid,
                     max_test_per_user=args.test, epochs=args.epochs, migrate_epochs=args.migrate_epochs,
                     budget=args.budget, clusters=args.clusters, min_per_cluster=args.min_per_cluster,
                     selection_seeds=args.seeds, batch_size=args.batch, lr_prompt=args.lr_prompt,
                     lr_adapter=args.lr_adapter, patience=args.patience, source_prompts=args.source_prompts,
                     output_dir=args.output_dir)
    wall, cpu = time.perf_counter(), time.process_time()
    report = run_puma(cfg, load_dataset("ml-100k"), log=lambda line: print(line, flush=True))
    print(table(report))
    print(f"total {time.perf_counter() - wall:.0f} s wall, {time.process_time() - cpu:.0f} s CPU; "
          f"report {Path(args.output_dir) / 'report.json'}")


def sweep(args) -> None:
    """Migration budgets A -> B from a finished run's prompts (stage 1 and retraining reused).

    Same users and splits as the run (same seed and sizes); each budget's group and random
    selections are paired against the run's retraining predictions (predictions.csv).
    """
    import pandas as pd

    from recagora.item_space.datasets import load_dataset
    from recagora.training.puma import run as puma_run
    from recagora.training.puma.config import PumaConfig
    from recagora.training.puma.data import load_ratings
    from recagora.training.puma.model import RatingLM
    from recagora.training.puma.selection import random_users, select_users
    from recagora.training.puma.stats import paired_rmse_difference
    from recagora.training.soft_tokens import load_frozen_lm

    folder = Path(args.from_run)
    cfg = PumaConfig(**{**json.loads((folder / "report.json").read_text())["config"], "output_dir": args.output_dir})
    data = load_ratings(load_dataset("ml-100k"), cfg.n_users, cfg.max_train_per_user, cfg.max_test_per_user,
                        cfg.test_share, np.random.default_rng(cfg.seed), cfg.val_per_user)
    saved = torch.load(folder / "prompts.pt", weights_only=True)
    assert saved["users"] == data.users, "the run's users differ: same seed and sizes needed"
    retrain = pd.read_csv(folder / "predictions.csv")[puma_run.RETRAIN].to_numpy()
    b = RatingLM(*load_frozen_lm(cfg.backbone_b), cfg.template)
    book = puma_run.Book(data, {"b": puma_run._fill(b, data, print)}, lambda line: print(line, flush=True))
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # the adapters' nn.Linear inits draw from the global generator
    out = {}
    for budget in (int(v) for v in args.budgets.split(",")):
        srng = np.random.default_rng([cfg.seed, budget])
        picks = {"group": select_users(saved["a"].numpy(), data.variances(), budget, srng, clusters=cfg.clusters,
                                       bins=cfg.variance_bins, min_per_cluster=cfg.min_per_cluster),
                 "random": random_users(len(data.users), budget, srng)}
        if budget >= len(data.users):  # every user: the two selections are the same set
            picks = {"all": picks["random"]}
        for kind, chosen in picks.items():
            name = f"{kind} {budget} users"
            puma_run._migrate(b, saved["a"], data, chosen, cfg, gen, book, name, "b")
            out[name] = {**book.rows[name], "vs_retraining": paired_rmse_difference(
                book.predictions[name], retrain, data.test, cfg.bootstrap, cfg.seed)}
            print(json.dumps({name: out[name]}), flush=True)
    Path(args.output_dir).mkdir(parents=True, exist_ok=True)
    (Path(args.output_dir) / "sweep.json").write_text(json.dumps(out, indent=2))


def plot(args) -> None:
    """report.json -> a PNG: each method's test RMSE against its LM passes relative to retraining."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = json.loads(Path(args.report).read_text())
    rows = {k: v for k, v in report["rows"].items() if v["lm_passes"] > 0}
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for name, row in rows.items():
        marker = "o" if "random users" in name else ("s" if "K-means" in name else "^")
        ax.scatter(row["compute_vs_retraining"], row["rmse"], marker=marker)
        ax.annotate(name.replace(" (same budget)", ""), (row["compute_vs_retraining"], row["rmse"]), fontsize=6,
                    xytext=(4, 2), textcoords="offset points")
    for name, style in (("reference: user's mean rating", ":"), ("full retraining on B", "--")):
        if name in report["rows"]:
            ax.axhline(report["rows"][name]["rmse"], linestyle=style, color="grey", linewidth=0.8, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("LM passes / full retraining on B (log)")
    ax.set_ylabel("test RMSE")
    ax.set_title(f"PUMA on ML-100K: {report['users']} users, {report['test_ratings']} test ratings", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.png, dpi=120)
    print(f"wrote {args.png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("throughput", "pilot", "run", "sweep", "plot"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the shared CPU: 1).")
    parser.add_argument("--users", type=int, default=100, help="ML-100K users (seeded draw).")
    parser.add_argument("--train", type=int, default=8, help="Most recent training ratings per user (incl. validation).")
    parser.add_argument("--valid", type=int, default=2, help="Of those, the latest held out to choose epochs.")
    parser.add_argument("--test", type=int, default=10, help="Held-out later ratings per user (cap).")
    parser.add_argument("--epochs", type=int, default=10, help="Most stage-1 / retraining epochs.")
    parser.add_argument("--migrate-epochs", type=int, default=8, help="Most adapter epochs.")
    parser.add_argument("--patience", type=int, default=2, help="Epochs without a better validation RMSE.")
    parser.add_argument("--budget", type=int, default=20, help="Users the adapter trains on.")
    parser.add_argument("--clusters", type=int, default=4, help="K-means clusters over A's prompts.")
    parser.add_argument("--min-per-cluster", type=int, default=2, help="First-pass users per cluster.")
    parser.add_argument("--seeds", type=int, default=3, help="Selection seeds (group vs random).")
    parser.add_argument("--batch", type=int, default=16, help="Ratings per optimizer step.")
    parser.add_argument("--steps", type=int, default=6, help="throughput: steps per measured epoch.")
    parser.add_argument("--lr-prompt", type=float, default=5e-3, help="Learning rate of soft prompts.")
    parser.add_argument("--lr-adapter", type=float, default=1e-3, help="Learning rate of the adapter.")
    parser.add_argument("--lrs", default="0.005,0.02", help="pilot: prompt learning rates tried.")
    parser.add_argument("--seed", type=int, default=0, help="pilot: seed of the user draw.")
    parser.add_argument("--source-prompts", default="", help="prompts.pt of an earlier run (skip stage 1).")
    parser.add_argument("--output-dir", default="runs/bench/puma", help="Run folder.")
    parser.add_argument("--from-run", default="runs/bench/puma", help="sweep: the run whose prompts are reused.")
    parser.add_argument("--budgets", default="40,80", help="sweep: migration budgets (users).")
    parser.add_argument("--report", default="runs/bench/puma/report.json", help="plot: the run's report.json.")
    parser.add_argument("--png", default="examples/results/puma/puma.png", help="plot: the figure written.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    {"throughput": throughput, "pilot": pilot, "run": run, "sweep": sweep, "plot": plot}[args.mode](args)


if __name__ == "__main__":
    main()
