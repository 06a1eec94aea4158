"""Fairness-accuracy trade-off of TriRec's re-ranking: sweep alpha_max from 0.1 to 1.0.

alpha_max is the participation of relevance at the top position (Gong et al. 2026,
Stage 2; the paper sweeps 0.1..1.0 in steps of 0.1): low values let the exposure-
fairness gains (DGU/MGU toward the training exposure distribution) drive the ranking,
high values let the user agent's relevance scores drive it. Each value is one run of
the same cohort (same seed); the plot puts DGU (x, lower is fairer) against NDCG@10.

    .venv/bin/python examples/trirec_alpha_sweep.py                   # surrogate agents, fast
    .venv/bin/python examples/trirec_alpha_sweep.py --agents user=surrogate,item=llm --users 6
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.runner.config import load_config
from recagora.experiments.runner.outputs import plot_tradeoff
from recagora.experiments.runner.sweep import run_arms


def main() -> None:
    parser = argparse.ArgumentParser(description="TriRec alpha_max fairness sweep")
    parser.add_argument("--llm", default="llamacpp:smollm2", help="LLM spec for the LLM roles.")
    parser.add_argument(
        "--agents", default="user=learned,item=surrogate", help="Implementation per role (user=learned: the default user)."
    )
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--alphas", type=float, nargs="+", default=[round(a, 1) for a in np.arange(0.1, 1.01, 0.1)]
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        help="Extra config override, key=value.",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/alpha-sweep"))
    args = parser.parse_args()

    flags = {
        "llm": args.llm,
        "agents": args.agents,
        "users": args.users,
        "rounds": args.rounds,
        "seed": args.seed,
    }
    base = load_config(TrirecConfig, None, flags, args.overrides)
    arms = {f"{alpha:g}": [f"platform.trirec.alpha_max={alpha}"] for alpha in args.alphas}
    result = run_arms(base, arms, args.out, label="alpha_max")
    table = result.table.assign(alpha_max=result.table["alpha_max"].astype(float))
    plot = plot_tradeoff(
        table,
        "dgu",
        "ndcg@10",
        "alpha_max",
        args.out / "fairness_accuracy_tradeoff.png",
        "TriRec: DGU vs NDCG@10 over alpha_max",
    )
    print(result.table_md.read_text())
    print(f"table: {result.table_csv}  plot: {plot}")


if __name__ == "__main__":
    main()
