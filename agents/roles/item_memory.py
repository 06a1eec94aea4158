"""What every item agent shares: the promotion modes, the config, and the buffered memory write-back.

Mode none is TriRec's no-promotion arm: no ad is written and the user sees each
candidate's raw item memory instead (the paper's `PROMO_MODE=none` shows the memory text
in the ad slot). With nothing promoted nothing is buffered, so that memory stays the
catalog facts (`facts_promotions`).

TriRec (Gong et al., arXiv 2603.10673, stage 1, "Eq. 4"): after serving a user, each
promoted candidate buffers (audience, promotion), the audience being "users whose profile
indicates: " + the first 25 words of the user's memory; once `buffer_size` (3) entries
are buffered, one rewrite folds them into the item's memory. The rewrite never sees
rankings or ground truth. Cohort batching: at each memory step an item with n >= 3
buffered entries is rewritten ONCE from its floor(n / 3) * 3 oldest entries (the prompt
shows the most recent `max_entries_shown` of them); the remainder stays buffered.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from recagora.agents.roles.base import ItemFacts, ItemMemoryState, Promotions, UserCohort
from recagora.agents.roles.persona import clip_words, item_facts_text
from recagora.item_space.errors import ConfigError, did_you_mean

PromotionMode = Literal["none", "generic", "personalized", "grounded"]
PROMOTION_MODES: tuple[str, ...] = ("none", "generic", "personalized", "grounded")
GENERIC_AUDIENCE = "a general audience with no stated preferences"
AUDIENCE_WORDS = 25


@dataclass(frozen=True)
class ItemAgentConfig:
    """How item agents promote themselves and keep their memory."""

    mode: str = field(
        default="personalized",
        metadata={
            "help": "none | generic | personalized | grounded (TriRec's PROMO_MODE arms); none shows each item's own catalog facts instead of an ad."
        },
    )
    max_words: int = field(
        default=50, metadata={"help": "Longest promotion, in words (longer replies are cut)."}
    )
    buffer_size: int = field(
        default=3,
        metadata={
            "help": "Served promotions buffered before one memory rewrite (paper: 3); 0 = never rewrite."
        },
    )
    max_memory_words: int = field(
        default=80,
        metadata={"help": "A rewritten memory longer than this is rejected (paper: 80)."},
    )
    max_entries_shown: int = field(
        default=6, metadata={"help": "Buffered entries shown in one rewrite prompt (most recent)."}
    )
    domain: str = field(
        default="",
        metadata={
            "help": "What the catalog holds, as the prompts name it; empty = the scenario's domain (or 'items')."
        },
    )
    temperature: float = field(
        default=0.7, metadata={"help": "LLM sampling temperature (paper: 0.7)."}
    )
    max_tokens: int = field(
        default=160, metadata={"help": "LLM reply budget per promotion or rewrite, in tokens."}
    )

    def __post_init__(self) -> None:
        if self.mode not in PROMOTION_MODES:
            raise ConfigError(
                f"unknown promotion mode {self.mode!r}{did_you_mean(self.mode, PROMOTION_MODES)}; "
                f"use one of {', '.join(PROMOTION_MODES)}"
            )


def facts_promotions(facts: ItemFacts, candidates: np.ndarray, max_words: int) -> Promotions:
    """Mode none: (m, K) promotions where each candidate shows its own catalog facts.

    The text is `item_facts_text` cut to `max_words`, the same for every user; the table
    holds one row per distinct candidate item (titles are unique, so texts are too).
    """
    items, inverse = np.unique(candidates, return_inverse=True)
    table = (
        "",
        *(clip_words(item_facts_text(facts.catalog[i]), max_words) for i in items.tolist()),
    )
    ids = (inverse.reshape(candidates.shape) + 1).astype(np.int32)  # row 0 stays "no promotion"
    return Promotions(table, ids)


def audience_of(memory: str) -> str:
    """TriRec's audience label of a user: the first 25 words of its memory."""
    return "users whose profile indicates: " + clip_words(memory, AUDIENCE_WORDS)


def buffer_promotions(
    state: ItemMemoryState,
    cohort: UserCohort,
    idx: np.ndarray,
    candidates: np.ndarray,
    promotions: Promotions,
) -> ItemMemoryState:
    """A new state where every non-empty promotion served this round waits in its item's buffer.

    Entries join in user order (then candidate column), as if served one user at a time.
    """
    rows, cols = np.nonzero(promotions.ids)  # row-major: user order, then column
    if not len(rows):
        return state
    items = candidates[rows, cols]
    by_item = np.argsort(items, kind="stable")  # grouped by item, user order kept inside
    items, rows, text_ids = items[by_item], rows[by_item], promotions.ids[rows, cols][by_item]
    audiences = {r: audience_of(cohort.memories[u]) for r, u in enumerate(idx.tolist())}
    table, buffers = promotions.table, dict(state.buffers)
    starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]])
    for start, stop in zip(starts.tolist(), [*starts[1:].tolist(), len(items)], strict=True):
        entries = [
            (audiences[r], table[t])
            for r, t in zip(rows[start:stop].tolist(), text_ids[start:stop].tolist(), strict=True)
        ]
        item = int(items[start])
        buffers[item] = (*buffers.get(item, ()), *entries)
    return replace(state, buffers=buffers)


def due_rewrites(
    state: ItemMemoryState, buffer_size: int
) -> dict[int, tuple[tuple[str, str], ...]]:
    """Items whose buffer holds >= buffer_size entries -> the entries this rewrite consumes."""
    if buffer_size <= 0:
        return {}
    due = {}
    for item, entries in sorted(state.buffers.items()):
        used = len(entries) // buffer_size * buffer_size
        if used:
            due[item] = entries[:used]
    return due


def apply_rewrites(
    state: ItemMemoryState,
    due: dict[int, tuple[tuple[str, str], ...]],
    new_memories: dict[int, str | None],
) -> ItemMemoryState:
    """Consume the due entries; store each accepted new memory (None = rejected, memory kept)."""
    buffers, memories, rewrites = dict(state.buffers), dict(state.memories), dict(state.rewrites)
    for item, entries in due.items():
        rest = buffers[item][len(entries) :]
        if rest:
            buffers[item] = rest
        else:
            del buffers[item]
        if new_memories.get(item) is not None:
            memories[item] = new_memories[item]
            rewrites[item] = rewrites.get(item, 0) + 1
    return ItemMemoryState(memories=memories, buffers=buffers, rewrites=rewrites)
