"""A TriRec episode with its cohort split into shards, merged at every round boundary.

Layout: S shards of contiguous cohort positions (`shard_bounds`). Shard s is played by
one `ShardWorker`, which holds its users between rounds and runs, for them only, the
episode's own nodes: candidates, promotions, scoring, re-ranking, response and the
users' reflection (`nodes.reflect_users`). Its random streams are its own: shard s's
generator for (round, stage) derives from `SeedSequence(seed).spawn(S)[s]`, never
shared with another shard (a sharded run therefore differs from the unsharded one, and
runs with different S differ from each other).

What is global is merged at the round boundary, in shard order, by the driver:
- the re-ranker's group exposure: every shard starts the round from the same snapshot
  (the merged exposure at the round's start) and advances it by its own blocks of
  `platform.trirec.users_per_step` users; the merged exposure is the snapshot plus the
  sum of the shards' increments. This is the block approximation of `users_per_step`
  one level up: within a round a shard does not see the other shards' placements.
  With S = 1 the round equals the unsharded one re-ranked in the same blocks.
- the per-item exposure (from the merged slates), the item agents' memories (folded
  once over every shard's promotions, in cohort order), the round's metrics (the
  unsharded `record_round` over the merged arrays) and its events (stage by stage,
  shards in order within a stage).

Executors: `LocalShards` plays the workers one after another in this process;
`shards_ray.RayShards` holds one Ray actor per worker. Both run the same `ShardWorker`
code on their own copy of the run's roles, so for one seed and S they give the same
events and metrics. Checkpoints: the runner's per-round checkpoint holds the merged
state (the full cohort gathered from the shards); a resume re-splits it and reloads the
workers, so a killed sharded run resumes at the round it lost, with the same layout.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from recagora.agents.roles.base import ExposureState, Promotions, Responses, Scores
from recagora.environments.round_graph import round_node
from recagora.environments.trirec import nodes
from recagora.environments.trirec.cohort import cohort_slice, concat_cohorts
from recagora.environments.trirec.metrics import slate_exposure
from recagora.environments.trirec.state import TrirecState

# A shard's round: the episode's nodes from candidates to the users' reflection.
SHARD_PIPELINE = (
    ("candidates", nodes.generate_candidates),
    ("promotions", nodes.promote_items),
    ("scoring", nodes.score_candidates),
    ("rerank", nodes.rerank),
    ("response", nodes.respond),
    ("memory", nodes.reflect_users),
)
STAGES = ("promotion", "score", "rerank", "response", "memory")  # the events' stage order


def shard_bounds(n_users: int, shards: int) -> list[tuple[int, int]]:
    """[(start, stop)] of S contiguous shards whose sizes differ by at most one user."""
    edges = [n_users * s // shards for s in range(shards + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def shard_seed(seed: int, shard: int, shards: int) -> np.random.SeedSequence:
    """Shard `shard`'s root seed: the shard-th child of `SeedSequence(seed)` (of S)."""
    return np.random.SeedSequence(seed).spawn(shards)[shard]


@dataclass(frozen=True)
class ShardRound:
    """One shard's round. Arrays are aligned with `active` (GLOBAL cohort positions)."""

    active: np.ndarray
    update: dict[str, Any]  # the shard pipeline's merged update (see SHARD_PIPELINE)


class ShardWorker:
    """Plays the users `start..stop-1` of the cohort, round after round.

    Args:
        setup: the run's `TrirecContext` (roles, catalog, targets of the whole cohort);
            the worker keeps its own copy, so shards never share an agent's caches.
    """

    def __init__(self, setup: nodes.TrirecContext, shard: int, shards: int, bounds: tuple):
        self.start, self.stop = bounds
        self.seed = shard_seed(setup.config.seed, shard, shards)
        self.context = replace(
            setup, targets=setup.targets[self.start : self.stop], rng_for=self.rng, sink=None
        )
        self.cohort = None
        self._play = round_node(TrirecState, SHARD_PIPELINE)

    def rng(self, round_index: int, stage: str) -> np.random.Generator:
        """This shard's generator of one (round, stage)."""
        key = (*self.seed.spawn_key, round_index, zlib.crc32(stage.encode()))
        return np.random.default_rng(np.random.SeedSequence(self.seed.entropy, spawn_key=key))

    def load(self, users: Any) -> None:
        """Take this shard's users (`cohort_slice` of the merged cohort: a fresh run or a resume)."""
        self.cohort = users

    async def play(self, round_index: int, exposure: ExposureState, items: Any) -> ShardRound:
        """One round for this shard's active users, from the round-start exposure snapshot."""
        active = self.cohort.active_indices()
        state = {"round": round_index, "cohort": self.cohort, "items": items}
        state.update(exposure=exposure, active=active, events=[])
        if len(active):
            update = await self._play(state, _Runtime(self.context))
        else:  # everyone in this shard left: nothing to play
            update = _idle_update(self.cohort, exposure, self.context.config.platform.n_candidates)
        self.cohort = update["cohort"]
        return ShardRound(active + self.start, update)


@dataclass(frozen=True)
class _Runtime:
    """What the nodes read from LangGraph's `Runtime`: the context."""

    context: nodes.TrirecContext


def _idle_update(cohort: Any, exposure: ExposureState, k: int) -> dict[str, Any]:
    empty = np.zeros((0, k), np.int64)
    return {
        "candidates": empty,
        "promotions": Promotions.empty((0, k)),
        "scores": Scores(np.zeros((0, k)), np.zeros(0, bool), []),
        "slates": empty,
        "order": empty,
        "exposure": exposure,
        "responses": Responses(np.zeros(0, np.int64), np.zeros(0)),
        "left": np.zeros(0, bool),
        "cohort": cohort,
        "events": [],
    }


class LocalShards:
    """The shard workers in this process, played one after another in shard order."""

    def __init__(self, setup: nodes.TrirecContext, shards: int) -> None:
        bounds = shard_bounds(len(setup.targets), shards)
        self.bounds, self.synced_round = bounds, None  # the round the workers' users are at
        self.workers = [
            ShardWorker(copy.deepcopy(setup), s, shards, b) for s, b in enumerate(bounds)
        ]

    async def load(self, cohort: Any) -> None:
        for worker, (start, stop) in zip(self.workers, self.bounds, strict=True):
            worker.load(cohort_slice(cohort, start, stop))

    async def play(self, round_index: int, exposure: ExposureState, items: Any) -> list:
        return [await w.play(round_index, exposure, items) for w in self.workers]

    def close(self) -> None:
        self.workers = []


def start_pool(ctx: nodes.TrirecContext) -> Any:
    """The executor `ctx.config.execution` names, over a copy of the run's roles."""
    execution = ctx.config.execution
    setup = replace(ctx, sink=None, llm=None, shard_pool=None)
    if execution.executor == "ray":
        from recagora.environments.trirec.shards_ray import RayShards

        return RayShards(setup, execution)
    return LocalShards(setup, execution.shards)


async def play_sharded_round(state: TrirecState, runtime: Any) -> dict[str, Any]:
    """One round of a sharded episode (the round node of the runner's graph; see module doc)."""
    ctx = runtime.context
    try:
        return await _sharded_round(state, runtime, ctx)
    except BaseException:
        close_pool(ctx)
        raise


async def _sharded_round(state: TrirecState, runtime: Any, ctx: nodes.TrirecContext) -> dict:
    if ctx.shard_pool is None:
        ctx.shard_pool = start_pool(ctx)
    pool, r = ctx.shard_pool, state["round"]
    if pool.synced_round != r:  # a fresh run or a resume: the workers take the merged cohort
        await pool.load(state["cohort"])
    begin = nodes.begin_round(state, runtime)
    parts = await pool.play(r, state["exposure"], state["items"])
    pool.synced_round = r + 1
    merged = merge_rounds(parts, state["exposure"], len(ctx.catalog))
    items, item_events = await ctx.item.update_memory(
        state["items"],
        state["cohort"],
        merged["active"],
        merged["candidates"],
        merged["promotions"],
    )
    events = [*begin["events"], *merged.pop("events"), *nodes._stamp(item_events, r, "memory")]
    view = {**state, **begin, **merged, "items": items, "events": events}
    view["item_exposure"] = state["item_exposure"] + merged["item_exposure"]
    closing = nodes.record_round(view, runtime)
    if closing["done"]:
        close_pool(ctx)
    return {**begin, **merged, "items": items, "events": events, **closing}


def close_pool(ctx: nodes.TrirecContext) -> None:
    """Stop the episode's shard workers (Ray actors are killed)."""
    if ctx.shard_pool is not None:
        ctx.shard_pool.close()
        ctx.shard_pool = None


def merge_rounds(parts: list[ShardRound], start: ExposureState, n_items: int) -> dict:
    """The shards' rounds as one: arrays concatenated in shard (= cohort) order, the
    exposure as the snapshot plus every shard's increment, events stage by stage."""
    updates = [part.update for part in parts]
    slates = np.concatenate([u["slates"] for u in updates])
    return {
        "active": np.concatenate([part.active for part in parts]),
        "candidates": np.concatenate([u["candidates"] for u in updates]),
        "promotions": merge_promotions([u["promotions"] for u in updates]),
        "scores": _merge_scores([u["scores"] for u in updates]),
        "slates": slates,
        "order": np.concatenate([u["order"] for u in updates]),
        "exposure": merge_exposure(start, [u["exposure"] for u in updates]),
        "item_exposure": slate_exposure(slates, n_items),
        "responses": _merge_responses([u["responses"] for u in updates]),
        "left": np.concatenate([u["left"] for u in updates]),
        "cohort": concat_cohorts([u["cohort"] for u in updates]),
        "events": _events_by_stage([u["events"] for u in updates]),
    }


def merge_exposure(start: ExposureState, after: list[ExposureState]) -> ExposureState:
    """The round-start snapshot plus each shard's increment, added in shard order."""
    weight, total = start.group_weight.copy(), start.total
    for shard in after:
        weight = weight + (shard.group_weight - start.group_weight)
        total = total + (shard.total - start.total)
    return ExposureState(weight, total)


def merge_promotions(parts: list[Promotions]) -> Promotions:
    """One table of the texts the shards used (first use first) and ids re-pointed into it."""
    rows: dict[str, int] = {"": 0}
    ids = []
    for part in parts:
        used = np.unique(part.ids)
        remap = np.zeros(len(part.table), np.int32)
        remap[used] = [rows.setdefault(part.table[i], len(rows)) for i in used.tolist()]
        ids.append(remap[part.ids])
    width = parts[0].ids.shape[1] if parts else 0
    joined = np.concatenate(ids) if ids else np.zeros((0, width), np.int32)
    return Promotions(tuple(rows), joined.astype(np.int32))


def _merge_scores(parts: list[Scores]) -> Scores:
    reasons = [reason for part in parts for reason in part.reasons]
    return Scores(
        np.concatenate([np.asarray(p.scores) for p in parts]),
        np.concatenate([np.asarray(p.complete, bool) for p in parts]),
        reasons,
    )


def _merge_responses(parts: list[Responses]) -> Responses:
    return Responses(
        np.concatenate([np.asarray(p.chosen, np.int64) for p in parts]),
        np.concatenate([np.asarray(p.round_satisfaction, np.float64) for p in parts]),
    )


def _events_by_stage(parts: list[list[dict]]) -> list[dict]:
    """Every shard's events, stage by stage (TriRec's order), shards in order within one."""
    buckets: dict[str, list[dict]] = {stage: [] for stage in STAGES}
    others: list[dict] = []  # a stage no shard step names (none today): kept, last
    for events in parts:
        for event in events:
            buckets.get(event.get("stage"), others).append(event)
    return [event for stage in STAGES for event in buckets[stage]] + others
