"""Run the PaperEval scenario on ICLR 2017 (or any OpenReview export): judge papers day by day, publish a top-k feed.

    python examples/papereval_feed.py --papers 100 --llm llamacpp:smollm2          # LLM judge + retrieval
    python examples/papereval_feed.py --papers 100 --set evaluator.retrieval=false # ablation
    python examples/papereval_feed.py --agents evaluator=scorer --set scorer_path=runs/papereval-scorer/listmle/scorer.pt
    python examples/papereval_feed.py --set corpus.submissions=ICLR18_submissions.csv      # another year, decisions only
    python examples/papereval_feed.py --set corpus.submissions=S.csv --set corpus.reviews=R.csv  # with ratings

Prints the overall ranking agreement with the labels (mean review rating, or accept/reject
without reviews: then also AUROC; NDCG@10/20 with gain 2^rel - 1, Spearman, Kendall) and
the feed's read/save rates; the run folder holds the rest.
"""

from __future__ import annotations

import argparse

from recagora.experiments.runner.config import load_config
from recagora.experiments.runner.outputs import metrics_frame
from recagora.experiments.runner.runner import load_scenario_config, start_run

OVERALL = ("overall_ndcg@10", "overall_ndcg@20", "overall_spearman", "overall_kendall", "overall_auroc", "overall_n")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--papers", type=int, default=100, help="Seeded subset of the papers (0 = all)."
    )
    parser.add_argument("--rounds", type=int, default=5, help="Days the papers are spread over.")
    parser.add_argument(
        "--agents", default="evaluator=llm,post_writer=template", help="Role implementations."
    )
    parser.add_argument("--llm", default="llamacpp:smollm2", help="LLM spec.")
    parser.add_argument("--seed", type=int, default=0, help="Root seed.")
    parser.add_argument(
        "--set", action="append", default=[], help="Extra config override key=value."
    )
    parser.add_argument("--runs-dir", default=None, help="Where run folders go.")
    args = parser.parse_args()
    flags = {"scenario": "papereval", "papers": args.papers, "rounds": args.rounds, "agents": args.agents,
             "llm": args.llm, "seed": args.seed}  # fmt: skip
    config = load_config(load_scenario_config("papereval"), None, flags, args.set)
    result = start_run(config, runs_dir=args.runs_dir)
    frame = metrics_frame(result.folder)
    print(
        frame[
            ["round", "papers", "ndcg@10", "spearman", "judge_failures", "read_rate", "save_rate"]
        ].to_string(index=False)
    )
    last = frame.iloc[-1]
    print("overall: " + ", ".join(f"{k}={last[k]:.4f}" for k in OVERALL if k in last))
    print(f"run folder: {result.folder.path}")


if __name__ == "__main__":
    main()
