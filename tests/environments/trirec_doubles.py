"""Deterministic role doubles for testing the TriRec GRAPH in isolation from agent quality.

They implement the agents' role protocols with the real shared helpers
(`append_consumed`, `update_patience`) and plain cosine maths, so the scenario's
wiring, state, checkpointing and event log are tested without an LLM. The real
agents are tested in tests/agents/ and end-to-end in test_trirec_agents.py.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from recagora.agents.roles.base import (
    ItemFacts,
    ItemMemoryState,
    Promotions,
    Responses,
    Scores,
    UserCohort,
    append_consumed,
)
from recagora.agents.roles.platform import TriRecPlatform
from recagora.agents.roles.satisfaction import PatienceConfig, update_patience
from recagora.environments.trirec.prepare import Roles, World


class InjectedKill(RuntimeError):
    """Stands for the process dying in the middle of a node."""


class CosineUser:
    """Scores = 10 * (cos + 1) / 2 to one decimal; consumes the top item with probability = its score / 10."""

    name = "cosine-double"

    def __init__(self, facts: ItemFacts, fail_on_call: int | None = None) -> None:
        self.facts = facts
        self.fail_on_call = fail_on_call  # raise inside `respond` on this (1-based) call
        self.respond_calls = 0

    async def score(self, cohort: UserCohort, idx, candidates, promotions) -> Scores:
        cosine = np.einsum("md,mkd->mk", cohort.taste_vectors(idx), self.facts.vectors[candidates])
        scores = np.round(10 * (cosine + 1) / 2, 1)
        events = [
            {"role": "user", "kind": "score", "user": cohort.keys[u], "score": row}
            for u, row in zip(idx.tolist(), scores.tolist(), strict=True)
        ]
        return Scores(
            scores=scores, complete=np.ones(len(idx), bool), reasons=[""] * len(idx), events=events
        )

    async def respond(self, cohort, idx, slates, promotions, rng) -> Responses:
        self.respond_calls += 1
        if self.respond_calls == self.fail_on_call:
            raise InjectedKill(f"injected kill in respond call {self.respond_calls}")
        top = slates[:, 0]
        cosine = np.einsum("md,md->m", cohort.taste_vectors(idx), self.facts.vectors[top])
        quality = (cosine + 1) / 2
        chosen = np.where(rng.random(len(idx)) < quality, top, -1)
        events = [
            {"role": "user", "kind": "consume", "user": cohort.keys[u], "chosen": int(c)}
            for u, c in zip(idx.tolist(), chosen.tolist(), strict=True)
        ]
        return Responses(chosen=chosen, round_satisfaction=quality, events=events)

    async def reflect(self, cohort, idx, slates, responses, rng):
        consumed = [[int(c)] if c >= 0 else [] for c in responses.chosen.tolist()]
        cohort = append_consumed(cohort, self.facts, idx, consumed)
        cohort, left = update_patience(cohort, idx, responses, PatienceConfig(), rng)
        events = [
            {"role": "user", "kind": "leave", "user": cohort.keys[u]}
            for u, gone in zip(idx.tolist(), left.tolist(), strict=True)
            if gone
        ]
        return cohort, events


class TitleItem:
    """Promotion = "<title>, for you" (or "" in mode none); memory = count of buffered promotions."""

    name = "title-double"

    def __init__(self, facts: ItemFacts, mode: str = "personalized") -> None:
        self.facts, self.mode = facts, mode

    def init_state(self) -> ItemMemoryState:
        return ItemMemoryState()

    async def promote(self, state, cohort, idx, candidates) -> Promotions:
        texts = [
            ["" if self.mode == "none" else f"{self.facts.catalog[i].title}, for you" for i in row]
            for row in candidates.tolist()
        ]
        return Promotions.from_texts(
            texts, [{"role": "item", "kind": "promote", "n": int(candidates.size)}]
        )

    async def update_memory(self, state, cohort, idx, candidates, promotions):
        buffers = dict(state.buffers)
        for row in candidates.tolist():
            for item in row:
                buffers[item] = (*buffers.get(item, ()), ("audience", "promo"))
        return replace(state, buffers=buffers), []


def double_roles(fail_on_call: int | None = None):
    """A roles factory for `prepare_trirec` using the doubles and the REAL TriRec platform."""

    def build(world: World) -> Roles:
        user = CosineUser(world.facts, fail_on_call)
        memories = tuple(
            f"I like items like {h[-1] if h else 'anything'}" for h in world.draw.histories
        )
        return Roles(
            user=user,
            item=TitleItem(world.facts),
            platform=TriRecPlatform(world.facts),
            memories=memories,
        )

    return build
