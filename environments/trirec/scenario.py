"""The registered TriRec scenario (`recagora run trirec`)."""

from __future__ import annotations

from recagora.environments.scenario import MetricSpec, NodeContract, ScenarioSpec
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.graph import build_trirec_graph
from recagora.environments.trirec.prepare import prepare_trirec
from recagora.environments.trirec.state import TrirecState

# Columns of `metrics.round_metrics` plus the LLM usage deltas `record_round` adds.
METRICS = (
    MetricSpec("active_users", "Users playing the round", sweep=False),
    MetricSpec("ndcg@1", "NDCG@1 of the held-out item"),
    MetricSpec("ndcg@5", "NDCG@5 of the held-out item"),
    MetricSpec("ndcg@10", "NDCG@10 of the held-out item", plot=True),
    MetricSpec("mrr", "MRR of the held-out item"),
    MetricSpec("stage1_ndcg@5", "NDCG@5 of the user agent's own order"),
    MetricSpec("eiu@10", "Expected item utility of a slate (EIU@10)"),
    MetricSpec("item_utility", "Mean item utility (EIU per served item)", plot=True),
    MetricSpec("dgu", "DGU (TriRec, lower is fairer)", plot=True),
    MetricSpec("mgu", "MGU (TriRec, lower is fairer)"),
    MetricSpec("exposure_gini", "Exposure Gini (lower is more even)", plot=True),
    MetricSpec("coverage", "Catalog share exposed so far"),
    MetricSpec("satisfaction", "Mean user satisfaction"),
    MetricSpec("consumption_rate", "Share of users who consumed an item", sweep=False),
    MetricSpec("exit_rate", "Share of users who left"),
    MetricSpec("incomplete_score_rate", "Share of incomplete score replies", sweep=False),
    MetricSpec("prompt_tokens", "LLM prompt tokens"),
    MetricSpec("completion_tokens", "LLM completion tokens"),
    MetricSpec("llm_requests", "LLM requests", sweep=False),
    MetricSpec("llm_cached", "LLM replies from the cache", sweep=False),
    MetricSpec("llm_failures", "Failed LLM requests", sweep=False),
    MetricSpec("cost_usd", "LLM cost (USD)", sweep=False),
)

TRIREC = ScenarioSpec(
    name="trirec",
    version="trirec-v1",
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
    metrics=METRICS,
)
