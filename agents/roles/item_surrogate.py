"""The surrogate item agent: template promotions from catalog facts (no LLM), same modes and memory rule.

- none: no ad; each candidate shows its own catalog facts (TriRec's none arm);
- generic / grounded: the item's title, categories and year (catalog facts only);
- personalized: the same, plus the categories the item shares with the user's top three
  history categories (or, when none is shared, the user's favourite as a contrast).
The memory rewrite after every `buffer_size` served promotions records how often and how
the item was last promoted (`item_template_memory.jinja`). Each (user, candidate) pair is
reduced to an integer "angle code" in numpy and each distinct code is rendered once, so a
100k-user round costs one `np.unique`, not a million string lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recagora.agents.prompts import render
from recagora.agents.roles.base import ItemFacts, ItemMemoryState, Promotions, UserCohort
from recagora.agents.roles.item_memory import (
    ItemAgentConfig,
    audience_of,
    buffer_promotions,
    facts_promotions,
)
from recagora.agents.roles.persona import clip_words, item_facts_text, top_category_indices

# A personalised promotion speaks to the user's three most frequent history categories.
FAVOURITES = 3


class TemplateItemAgent:
    """No LLM: template self-promotions over catalog facts (a fast, deterministic item agent)."""

    name = "surrogate"

    def __init__(self, facts: ItemFacts, config: ItemAgentConfig | None = None) -> None:
        self.facts = facts
        self.config = config or ItemAgentConfig()
        self._table: list[str] = [""]  # every text rendered so far; row 0 = no promotion
        self._rows: dict[int, int] = {}  # angle code (see `_angle_codes`) -> table row

    def init_state(self) -> ItemMemoryState:
        """Every item starts from its catalog facts (no stored memory)."""
        return ItemMemoryState()

    async def promote(
        self, state: ItemMemoryState, cohort: UserCohort, idx: np.ndarray, candidates: np.ndarray
    ) -> Promotions:
        """(m, K) promotions; in mode none each candidate's own catalog facts."""
        if self.config.mode == "none":
            return facts_promotions(self.facts, candidates, self.config.max_words)
        codes = self._angle_codes(candidates, self._favourites(cohort, idx))
        unique, inverse = np.unique(codes, return_inverse=True)
        rows = np.array([self._table_row(code) for code in unique.tolist()], np.int32)
        event = {
            "role": "item",
            "impl": self.name,
            "kind": "promote",
            "users": len(idx),
            "mode": self.config.mode,
        }
        return Promotions(tuple(self._table), rows[inverse].reshape(codes.shape), [event])

    def _favourites(self, cohort: UserCohort, idx: np.ndarray) -> np.ndarray:
        """(m, L) label index of each user's top three history categories, -1 = none (L = 0
        unless personalised)."""
        if self.config.mode != "personalized":
            return np.zeros((len(idx), 0), np.int64)
        return top_category_indices(cohort.category_counts[idx], FAVOURITES)

    def _angle_codes(self, candidates: np.ndarray, likes: np.ndarray) -> np.ndarray:
        """(m, K) int64 code of (item, liked labels the item shares, contrast label).

        Digits in base C + 1 (0 = none): the item, then the shared labels in the user's
        order (zero-padded to FAVOURITES), then the favourite label as a contrast when none
        is shared. Equal codes <=> equal texts.
        """
        base = len(self.facts.category_labels) + 1
        shared = np.zeros((*candidates.shape, likes.shape[1]), bool)
        if likes.shape[1]:
            member = self.facts.categories[candidates[:, :, None], np.maximum(likes, 0)[:, None]]
            shared = (member > 0) & (likes[:, None, :] >= 0)
        digits = np.where(shared, likes[:, None, :] + 1, 0)
        digits = np.take_along_axis(digits, np.argsort(digits == 0, axis=2, kind="stable"), 2)
        code = candidates.astype(np.int64)
        for slot in range(FAVOURITES):  # shared labels first, in the user's order
            code = code * base + (digits[..., slot] if slot < digits.shape[2] else 0)
        contrast = likes[:, :1] + 1 if likes.shape[1] else np.zeros((len(likes), 1), np.int64)
        return code * base + np.where(shared.any(axis=2), 0, contrast)

    def _table_row(self, code: int) -> int:
        """The table row of an angle code's text, rendering it the first time."""
        row = self._rows.get(code)
        if row is None:
            row = self._rows[code] = len(self._table)
            self._table.append(self._render(code))
        return row

    def _render(self, code: int) -> str:
        base, labels = len(self.facts.category_labels) + 1, self.facts.category_labels
        digits = []
        for _ in range(FAVOURITES + 1):
            code, digit = divmod(code, base)
            digits.append(digit)
        contrast, shared = digits[0], [labels[d - 1] for d in reversed(digits[1:]) if d]
        entry = self.facts.catalog[code]
        text = render(
            "item_template",
            mode=self.config.mode,
            title=entry.title,
            categories=list(entry.categories),
            year=str(entry.attributes.get("release_year", "")),
            shared=shared,
            liked=[labels[contrast - 1]] if contrast else [],
        )
        return clip_words(text, self.config.max_words)

    async def update_memory(
        self,
        state: ItemMemoryState,
        cohort: UserCohort,
        idx: np.ndarray,
        candidates: np.ndarray,
        promotions: Promotions,
    ) -> tuple[ItemMemoryState, list[dict]]:
        """Buffer this round's promotions; rewrite the memory of items with a full buffer.

        The same state and events as `buffer_promotions` + `due_rewrites` +
        `apply_rewrites`, without building the round's million (audience, ad) entries: a
        template rewrite reads only how many entries it folds in and the last one's ad, so
        only the entries left buffered afterwards are materialised (< buffer_size per item).
        """
        if self.config.mode == "none":  # the facts shown are no promotion: nothing to fold in
            return state, []
        size = self.config.buffer_size
        if size <= 0:  # never rewritten: every entry stays buffered
            return buffer_promotions(state, cohort, idx, candidates, promotions), []
        served = _served_by_item(candidates, promotions)
        full = {item for item, entries in state.buffers.items() if len(entries) >= size}
        buffers, memories, rewrites = dict(state.buffers), dict(state.memories), dict(state.rewrites)
        audience = _Audiences(cohort, idx)
        events = []
        for item in sorted(served.keys() | full):
            old, (rows, texts) = buffers.get(item, ()), served.get(item, _NOTHING)
            used = (len(old) + len(rows)) // size * size
            entry = _Entries(old, rows, texts, promotions.table, audience)
            rest = entry.slice(used, len(old) + len(rows))
            if used:
                count = rewrites.get(item, 0) * size + used
                memories[item] = self._rewrite(item, count, entry.ad(used - 1))
                rewrites[item] = rewrites.get(item, 0) + 1
                events.append(
                    {
                        "role": "item",
                        "impl": self.name,
                        "kind": "memory_rewrite",
                        "item": item,
                        "entries": used,
                    }
                )
            if rest:
                buffers[item] = rest
            else:
                buffers.pop(item, None)
        return ItemMemoryState(memories=memories, buffers=buffers, rewrites=rewrites), events

    def _rewrite(self, item: int, count: int, last: str) -> str:
        """The template memory after `count` served promotions, the last being `last`."""
        facts = item_facts_text(self.facts.catalog[item])
        text = render("item_template_memory", facts=facts, count=count, last=last)
        return clip_words(text, self.config.max_words)


_NOTHING = (np.zeros(0, np.int64), np.zeros(0, np.int64))


def _served_by_item(
    candidates: np.ndarray, promotions: Promotions
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """item -> (rows, ad table rows) of its non-empty promotions this round, in user order
    (then candidate column), the order `buffer_promotions` buffers them in."""
    rows, cols = np.nonzero(promotions.ids)  # row-major: user order, then column
    items = candidates[rows, cols]
    by_item = np.argsort(items, kind="stable")
    items, rows, texts = items[by_item], rows[by_item], promotions.ids[rows, cols][by_item]
    starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]]) if len(items) else []
    stops = [*starts[1:], len(items)]
    return {
        int(items[a]): (rows[a:b], texts[a:b]) for a, b in zip(starts, stops, strict=True)
    }


class _Audiences:
    """TriRec's audience label per row of `idx`, rendered on first use."""

    def __init__(self, cohort: UserCohort, idx: np.ndarray) -> None:
        self.cohort, self.idx, self.labels = cohort, idx, {}

    def __call__(self, row: int) -> str:
        if row not in self.labels:
            self.labels[row] = audience_of(self.cohort.memories[int(self.idx[row])])
        return self.labels[row]


@dataclass(frozen=True)
class _Entries:
    """One item's buffered entries followed by this round's, materialised on demand."""

    old: tuple[tuple[str, str], ...]
    rows: np.ndarray
    texts: np.ndarray
    table: tuple[str, ...]
    audience: _Audiences

    def ad(self, position: int) -> str:
        if position < len(self.old):
            return self.old[position][1]
        return self.table[int(self.texts[position - len(self.old)])]

    def slice(self, start: int, stop: int) -> tuple[tuple[str, str], ...]:
        kept = list(self.old[start:stop])
        for position in range(max(start, len(self.old)), stop):
            row = int(self.rows[position - len(self.old)])
            kept.append((self.audience(row), self.ad(position)))
        return tuple(kept)
