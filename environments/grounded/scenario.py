"""The registered grounded-reasoning scenario (`recagora run grounded`)."""

from __future__ import annotations

from recagora.environments.grounded.config import GroundedConfig
from recagora.environments.grounded.graph import build_grounded_graph
from recagora.environments.grounded.prepare import prepare_grounded
from recagora.environments.grounded.state import GroundedState
from recagora.environments.scenario import NodeContract, ScenarioSpec

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
    # MGFRec's analysis: the search space narrows round by round.
    round_plots=(
        ("target_rank_median", "Median rank of the held-out item in the grounded list"),
        ("ungrounded_distance", "Query's distance to its nearest real item"),
        ("ungrounded_rate", "Ungrounded reply rate"),
    ),
)
