"""The registered PaperEval scenario (`recagora run papereval`)."""

from __future__ import annotations

from recagora.environments.papereval.config import PaperEvalConfig
from recagora.environments.papereval.graph import build_papereval_graph
from recagora.environments.papereval.prepare import prepare_papereval
from recagora.environments.papereval.state import PaperEvalState
from recagora.environments.scenario import MetricSpec, NodeContract, ScenarioSpec

# Columns of `nodes._day_metrics`; overall_* arrive on the last day (all judged papers).
METRICS = (
    MetricSpec("papers", "Papers judged this day", sweep=False),
    MetricSpec("ndcg@10", "NDCG@10 of the day's papers by judge score", plot=True),
    MetricSpec("ndcg@20", "NDCG@20 of the day's papers by judge score"),
    MetricSpec("spearman", "Spearman of judge score and label"),
    MetricSpec("kendall", "Kendall of judge score and label"),
    MetricSpec("auroc", "AUROC of judge score for accept/reject labels"),
    MetricSpec("published_quality", "Mean label of the published papers"),
    MetricSpec("day_quality", "Mean label of the day's papers"),
    MetricSpec("read_rate", "Subscribers' read rate"),
    MetricSpec("save_rate", "Subscribers' save rate"),
    MetricSpec("references_per_paper", "Concurrent papers retrieved per paper"),
    MetricSpec("no_reference_rate", "Share of papers with no concurrent work", sweep=False),
    MetricSpec("judge_failures", "Failed judge replies", sweep=False),
    MetricSpec("keyphrase_failures", "Failed keyphrase replies", sweep=False),
    MetricSpec("post_failures", "Failed post replies", sweep=False),
    MetricSpec("overall_ndcg@10", "NDCG@10 over every judged paper"),
    MetricSpec("overall_spearman", "Spearman over every judged paper"),
    MetricSpec("overall_kendall", "Kendall over every judged paper"),
    MetricSpec("overall_auroc", "AUROC over every judged paper"),
)

PAPEREVAL = ScenarioSpec(
    name="papereval",
    version="papereval-v0",
    description="Paper evaluation (Zheng et al. 2026, PaperEval): keyphrase retrieval of concurrent work, judge, daily top-k feed.",
    config_cls=PaperEvalConfig,
    build_graph=build_papereval_graph,
    prepare=prepare_papereval,
    state_schema=PaperEvalState,
    nodes={
        "begin_day": NodeContract(reads=("round",), writes=("day_papers", "events")),
        "retrieve": NodeContract(
            reads=("day_papers",), writes=("keyphrases", "references", "counters")
        ),
        "evaluate": NodeContract(
            reads=("round", "day_papers", "keyphrases", "references", "all_scores"),
            writes=("scores", "justifications", "judge_failed", "all_scores", "events"),
        ),
        "publish": NodeContract(
            reads=("round", "day_papers", "scores", "justifications", "counters"),
            writes=("published", "reactions", "counters", "events"),
        ),
        "record_day": NodeContract(
            reads=(
                "round",
                "day_papers",
                "scores",
                "references",
                "judge_failed",
                "published",
                "reactions",
                "all_scores",
                "counters",
                "events",
            ),
            writes=("round", "done"),
        ),  # fmt: skip
    },
    metrics=METRICS,
)
