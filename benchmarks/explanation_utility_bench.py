"""Utility of explanations (issue 16 part 3): the `explain` scenario once per explainer, same users.

Every arm plays the same seeded cohort and slates; the user (learned by default) decides
each slate without and with the arm's explanations on common random numbers, so the
gain is the explanations' effect alone. Prints one row per explainer: held-out-item hit
rate and acceptance without / with / gain (with a paired 95% interval over users), and
the perceived top-1 and probability gains; writes the table and sample texts as JSON.

    .venv/bin/python benchmarks/explanation_utility_bench.py --users 300 \\
        --explainers none,restate,template,seller,llm --seller-run runs/train/seller
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import numpy as np


def play(config, extras: dict) -> tuple[list[dict], list[dict], object]:
    """(metrics rows, events, the episode's context: its user and explainer) of one in-memory episode."""
    from recagora.environments.registry import get_scenario
    from recagora.environments.scenario import MemorySink, RunServices

    spec, sink = get_scenario("explain"), MemorySink()
    episode = spec.prepare(config, RunServices(sink=sink, extras=extras))
    try:
        graph = spec.build_graph().compile()
        asyncio.run(graph.ainvoke(episode.initial_state, {"recursion_limit": 1000}, context=episode.context))
    finally:
        episode.close()
    return sink.metrics_rows(), sink.all_events(), episode.context


def paired(events: list[dict], key: str) -> tuple[float, float]:
    """Mean and 95% half-width of the per-decision difference (with - without) of `key`."""
    rows = [e for e in events if e["kind"] == "decision"]
    if key == "hit":
        diff = [(e["chosen_with"] == e["target"]) - (e["chosen_without"] == e["target"]) for e in rows]
    else:
        diff = [(e["chosen_with"] >= 0) - (e["chosen_without"] >= 0) for e in rows]
    diff = np.asarray(diff, np.float64)
    return float(diff.mean()), float(1.96 * diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0


def summary(name: str, rows: list[dict], events: list[dict], seconds: float) -> dict:
    first = rows[0]
    out = {"explainer": name, "users": int(first["active_users"]), "seconds": round(seconds, 1)}
    for key in ("hit", "accept", "top1", "p_hit", "p_accept"):
        for arm in ("without", "with", "gain"):
            if f"{key}_{arm}" in first:
                out[f"{key}_{arm}"] = round(first[f"{key}_{arm}"], 4)
    for key in ("hit", "accept"):
        mean, half = paired([e for e in events if e.get("round") == 0], key)
        out[f"{key}_gain_ci95"] = round(half, 4)
    out["samples"] = [
        {"target": e["target"], "items": e["item"][:3], "texts": e["text"][:3]}
        for e in events if e["kind"] == "explanations"
    ][:3]
    return out


def table(results: list[dict]) -> str:
    head = "| user | explainer | hit without | hit with | hit gain (95% CI) | accept without | accept with | accept gain (95% CI) | top-1 gain | P(hit) gain | P(accept) gain | s |"
    lines = [head, "|---" * 12 + "|"]
    for r in results:
        lines.append(
            f"| {r['user']} | {r['explainer']} | {r['hit_without']:.4f} | {r['hit_with']:.4f} | {r['hit_gain']:+.4f} ± {r['hit_gain_ci95']:.4f} "
            f"| {r['accept_without']:.4f} | {r['accept_with']:.4f} | {r['accept_gain']:+.4f} ± {r['accept_gain_ci95']:.4f} "
            f"| {r.get('top1_gain', float('nan')):+.4f} | {r.get('p_hit_gain', float('nan')):+.4f} "
            f"| {r.get('p_accept_gain', float('nan')):+.4f} | {r['seconds']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--users", type=int, default=300, help="Real users (seeded), the same in every arm.")
    parser.add_argument("--explainers", default="none,restate,template", help="Comma-separated explainers.")
    parser.add_argument("--user", default="learned", help="User agents, comma-separated: learned, surrogate, llm.")
    parser.add_argument("--weight", type=float, default=0.3, help="explanation_weight (rho_e).")
    parser.add_argument("--shown", type=int, default=5, help="Items shown per user.")
    parser.add_argument("--seller-run", default="", help="SELLER run folder (explainer seller).")
    parser.add_argument("--llm", default="llamacpp:smollm2", help="LLM spec (explainer llm).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="", help="JSON file for the results.")
    args = parser.parse_args()
    from recagora.environments.explain.config import ExplainConfig

    fitted, results = {}, []  # user kind -> its agent, fitted once for every arm
    for name in args.explainers.split(","):
        explainer = None  # one explainer per name: its cached texts serve every user kind
        for kind in args.user.split(","):
            config = ExplainConfig(
                dataset=args.dataset, users=args.users, rounds=1, shown=args.shown, seed=args.seed,
                agents=f"user={kind},explainer={name}", explanation_weight=args.weight,
                seller_run=args.seller_run, llm=args.llm,
            )
            start = time.perf_counter()
            extras = {"user": fitted.get(kind), "explainer": explainer}
            rows, events, context = play(config, extras)
            if kind != "llm":
                fitted[kind] = context.user
            explainer = context.explainer
            results.append({"user": kind} | summary(name, rows, events, time.perf_counter() - start))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "samples"}), flush=True)
    print(table(results))
    if args.output:
        Path(args.output).write_text(json.dumps({"args": vars(args), "results": results}, indent=2))


if __name__ == "__main__":
    main()
