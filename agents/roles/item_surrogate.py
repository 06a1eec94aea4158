"""The surrogate item agent: template promotions from catalog facts (no LLM), same modes and memory rule.

- none: no promotion text;
- generic / grounded: the item's title, categories and year (catalog facts only);
- personalized: the same, plus the categories the item shares with the user's top three
  history categories (or, when none is shared, the user's favourite as a contrast).
The memory rewrite after every `buffer_size` served promotions records how often and how
the item was last promoted (`item_template_memory.jinja`). Each distinct (item, angle)
text is rendered once and cached, so 100k users cost one dictionary lookup per candidate.
"""

from __future__ import annotations

import numpy as np

from recagora.agents.prompts import render
from recagora.agents.roles.base import ItemFacts, ItemMemoryState, Promotions, UserCohort
from recagora.agents.roles.item_memory import (
    ItemAgentConfig,
    apply_rewrites,
    buffer_promotions,
    due_rewrites,
)
from recagora.agents.roles.persona import clip_words, item_facts_text, top_categories


class TemplateItemAgent:
    """No LLM: template self-promotions over catalog facts (a fast, deterministic item agent)."""

    name = "surrogate"

    def __init__(self, facts: ItemFacts, config: ItemAgentConfig | None = None) -> None:
        self.facts = facts
        self.config = config or ItemAgentConfig()
        self._texts: dict[tuple[int, tuple[str, ...], tuple[str, ...]], str] = {}
        self._by_likes: dict[tuple[int, tuple[str, ...]], str] = {}

    def init_state(self) -> ItemMemoryState:
        """Every item starts from its catalog facts (no stored memory)."""
        return ItemMemoryState()

    async def promote(
        self, state: ItemMemoryState, cohort: UserCohort, idx: np.ndarray, candidates: np.ndarray
    ) -> Promotions:
        """(m, K) promotion texts; all "" in mode none."""
        if self.config.mode == "none":
            return Promotions.empty(candidates.shape)
        personal = self.config.mode == "personalized"
        favourites = top_categories(cohort, idx, self.facts) if personal else [[] for _ in idx]
        texts = [
            [self._text(item, tuple(likes)) for item in row]
            for row, likes in zip(candidates.tolist(), favourites, strict=True)
        ]
        return Promotions(
            texts=texts,
            events=[
                {
                    "role": "item",
                    "impl": self.name,
                    "kind": "promote",
                    "users": len(idx),
                    "mode": self.config.mode,
                }
            ],
        )

    def _text(self, item: int, likes: tuple[str, ...]) -> str:
        known = self._by_likes.get((item, likes))
        if known is None:
            known = self._by_likes[(item, likes)] = self._render(item, likes)
        return known

    def _render(self, item: int, likes: tuple[str, ...]) -> str:
        categories = self.facts.catalog[item].categories
        shared = tuple(c for c in likes if c in categories)
        key = (item, shared, () if shared else likes[:1])  # one contrast genre: few distinct texts
        if key not in self._texts:
            entry = self.facts.catalog[item]
            text = render(
                "item_template",
                mode=self.config.mode,
                title=entry.title,
                categories=list(categories),
                year=str(entry.attributes.get("release_year", "")),
                shared=list(shared),
                liked=list(key[2]),
            )
            self._texts[key] = clip_words(text, self.config.max_words)
        return self._texts[key]

    async def update_memory(
        self,
        state: ItemMemoryState,
        cohort: UserCohort,
        idx: np.ndarray,
        candidates: np.ndarray,
        promotions: Promotions,
    ) -> tuple[ItemMemoryState, list[dict]]:
        """Buffer this round's promotions; rewrite the memory of items with a full buffer."""
        state = buffer_promotions(state, cohort, idx, candidates, promotions)
        due = due_rewrites(state, self.config.buffer_size)
        new = {item: self._rewrite(state, item, entries) for item, entries in due.items()}
        events = [
            {
                "role": "item",
                "impl": self.name,
                "kind": "memory_rewrite",
                "item": item,
                "entries": len(due[item]),
            }
            for item in due
        ]
        return apply_rewrites(state, due, new), events

    def _rewrite(
        self, state: ItemMemoryState, item: int, entries: tuple[tuple[str, str], ...]
    ) -> str:
        count = state.rewrites.get(item, 0) * self.config.buffer_size + len(entries)
        facts = item_facts_text(self.facts.catalog[item])
        text = render("item_template_memory", facts=facts, count=count, last=entries[-1][1])
        return clip_words(text, self.config.max_words)
