"""The explainer role: one explanation per (user, recommended item), for the `explain` scenario.

An explainer reads the user's history (item ids, oldest first) and the items shown to
them, and writes one short text per item ("" = no explanation). Implementations:
  - none:     no text (the control arm: the user decides on the item alone);
  - restate:  the item's own catalog text (title and categories), exactly what the item
              vector embeds: an explanation that says nothing about the user (a control
              that must not help);
  - template: relates the item to the user's taste from the history alone: the two
              history items nearest to it in the item space and the genres it shares with
              the user's three most-watched ones (no LLM);
  - llm:      the run's LLM (e.g. the embedded SmolLM2) writes one sentence from the
              user's recent titles and the item's facts;
  - seller:   SELLER's soft-token generator (`training/seller/explainer.py`).
Explanations are cached per (user, item) within a run, so a user shown the same item
again reads the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from recagora.agents.llm.contract import LLMClient, LLMRequest
from recagora.agents.roles.base import ItemFacts
from recagora.agents.roles.persona import clip_words, item_facts_text

# History items the template names: the nearest to the explained item.
NEAREST = 2
# The user's most-watched categories the template compares the item with.
FAVOURITES = 3


class Explainer(Protocol):
    """What every explainer implementation provides."""

    name: str

    async def explain(
        self, users: Sequence[str], histories: Sequence[Sequence[int]], candidates: np.ndarray
    ) -> list[list[str]]:
        """m lists of K texts for the (m, K) item ids shown to `users` ("" = none)."""
        ...


@dataclass(frozen=True)
class ExplainerConfig:
    """How the text explainers write."""

    max_words: int = field(default=30, metadata={"help": "Explanations are cut to this many words."})
    recent: int = field(
        default=8, metadata={"help": "Most recent history titles the LLM explainer is shown."}
    )
    max_tokens: int = field(default=48, metadata={"help": "Longest LLM explanation (tokens)."})
    domain: str = field(default="movie", metadata={"help": "What the items are, in prompts."})


class NoExplainer:
    """No explanation for any item."""

    name = "none"

    def __init__(self, facts: ItemFacts, config: ExplainerConfig | None = None, **_) -> None:
        self.facts = facts

    async def explain(self, users, histories, candidates: np.ndarray) -> list[list[str]]:
        return [[""] * candidates.shape[1] for _ in range(len(candidates))]


class RestateExplainer:
    """The item's own embedding text: it restates the item and says nothing about the user."""

    name = "restate"

    def __init__(self, facts: ItemFacts, config: ExplainerConfig | None = None, **_) -> None:
        self.facts = facts

    async def explain(self, users, histories, candidates: np.ndarray) -> list[list[str]]:
        items = self.facts.catalog.items
        return [[items[i].embedding_text() for i in row] for row in candidates.tolist()]


class TemplateExplainer:
    """Why this user: the nearest history items and the genres shared with their favourites."""

    name = "template"

    def __init__(self, facts: ItemFacts, config: ExplainerConfig | None = None, **_) -> None:
        self.facts, self.config = facts, config or ExplainerConfig()

    async def explain(self, users, histories, candidates: np.ndarray) -> list[list[str]]:
        return [
            [self._sentence(history, item) for item in row]
            for history, row in zip(histories, candidates.tolist(), strict=True)
        ]

    def _sentence(self, history: Sequence[int], item: int) -> str:
        entry = self.facts.catalog.items[item]
        nearest = nearest_history(self.facts.vectors, history, item, NEAREST)
        titles = " and ".join(self.facts.catalog.items[i].title for i in nearest)
        shared = [g for g in favourite_labels(self.facts, history) if g in entry.categories]
        if not titles:
            return clip_words(f"{entry.title} is new to you.", self.config.max_words)
        if shared:
            text = f"Like {titles}, which you watched, {entry.title} is {'/'.join(shared)}."
        else:
            text = f"{entry.title} is closest to {titles} in your history, but shares none of your usual genres."
        return clip_words(text, self.config.max_words)


def nearest_history(vectors: np.ndarray, history: Sequence[int], item: int, n: int) -> list[int]:
    """The n distinct history items (other than `item`) with the highest cosine to it, nearest first."""
    seen = [i for i in dict.fromkeys(history) if i != item]
    if not seen:
        return []
    sims = vectors[seen] @ vectors[item]
    return [seen[j] for j in np.argsort(-sims, kind="stable")[:n].tolist()]


def favourite_labels(facts: ItemFacts, history: Sequence[int]) -> list[str]:
    """The user's FAVOURITES most frequent category labels in `history` (ties in label order)."""
    if not len(history) or not facts.categories.shape[1]:
        return []
    counts = facts.categories[np.asarray(history, np.int64)].sum(axis=0)
    top = np.argsort(-counts, kind="stable")[:FAVOURITES]
    return [facts.category_labels[j] for j in top.tolist() if counts[j] > 0]


class LLMExplainer:
    """One sentence per (user, item) from the run's LLM; a round's pairs go out as one batch."""

    name = "llm"

    def __init__(
        self, facts: ItemFacts, config: ExplainerConfig | None = None, llm: LLMClient | None = None, **_
    ) -> None:
        if llm is None:
            raise ValueError("the llm explainer needs an LLM client")
        self.facts, self.llm, self.config = facts, llm, config or ExplainerConfig()
        self._cache: dict[tuple[str, int], str] = {}

    async def explain(self, users, histories, candidates: np.ndarray) -> list[list[str]]:
        wanted = {}
        for user, history, row in zip(users, histories, candidates.tolist(), strict=True):
            for item in row:
                if (user, item) not in self._cache:
                    wanted[(user, item)] = self._request(history, item)
        results = await self.llm.chat_batch(list(wanted.values()))
        for key, result in zip(wanted, results, strict=True):  # a failed reply explains nothing
            self._cache[key] = clip_words(_first_line(result.value or ""), self.config.max_words)
        return [[self._cache[(u, i)] for i in row] for u, row in zip(users, candidates.tolist(), strict=True)]

    def _request(self, history: Sequence[int], item: int) -> LLMRequest:
        domain, items = self.config.domain, self.facts.catalog.items
        recent = "; ".join(items[i].title for i in list(history)[-self.config.recent :]) or "nothing yet"
        prompt = (
            f"A viewer recently watched: {recent}.\nRecommended {domain}: {item_facts_text(items[item])}.\n"
            f"In one sentence, tell this viewer why this {domain} suits them, relating it to what they watched."
        )
        system = f"You explain {domain} recommendations in one short, factual sentence."
        return LLMRequest(
            messages=({"role": "system", "content": system}, {"role": "user", "content": prompt}),
            temperature=0.0,
            max_tokens=self.config.max_tokens,
            tag="explainer.explain",
        )


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""
