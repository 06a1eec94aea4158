"""The nodes of the TriRec episode graph; each handles the whole cohort of active users.

A node reads the state and the run-scoped `TrirecContext`, and returns only the keys
it changes (never mutating what it received). Randomness comes from
`stage_rng(seed, round, node)`, so a node re-run after a resume draws the same values.
The order follows TriRec (Gong et al. 2026, arXiv 2603.10673): candidates -> item
self-promotion -> user-agent scoring (Stage 1) -> platform re-ranking (Stage 2) ->
user response -> memory updates (Eq. 4), looped over rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from recagora.agents.roles.base import ItemAgent, PlatformAgent, UserAgent
from recagora.environments.scenario import RoundSink, stage_rng
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.metrics import round_metrics, slate_exposure
from recagora.environments.trirec.state import TrirecState
from recagora.item_space.types import Catalog


@dataclass
class TrirecContext:
    """Run-scoped, read-only dependencies of a TriRec episode (not checkpointed).

    targets: (n,) int64 held-out item per cohort user (leave-one-out test item).
    item_group: (N,) int64 TriRec popularity group per item; train_share: (G,) p_train.
    """

    config: TrirecConfig
    user: UserAgent
    item: ItemAgent
    platform: PlatformAgent
    catalog: Catalog
    targets: np.ndarray
    item_group: np.ndarray
    train_share: np.ndarray
    sink: RoundSink
    llm: Any = None
    # (cohort, idx, rng, targets=) -> (m, K) candidates; None = the platform's own retrieval.
    candidate_fn: Any = None
    # (round, stage) -> Generator; None = `stage_rng(config.seed, ...)`. A shard worker
    # sets its own (environments/trirec/shards.py): shards never share a stream.
    rng_for: Any = None
    # The shard workers of a sharded episode, started at its first round (shards.py).
    shard_pool: Any = None

    def rng(self, round_index: int, stage: str) -> np.random.Generator:
        """The generator of one (round, stage) of this episode (or of this shard)."""
        if self.rng_for is not None:
            return self.rng_for(round_index, stage)
        return stage_rng(self.config.seed, round_index, stage)


Ctx = Runtime[TrirecContext]


def begin_round(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """Fix this round's active users and open its event list."""
    active = state["cohort"].active_indices()
    event = {"kind": "round_start", "round": state["round"], "active_users": int(len(active))}
    return {
        "active": active,
        "usage_at_round_start": _ledger_counts(runtime.context),
        "events": [event],
    }


def generate_candidates(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """Platform candidate generation; the held-out item joins while the user has not consumed it."""
    ctx, idx = runtime.context, state["active"]
    targets = _open_targets(state["cohort"], ctx.targets, idx)
    rng = ctx.rng(state["round"], "candidates")
    generate = ctx.candidate_fn or ctx.platform.candidates
    candidates = generate(state["cohort"], idx, rng, targets=targets)
    return {"candidates": np.asarray(candidates, dtype=np.int64)}


async def promote_items(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """Item agents write their (mode-dependent) self-promotions for every (user, candidate)."""
    ctx = runtime.context
    # A failing LLM backend raises a RunPaused from the LLM layer itself (per batch).
    promotions = await ctx.item.promote(
        state["items"], state["cohort"], state["active"], state["candidates"]
    )
    events = promotions.events + _ad_events(ctx, state, promotions)
    return {"promotions": promotions, "events": _stamp(events, state["round"], "promotion")}


def _ad_events(ctx: TrirecContext, state: TrirecState, promotions: Any) -> list[dict]:
    """One event per user: the candidates' titles and the ads they came with (for replay)."""
    if not ctx.config.log_promotions:
        return []
    keys, titles = state["cohort"].keys, ctx.catalog.titles
    return [
        {
            "kind": "ads",
            "user": keys[u],
            "item": row,
            "text": [f"{titles[i]}: {ad}" for i, ad in zip(row, promotions.row(r), strict=True)],
        }
        for r, (u, row) in enumerate(
            zip(state["active"].tolist(), state["candidates"].tolist(), strict=True)
        )
        if promotions.ids[r].any()
    ]


async def score_candidates(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """User agents score every candidate 0-10 (TriRec Stage 1)."""
    ctx = runtime.context
    scores = await ctx.user.score(
        state["cohort"], state["active"], state["candidates"], state["promotions"]
    )
    return {"scores": scores, "events": _stamp(scores.events, state["round"], "score")}


def rerank(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """Platform's sequential multi-objective re-ranking (TriRec Stage 2); exposure carries over."""
    ctx = runtime.context
    result = ctx.platform.rerank(
        state["exposure"], state["cohort"], state["active"], state["candidates"], state["scores"]
    )
    slates = np.asarray(result.slates, dtype=np.int64)
    return {
        "slates": slates,
        "order": np.asarray(result.order, dtype=np.int64),
        "exposure": result.exposure,
        "item_exposure": slate_exposure(slates, len(ctx.catalog)),
        "events": _stamp(result.events, state["round"], "rerank"),
    }


async def respond(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """Users look at their slate and consume (or not) one item."""
    ctx = runtime.context
    rng = ctx.rng(state["round"], "respond")
    shown = state["promotions"].take(state["order"])  # ads aligned with the re-ranked slates
    responses = await ctx.user.respond(
        state["cohort"], state["active"], state["slates"], shown, rng
    )
    return {"responses": responses, "events": _stamp(responses.events, state["round"], "response")}


async def update_memories(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """Users reflect (satisfaction, patience, memory); items fold served promotions into memory."""
    ctx, idx = runtime.context, state["active"]
    cohort, left, user_events = await _reflect(state, ctx)
    items, item_events = await ctx.item.update_memory(
        state["items"], state["cohort"], idx, state["candidates"], state["promotions"]
    )
    events = _stamp([*user_events, *item_events], state["round"], "memory")
    return {"cohort": cohort, "items": items, "left": left, "events": events}


async def reflect_users(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """The users' half of `update_memories` (a shard's step: item memories are global and
    are folded once, over every shard's promotions, at the round boundary)."""
    cohort, left, user_events = await _reflect(state, runtime.context)
    return {"cohort": cohort, "left": left, "events": _stamp(user_events, state["round"], "memory")}


async def _reflect(state: TrirecState, ctx: TrirecContext) -> tuple[Any, np.ndarray, list[dict]]:
    """(cohort after reflection, (m,) bool who left, the users' events)."""
    idx, rng = state["active"], ctx.rng(state["round"], "reflect")
    cohort, events = await ctx.user.reflect(
        state["cohort"], idx, state["slates"], state["responses"], rng
    )
    return cohort, state["cohort"].active[idx] & ~cohort.active[idx], events


def record_round(state: TrirecState, runtime: Ctx) -> dict[str, Any]:
    """Compute the round's metrics and hand events + metrics to the sink (idempotent per round)."""
    ctx, r = runtime.context, state["round"]
    metrics = _metrics(state, ctx) | _usage_delta(state, ctx)
    closing = {"kind": "round_metrics_ready", "round": r}
    ctx.sink.write_round(r, [*state["events"], closing], metrics)
    finished = r + 1 >= ctx.config.rounds or not state["cohort"].active.any()
    return {"round": r + 1, "done": finished}


def next_step(state: TrirecState) -> str:
    """Router after `record_round`: another round, or the end of the episode."""
    return "end" if state["done"] else "next_round"


# ---- private helpers -------------------------------------------------------------


def _open_targets(cohort: Any, targets: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(m,) held-out item per active user, -1 once the user has consumed it in the run."""
    open_targets = targets[idx].copy()
    for row, user in enumerate(idx.tolist()):
        if open_targets[row] in cohort.histories[user]:
            open_targets[row] = -1
    return open_targets


def _metrics(state: TrirecState, ctx: TrirecContext) -> dict[str, float]:
    idx = state["active"]
    return round_metrics(
        slates=state["slates"],
        candidates=state["candidates"],
        stage1_scores=np.asarray(state["scores"].scores),
        targets=ctx.targets[idx],
        user_vectors=state["cohort"].taste_vectors(idx),
        item_vectors=ctx.catalog.vectors,
        item_group=ctx.item_group,
        train_share=ctx.train_share,
        cumulative_exposure=state["item_exposure"],
        chosen=np.asarray(state["responses"].chosen, dtype=np.int64),
        round_satisfaction=np.asarray(state["responses"].round_satisfaction, dtype=np.float64),
        left=state["left"],
        complete_scores=np.asarray(state["scores"].complete, dtype=bool),
    )


def _stamp(events: list[dict], round_index: int, stage: str) -> list[dict]:
    """Every event carries its round and stage (the event log groups and replays by them)."""
    return [{"round": round_index, "stage": stage, **event} for event in events]


def _ledger_counts(ctx: TrirecContext) -> dict[str, float]:
    if ctx.llm is None or not hasattr(ctx.llm, "ledger_summary"):
        return {}
    summary = ctx.llm.ledger_summary()
    counts = {
        key: float(summary.get(key) or 0)
        for key in ("requests", "cache_hits", "prompt_tokens", "completion_tokens")
    }
    counts["failed_requests"] = float(summary.get("failed_requests", 0))
    counts["cost_usd"] = float(summary.get("cost_usd") or 0.0)
    return counts


def _usage_delta(state: TrirecState, ctx: TrirecContext) -> dict[str, float]:
    """This round's LLM counters. A resumed process continues the run's ledger when the
    client has a ledger_path; without one its ledger restarts at 0, hence the clamp."""
    now, start = _ledger_counts(ctx), state.get("usage_at_round_start") or {}
    if not now:
        return {}
    delta = {key: now[key] - start.get(key, 0.0) for key in now}
    if any(value < 0 for value in delta.values()):
        delta = {key: now[key] for key in delta}
    return {
        "llm_requests": delta["requests"],
        "llm_cached": delta["cache_hits"],
        "prompt_tokens": delta["prompt_tokens"],
        "completion_tokens": delta["completion_tokens"],
        "llm_failures": delta["failed_requests"],
        "cost_usd": delta["cost_usd"],
    }
