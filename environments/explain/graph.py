"""State, nodes and graph of one `explain` round.

    show (held-out item + popularity-sampled negatives, shuffled) -> explain (one text per
    shown item) -> decide (the user decides twice on the same slate: without and with the
    explanations; the explained choice is consumed; the round is recorded)
        --(rounds left and users still missing their held-out item)--> show

Both decisions draw from one generator seeded alike (`stage_rng(seed, round, "decide")`),
so examination and Gumbel noise are common to them: any difference between the two
choices is the explanations' doing (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime

from recagora.agents.roles.base import ItemFacts, Promotions, UserCohort, append_consumed
from recagora.environments.explain.metrics import decision_metrics, perceived_metrics
from recagora.environments.reducers import RoundEvents
from recagora.environments.round_graph import build_round_cycle
from recagora.environments.scenario import RoundSink, stage_rng
from recagora.environments.trirec.candidates import popularity_candidates


class ExplainState(TypedDict, total=False):
    """What the checkpoint holds between nodes."""

    round: int
    """0-based round being played."""
    cohort: UserCohort
    """The users: histories (training + consumed), running sums."""
    active: np.ndarray
    """(m,) int64 cohort rows still missing their held-out item."""
    slates: np.ndarray
    """(m, k) int64 items shown this round (the held-out item among them), in shown order."""
    explanations: Promotions
    """One text per shown item ("" = none), aligned with `slates`."""
    events: RoundEvents
    """Events of the current round (earlier rounds are on disk)."""
    done: bool
    """True after the last round or once every user chose their held-out item."""


@dataclass
class ExplainContext:
    """Run-scoped, not checkpointed: rebuilt by `prepare` on resume."""

    config: Any
    user: Any
    explainer: Any
    facts: ItemFacts
    targets: np.ndarray  # (n,) held-out item per cohort row
    sources: tuple[str, ...]  # the real user behind each row (explainers' cache key)
    popularity: np.ndarray  # (N,) training interactions per item
    sink: RoundSink


Ctx = Runtime[ExplainContext]


def show(state: ExplainState, runtime: Ctx) -> dict[str, Any]:
    """Each user still missing their held-out item sees it among `shown - 1` negatives."""
    ctx, r, cohort = runtime.context, state["round"], state["cohort"]
    active = np.asarray(
        [u for u in range(len(cohort)) if int(ctx.targets[u]) not in cohort.histories[u]], np.int64
    )
    histories = [cohort.histories[u] for u in active.tolist()]
    rng = stage_rng(ctx.config.seed, r, "show")
    slates = popularity_candidates(ctx.popularity, histories, ctx.targets[active], ctx.config.shown, rng)
    event = {"kind": "round_start", "round": r, "active_users": int(len(active))}
    return {"active": active, "slates": slates, "events": [event]}


async def explain(state: ExplainState, runtime: Ctx) -> dict[str, Any]:
    """The explainer writes one text per shown item."""
    ctx, idx, slates = runtime.context, state["active"], state["slates"]
    users = [ctx.sources[u] for u in idx.tolist()]
    texts = await ctx.explainer.explain(users, [state["cohort"].histories[u] for u in idx.tolist()], slates)
    explanations = Promotions.from_texts(texts) if len(texts) else Promotions.empty(slates.shape)
    titles = ctx.facts.catalog.titles
    logged = [
        {"kind": "explanations", "round": state["round"], "user": state["cohort"].keys[u],
         "target": titles[int(ctx.targets[u])], "item": [titles[i] for i in slates[r].tolist()],
         "text": explanations.row(r)}
        for r, u in enumerate(idx.tolist()[: ctx.config.log_explanations])
    ]
    return {"explanations": explanations, "events": logged}


async def decide(state: ExplainState, runtime: Ctx) -> dict[str, Any]:
    """The user decides without, then with, the explanations; the explained choice is consumed."""
    ctx, r, idx, slates = runtime.context, state["round"], state["active"], state["slates"]
    cohort, explained = state["cohort"], state["explanations"]
    plain = Promotions.empty(slates.shape)
    seed = ctx.config.seed
    without = await ctx.user.respond(cohort, idx, slates, plain, stage_rng(seed, r, "decide"))
    with_text = await ctx.user.respond(cohort, idx, slates, explained, stage_rng(seed, r, "decide"))
    targets = ctx.targets[idx]
    metrics = decision_metrics(slates, targets, without.chosen, with_text.chosen, explained)
    if hasattr(ctx.user, "utilities"):  # a user that cannot read: its perceived utilities
        metrics |= perceived_metrics(ctx.user, cohort, idx, slates, targets, plain, explained)
    took = with_text.chosen >= 0
    after = append_consumed(cohort, ctx.facts, idx[took], with_text.chosen[took, None].tolist())
    events = [
        {"kind": "decision", "round": r, "user": cohort.keys[u], "target": int(t),
         "chosen_without": int(a), "chosen_with": int(b)}
        for u, t, a, b in zip(idx.tolist(), targets.tolist(), without.chosen.tolist(),
                              with_text.chosen.tolist(), strict=True)
    ]
    ctx.sink.write_round(r, [*state["events"], *events], metrics)
    missing = any(int(ctx.targets[u]) not in after.histories[u] for u in idx.tolist())
    return {"cohort": after, "round": r + 1, "done": r + 1 >= ctx.config.rounds or not missing}


def next_step(state: ExplainState) -> str:
    return "end" if state["done"] else "next_round"


def build_explain_graph() -> StateGraph:
    """The uncompiled graph: show -> explain -> decide, closed into a cycle."""
    pipeline = (("show", show), ("explain", explain), ("decide", decide))
    return build_round_cycle(ExplainState, ExplainContext, pipeline, next_step)
