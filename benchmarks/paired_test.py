"""Exact McNemar test of two policies evaluated on the same samples, from their saved outcomes.

`recagora evaluate RUN --max-samples N --seed S` writes RUN/eval_test.json and, beside
it, RUN/eval_test_samples.csv (each sample's hit rank). This script pairs two such files
row by row (same users and targets required), counts the hits at k both share and the
hits only one of them has, and runs the exact McNemar test: a two-sided binomial test
of "only A" among the discordant samples with p = 0.5. Run:

    .venv/bin/python benchmarks/paired_test.py runs/eval-long/sft-800/eval_test_samples.csv \\
        runs/eval-long/flower-800/eval_test_samples.csv --k 10
    .venv/bin/python benchmarks/paired_test.py --counts 2 9   # from discordant counts alone
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from recagora.training.evaluation import read_samples


@dataclass(frozen=True)
class Paired:
    """Hit counts at k of two policies on the same n samples, and the exact McNemar p."""

    n: int
    hits_a: int
    hits_b: int
    both: int
    only_a: int
    only_b: int
    p_value: float


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (1.0 when there are none)."""
    discordant = only_a + only_b
    if discordant == 0:
        return 1.0
    return float(binomtest(only_a, discordant, 0.5, alternative="two-sided").pvalue)


def pair_hits(hits_a: np.ndarray, hits_b: np.ndarray) -> Paired:
    """Paired counts of two (n,) bool hit vectors."""
    only_a, only_b = int((hits_a & ~hits_b).sum()), int((hits_b & ~hits_a).sum())
    return Paired(
        n=len(hits_a),
        hits_a=int(hits_a.sum()),
        hits_b=int(hits_b.sum()),
        both=int((hits_a & hits_b).sum()),
        only_a=only_a,
        only_b=only_b,
        p_value=mcnemar_exact(only_a, only_b),
    )


def paired_from_files(path_a: str, path_b: str, k: int) -> Paired:
    """Pair two `<report>_samples.csv` files; refuses files of different samples."""
    a, b = read_samples(path_a), read_samples(path_b)
    same = len(a["user"]) == len(b["user"]) and (a["user"] == b["user"]).all()
    if not same or not (a["target"] == b["target"]).all():
        sys.exit(f"error: {path_a} and {path_b} hold different samples; evaluate both alike")
    hit = lambda s: (s["hit_rank"] >= 1) & (s["hit_rank"] <= k)  # noqa: E731
    return pair_hits(hit(a), hit(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="*", help="Two <report>_samples.csv files: A then B.")
    parser.add_argument("--k", type=int, default=10, help="Cut-off: a hit is a rank <= k.")
    parser.add_argument(
        "--counts", type=int, nargs=2, metavar=("ONLY_A", "ONLY_B"), help="Discordant counts."
    )
    args = parser.parse_args()
    if args.counts:
        print(f"only A {args.counts[0]}, only B {args.counts[1]}: exact McNemar p = "
              f"{mcnemar_exact(*args.counts):.4f}")  # fmt: skip
        return
    if len(args.samples) != 2:
        sys.exit("error: give two sample files (or --counts ONLY_A ONLY_B)")
    r = paired_from_files(*args.samples, args.k)
    print(
        f"n {r.n}: HR@{args.k} hits A {r.hits_a}, B {r.hits_b}; both {r.both}, only A {r.only_a}, "
        f"only B {r.only_b}; exact McNemar p = {r.p_value:.4f}"
    )


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
