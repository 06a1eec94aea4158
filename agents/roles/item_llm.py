"""The LLM item agent (TriRec, Gong et al., arXiv 2603.10673, stage 1): personalised self-promotion.

Each (user, candidate) pair is one request, and a round's pairs go out as ONE concurrent
batch. The item sees its title, its memory (the catalog facts until first rewritten) and
the audience: the user's memory (personalized, grounded) or a fixed "general audience"
(generic); mode none makes no call and shows each candidate's own catalog facts instead
of an ad (TriRec's none arm). In grounded mode the only facts
allowed are the catalog fields, and claims beyond them are forbidden
(`item_promote.jinja`). Ads are cut to `max_words`; an invalid reply counts and shows no ad.
Memory: buffered rewrite after every `buffer_size` served promotions (`item_memory.py`).
"""

from __future__ import annotations

import numpy as np

from recagora.agents.llm.contract import LLMClient, LLMRequest
from recagora.agents.prompts import render
from recagora.agents.roles.base import ItemFacts, ItemMemoryState, Promotions, UserCohort
from recagora.agents.roles.item_memory import (
    GENERIC_AUDIENCE,
    ItemAgentConfig,
    apply_rewrites,
    buffer_promotions,
    due_rewrites,
    facts_promotions,
)
from recagora.agents.roles.persona import clip_words, item_facts_text
from recagora.agents.roles.replies import MemoryReply, PromotionReply


class LLMItemAgent:
    """An LLM copywriter per item; `llm` is the run's client."""

    name = "llm"

    def __init__(
        self, facts: ItemFacts, llm: LLMClient, config: ItemAgentConfig | None = None
    ) -> None:
        self.facts, self.llm = facts, llm
        self.config = config or ItemAgentConfig()

    def init_state(self) -> ItemMemoryState:
        """Every item starts from its catalog facts."""
        return ItemMemoryState()

    def memory_of(self, state: ItemMemoryState, item: int) -> str:
        """The item's current memory: its last accepted rewrite, else its catalog facts."""
        return state.memories.get(item) or item_facts_text(self.facts.catalog[item])

    def _request(self, prompt: str, tag: str) -> LLMRequest:
        system = render("item_system", domain=self.config.domain or "items")
        return LLMRequest(
            messages=({"role": "system", "content": system}, {"role": "user", "content": prompt}),
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            tag=tag,
        )

    def _promote_prompt(self, state: ItemMemoryState, item: int, user_memory: str) -> str:
        audience = GENERIC_AUDIENCE if self.config.mode == "generic" else user_memory
        return render(
            "item_promote",
            mode=self.config.mode,
            title=self.facts.catalog[item].title,
            memory=self.memory_of(state, item),
            facts=item_facts_text(self.facts.catalog[item]),
            audience=audience,
            max_words=self.config.max_words,
        )

    async def promote(
        self, state: ItemMemoryState, cohort: UserCohort, idx: np.ndarray, candidates: np.ndarray
    ) -> Promotions:
        """(m, K) ads, one batch for the whole cohort; in mode none the catalog facts, no call."""
        if self.config.mode == "none":
            return facts_promotions(self.facts, candidates, self.config.max_words)
        pairs = [
            (u, item)
            for u, row in zip(idx.tolist(), candidates.tolist(), strict=True)
            for item in row
        ]
        requests = [
            self._request(
                self._promote_prompt(state, item, cohort.memories[u]), "item_agent.promote"
            )
            for u, item in pairs
        ]
        results = await self.llm.structured_batch(requests, PromotionReply)
        flat = [
            clip_words(r.value.promotion, self.config.max_words) if r.ok else "" for r in results
        ]
        k = candidates.shape[1]
        texts = [flat[r * k : (r + 1) * k] for r in range(len(idx))]
        event = {
            "role": "item",
            "impl": self.name,
            "kind": "promote",
            "mode": self.config.mode,
            "requests": len(results),
            "invalid_replies": sum(not r.ok for r in results),
            "clipped": sum(
                r.ok and len(r.value.promotion.split()) > self.config.max_words for r in results
            ),
            "tokens": sum(r.prompt_tokens + r.completion_tokens for r in results),
            "cached": sum(r.cached for r in results),
        }
        return Promotions.from_texts(texts, [event])

    async def update_memory(
        self,
        state: ItemMemoryState,
        cohort: UserCohort,
        idx: np.ndarray,
        candidates: np.ndarray,
        promotions: Promotions,
    ) -> tuple[ItemMemoryState, list[dict]]:
        """Buffer served ads; one batched rewrite for every item with a full buffer."""
        if self.config.mode == "none":  # the facts shown are no ad: nothing to fold in
            return state, []
        state = buffer_promotions(state, cohort, idx, candidates, promotions)
        due = due_rewrites(state, self.config.buffer_size)
        if not due:
            return state, []
        items = list(due)
        requests = [
            self._request(self._memory_prompt(state, item, due[item]), "item_agent.memory")
            for item in items
        ]
        results = await self.llm.structured_batch(requests, MemoryReply)
        new, events = {}, []
        for item, result in zip(items, results, strict=True):
            text = result.value.memory.strip() if result.ok else ""
            accepted = 0 < len(text.split()) <= self.config.max_memory_words
            new[item] = text if accepted else None
            events.append(
                {
                    "role": "item",
                    "impl": self.name,
                    "kind": "memory_rewrite",
                    "item": item,
                    "entries": len(due[item]),
                    "accepted": accepted,
                    "invalid_reply": not result.ok,
                    "call_id": result.call_id,
                }
            )
        return apply_rewrites(state, due, new), events

    def _memory_prompt(
        self, state: ItemMemoryState, item: int, entries: tuple[tuple[str, str], ...]
    ) -> str:
        shown = [
            {"audience": a, "promotion": p} for a, p in entries[-self.config.max_entries_shown :]
        ]
        return render(
            "item_memory",
            memory=self.memory_of(state, item),
            entries=shown,
            max_words=self.config.max_words,
        )
