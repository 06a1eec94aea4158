"""The registered grounded-reasoning scenario (`recagora run grounded`)."""

from __future__ import annotations

from recagora.environments.grounded.config import GroundedConfig
from recagora.environments.grounded.graph import build_grounded_graph
from recagora.environments.grounded.prepare import prepare_grounded
from recagora.environments.grounded.state import GroundedState
from recagora.environments.scenario import MetricSpec, NodeContract, ScenarioSpec

# Columns of `metrics.round_metrics`; final_* and shortlist_* arrive in the last round.
# Plotted: MGFRec's analysis, the search space narrows round by round.
METRICS = (
    MetricSpec("active_users", "Users still searching", sweep=False),
    MetricSpec("answered", "Users who answered this round", sweep=False),
    MetricSpec("hr@10", "HR@10 of the grounded list"),
    MetricSpec("ndcg@10", "NDCG@10 of the grounded list"),
    MetricSpec("target_rank_mean", "Mean rank of the held-out item for the query"),
    MetricSpec(
        "target_rank_median",
        "Median rank of the held-out item in the grounded list",
        plot=True,
    ),
    MetricSpec("ungrounded_distance", "Query's distance to its nearest real item", plot=True),
    MetricSpec("ungrounded_rate", "Ungrounded reply rate", plot=True),
    MetricSpec("liked_share", "Share of grounded items the critic liked"),
    MetricSpec("reply_failures", "Failed reasoner replies", sweep=False),
    MetricSpec("feedback_failures", "Failed critic replies", sweep=False),
    MetricSpec("final_hr@10", "HR@10 of the answers"),
    MetricSpec("final_ndcg@10", "NDCG@10 of the answers"),
    MetricSpec("shortlist_ndcg@10", "NDCG@10 of the initial shortlist"),
    MetricSpec("mean_answer_round", "Mean round of the answers"),
)

GROUNDED = ScenarioSpec(
    name="grounded",
    version="grounded-v0",
    description="Grounded reasoning loop (Cai et al. 2026, MGFRec): think, name an item, ground it, user feedback, answer.",
    config_cls=GroundedConfig,
    build_graph=build_grounded_graph,
    prepare=prepare_grounded,
    state_schema=GroundedState,
    nodes={
        "begin_round": NodeContract(reads=("round", "open"), writes=("active", "events")),
        "reason": NodeContract(reads=("round", "active", "transcripts"), writes=("moves",)),
        "ground": NodeContract(
            reads=("active", "moves"), writes=("grounded", "best_scores", "target_ranks")
        ),
        "feedback": NodeContract(reads=("active", "moves", "grounded"), writes=("feedback",)),
        "record_round": NodeContract(
            reads=(
                "round",
                "active",
                "moves",
                "grounded",
                "best_scores",
                "target_ranks",
                "feedback",
                "transcripts",
                "open",
                "final_lists",
                "final_round",
                "events",
            ),
            writes=("transcripts", "open", "final_lists", "final_round", "round", "done"),
        ),  # fmt: skip
    },
    metrics=METRICS,
)
