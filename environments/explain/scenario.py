"""The registered `explain` scenario (`recagora run explain`): the utility of explanations.

Each round every user still missing their held-out (leave-one-out) item is shown it among
`shown - 1` popularity-sampled negatives; the explainer (none | restate | template | llm |
seller) attaches one text per shown item; the user decides on the same slate without and
with the texts (common random numbers). Metrics: the change in choosing the held-out item
(hit, and for users with utilities also top-1 and the model's probability) and in
acceptance (choosing anything), explanations minus none.
"""

from __future__ import annotations

from recagora.environments.explain.config import ExplainConfig
from recagora.environments.explain.graph import ExplainState, build_explain_graph
from recagora.environments.explain.prepare import prepare_explain
from recagora.environments.scenario import MetricSpec, NodeContract, ScenarioSpec


def _arms(name: str, title: str, plot_gain: bool = True) -> tuple[MetricSpec, ...]:
    return (
        MetricSpec(f"{name}_without", f"{title}, without explanations"),
        MetricSpec(f"{name}_with", f"{title}, with explanations"),
        MetricSpec(f"{name}_gain", f"{title}: with minus without", plot=plot_gain),
    )


METRICS = (
    MetricSpec("active_users", "Users still missing their held-out item", sweep=False),
    *_arms("hit", "Share choosing their held-out item"),
    *_arms("accept", "Share choosing any item (acceptance)"),
    *_arms("top1", "Held-out item perceived best"),
    *_arms("p_hit", "P(choose the held-out item)", plot_gain=False),
    *_arms("p_accept", "P(accept)", plot_gain=False),
    MetricSpec("explained_share", "Share of shown items with an explanation", sweep=False),
)

EXPLAIN = ScenarioSpec(
    name="explain",
    version="explain-v0",
    description="Utility of explanations (issue 16): held-out choice and acceptance without vs with an explainer's texts.",
    config_cls=ExplainConfig,
    build_graph=build_explain_graph,
    prepare=prepare_explain,
    state_schema=ExplainState,
    nodes={
        "show": NodeContract(reads=("round", "cohort"), writes=("active", "slates", "events")),
        "explain": NodeContract(
            reads=("round", "cohort", "active", "slates"), writes=("explanations", "events")
        ),
        "decide": NodeContract(
            reads=("round", "cohort", "active", "slates", "explanations", "events"),
            writes=("cohort", "round", "done"),
        ),
    },
    metrics=METRICS,
)
