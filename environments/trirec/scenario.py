"""The registered TriRec scenario (`recagora run trirec`)."""

from __future__ import annotations

from recagora.environments.scenario import NodeContract, ScenarioSpec
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.graph import build_trirec_graph
from recagora.environments.trirec.prepare import prepare_trirec
from recagora.environments.trirec.state import TrirecState

TRIREC = ScenarioSpec(
    name="trirec",
    version="trirec-v0",
    description="Tri-party recommendation (Gong et al. 2026): item self-promotion, user scoring, fair re-ranking, over rounds.",
    config_cls=TrirecConfig,
    build_graph=build_trirec_graph,
    prepare=prepare_trirec,
    state_schema=TrirecState,
    nodes={
        "begin_round": NodeContract(
            reads=("round", "cohort"), writes=("active", "usage_at_round_start", "events")
        ),
        "candidates": NodeContract(reads=("round", "cohort", "active"), writes=("candidates",)),
        "promotions": NodeContract(
            reads=("items", "cohort", "active", "candidates"), writes=("promotions", "events")
        ),
        "scoring": NodeContract(
            reads=("cohort", "active", "candidates", "promotions"), writes=("scores", "events")
        ),
        "rerank": NodeContract(
            reads=("exposure", "cohort", "active", "candidates", "scores"),
            writes=("slates", "order", "exposure", "item_exposure", "events"),
        ),
        "response": NodeContract(
            reads=("round", "cohort", "active", "slates", "order", "promotions"),
            writes=("responses", "events"),
        ),
        "memory": NodeContract(
            reads=(
                "round",
                "cohort",
                "items",
                "active",
                "slates",
                "responses",
                "candidates",
                "promotions",
            ),
            writes=("cohort", "items", "left", "events"),
        ),
        "record_round": NodeContract(
            reads=(
                "round",
                "events",
                "active",
                "slates",
                "candidates",
                "scores",
                "cohort",
                "item_exposure",
                "responses",
                "left",
            ),
            writes=("round", "done"),
        ),
    },
)
