"""The user agent as a critic in the grounded loop (MGFRec, Cai et al., KDD 2026).

After each grounding step the user agent sees the user's history and the grounded
list and says what fits and what does not. It never sees the held-out item.

- `LLMFeedbackAgent`: reuses the TriRec user agent's persona memory and system prompt
  (`persona_memory`, `user_system.jinja`) and asks `reasoner_feedback.jinja`.
- `LearnedFeedbackAgent` (the default): the learned user model (`agents/learned_user/`):
  an item fits when the user would watch / buy it, i.e. its interest head says P(yes) >= 0.5,
  the decision `recagora fidelity` scores in its discrimination test.
- `SurrogateFeedbackAgent` (v0): the TriRec team's fitted conditional-logit choice model
  (`agents/surrogate/choice_model.py`): an item fits when its utility for the user beats
  the model's calibrated outside option ("consume nothing").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from recagora.agents.llm.contract import LLMClient, LLMRequest, LLMResult
from recagora.agents.prompts import render
from recagora.agents.reasoner import _call_event
from recagora.agents.roles.base import ItemFacts
from recagora.agents.roles.persona import persona_memory
from recagora.agents.surrogate.choice_model import ChoiceModel
from recagora.agents.surrogate.features import candidate_features, from_histories


@dataclass(frozen=True)
class Feedback:
    """The critic's answer for m users: text, liked and disliked ids, failures (counted)."""

    texts: list[str]
    liked: list[tuple[int, ...]]
    disliked: list[tuple[int, ...]]
    failed: np.ndarray
    events: list[dict] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)  # LLM critic's own sentences; [] = none


class FeedbackReply(BaseModel):
    """The LLM critic's structured reply (1-based numbers into the grounded list)."""

    fits: list[int] = Field(default_factory=list, description="Numbers of the items that fit.")
    misfits: list[int] = Field(
        default_factory=list, description="Numbers of the items that do not."
    )
    feedback: str = Field(default="", description="One sentence: what the user would rather have.")


def feedback_text(
    liked: Sequence[int], disliked: Sequence[int], catalog_titles: Sequence[str]
) -> str:
    """'Fits: A; B. Does not fit: C.' from ids (shared by both critics)."""
    fits = "; ".join(catalog_titles[i] for i in liked) or "nothing"
    misfits = "; ".join(catalog_titles[i] for i in disliked) or "nothing"
    return f"Fits: {fits}. Does not fit: {misfits}."


def _padded(grounded: Sequence[Sequence[int]]) -> np.ndarray | None:
    """(m, width) ids, short lists padded with their first item; None when nothing was grounded."""
    width = max((len(g) for g in grounded), default=0)
    if not grounded or width == 0:
        return None
    return np.array(
        [list(g) + [g[0] if g else 0] * (width - len(g)) for g in grounded], dtype=np.int64
    )


def _nothing_found(n: int) -> Feedback:
    empty = [()] * n
    return Feedback(["Nothing was found."] * n, empty, empty, np.zeros(n, bool))


def _feedback_from_likes(
    facts: ItemFacts, grounded: Sequence[Sequence[int]], likes: np.ndarray
) -> Feedback:
    """Split each list by its (m, width) `likes` mask: every grounded item is liked or disliked."""
    liked = [
        tuple(i for i, ok in zip(g, row, strict=False) if ok)
        for g, row in zip(grounded, likes, strict=True)
    ]
    disliked = [
        tuple(i for i in g if i not in set(l_)) for g, l_ in zip(grounded, liked, strict=True)
    ]
    titles = facts.catalog.titles
    texts = [feedback_text(l_, d, titles) for l_, d in zip(liked, disliked, strict=True)]
    return Feedback(texts, liked, disliked, np.zeros(len(grounded), bool))


class SurrogateFeedbackAgent:
    """Vectorised critic over the fitted v0 choice model (no LLM)."""

    name = "surrogate"

    def __init__(self, facts: ItemFacts, model: ChoiceModel) -> None:
        self.facts, self.model = facts, model

    async def critique(
        self, histories: Sequence[Sequence[int]], grounded: Sequence[Sequence[int]]
    ) -> Feedback:
        """Liked = utility above the outside option."""
        ids = _padded(grounded)
        if ids is None:
            return _nothing_found(len(grounded))
        users = from_histories(self.facts, histories)
        utility = self.model.utilities(candidate_features(self.facts, users, ids))  # (m, width)
        return _feedback_from_likes(self.facts, grounded, utility > self.model.outside_utility)


class LearnedFeedbackAgent:
    """Vectorised critic over the learned user model (no LLM): liked = it would watch / buy it.

    Args:
        facts: catalog titles for the feedback text.
        model: a fitted `LearnedUserModel` (anything with `interest_probabilities`).
        threshold: P(yes) at or above which an item fits (0.5: the head is fitted at 1:1).
    """

    name = "learned"

    def __init__(self, facts: ItemFacts, model: Any, threshold: float = 0.5) -> None:
        self.facts, self.model, self.threshold = facts, model, threshold

    async def critique(
        self, histories: Sequence[Sequence[int]], grounded: Sequence[Sequence[int]]
    ) -> Feedback:
        """One P(yes) per (user, grounded item), asked of each item alone as in Agent4Rec."""
        ids = _padded(grounded)
        if ids is None:
            return _nothing_found(len(grounded))
        m, width = ids.shape
        rows = np.repeat(np.arange(m), width)
        p_yes = self.model.interest_probabilities(
            rows, [histories[r] for r in rows.tolist()], ids.reshape(-1)
        )
        return _feedback_from_likes(self.facts, grounded, p_yes.reshape(m, width) >= self.threshold)


@dataclass(frozen=True)
class FeedbackConfig:
    """Prompts and limits of the LLM critic."""

    domain: str = field(
        default="video games", metadata={"help": "What the catalog holds, as prompts name it."}
    )
    temperature: float = field(default=0.0, metadata={"help": "LLM sampling temperature."})
    max_tokens: int = field(
        default=160, metadata={"help": "Reply budget of one request, in tokens."}
    )
    seed: int = field(default=0, metadata={"help": "Seed sent with every request."})


class LLMFeedbackAgent:
    """The user agent as an LLM critic, one concurrent batch per round."""

    name = "llm"

    def __init__(
        self, facts: ItemFacts, llm: LLMClient, config: FeedbackConfig | None = None
    ) -> None:
        self.facts, self.llm = facts, llm
        self.config = config or FeedbackConfig()

    def _request(self, history: Sequence[int], grounded: Sequence[int]) -> LLMRequest:
        memory = persona_memory(self.facts, list(history), None, self.config.domain)
        system = render("user_system", domain=self.config.domain, memory=memory)
        titles = [self.facts.catalog[i].title for i in grounded]
        prompt = render("reasoner_feedback", domain=self.config.domain, grounded=titles)
        return LLMRequest(
            messages=({"role": "system", "content": system}, {"role": "user", "content": prompt}),
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            seed=self.config.seed,
            tag="user_agent.feedback",
        )

    async def critique(
        self, histories: Sequence[Sequence[int]], grounded: Sequence[Sequence[int]]
    ) -> Feedback:
        """One call per user; an invalid reply counts as a failure with neutral feedback."""
        requests = [self._request(h, g) for h, g in zip(histories, grounded, strict=True)]
        results = await self.llm.structured_batch(requests, FeedbackReply)
        parsed = [self._parse(r, g) for r, g in zip(results, grounded, strict=True)]
        texts, liked, disliked, failed, remarks = (
            (list(c) for c in zip(*parsed, strict=True)) if parsed else ([], [], [], [], [])
        )
        events = [_call_event(r) for r in results]
        return Feedback(texts, liked, disliked, np.array(failed, bool), events, remarks)

    def _parse(self, result: LLMResult, grounded: Sequence[int]) -> tuple:
        reply = result.value
        if not result.ok or reply is None:
            return "No feedback.", (), (), True, ""
        liked = _numbered(grounded, reply.fits)
        disliked = tuple(i for i in _numbered(grounded, reply.misfits) if i not in liked)
        text = feedback_text(liked, disliked, self.facts.catalog.titles)
        remark = reply.feedback.strip()
        return f"{text} {remark}".strip(), liked, disliked, False, remark


def _numbered(grounded: Sequence[int], numbers: Sequence[int]) -> tuple[int, ...]:
    """Item ids of valid 1-based `numbers` into `grounded`, first mention kept."""
    return tuple(dict.fromkeys(grounded[n - 1] for n in numbers if 1 <= n <= len(grounded)))
