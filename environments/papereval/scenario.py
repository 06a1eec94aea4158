"""The registered PaperEval scenario (`recagora run papereval`)."""

from __future__ import annotations

from recagora.environments.papereval.config import PaperEvalConfig
from recagora.environments.papereval.graph import build_papereval_graph
from recagora.environments.papereval.prepare import prepare_papereval
from recagora.environments.papereval.state import PaperEvalState
from recagora.environments.scenario import NodeContract, ScenarioSpec

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
)
