"""The reasoner of the grounded loop (MGFRec, Cai et al., KDD 2026, arXiv 2510.22888).

Each round a reasoner sees the user's history, an initial shortlist, and every earlier
turn (its query, the real items the query was grounded to, the user agent's feedback),
thinks, and either SEARCHES (names an item title as a query) or ANSWERS (names the title
whose grounding becomes the final list). Two implementations, one cohort batch per call:

- `LLMReasoner`: the prompt-only variant of MGFRec's recommendation agent
  (`reasoner_system.jinja`, `reasoner_step.jinja`), structured reply `ReasonerReply`.
  A reply that fails the schema or names an empty title is counted (`failed`) and
  replaced by the surrogate's query for that user, so no user is dropped.
- `SurrogateReasoner`: no LLM. The query is a vector: the history centroid, moved each
  round a step toward the items the feedback liked and away from those it did not
  (a Rocchio update, Rocchio 1971); it answers once the feedback likes enough of a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from recagora.agents.llm.contract import LLMClient, LLMRequest, LLMResult
from recagora.agents.prompts import render
from recagora.item_space.types import Catalog


@dataclass(frozen=True)
class Turn:
    """One finished round of one user's dialogue (ids are dense catalog ids)."""

    query: str
    grounded: tuple[int, ...]
    feedback: str
    liked: tuple[int, ...] = ()
    disliked: tuple[int, ...] = ()
    remark: str = ""  # the LLM critic's own sentence (empty for the surrogate critic)


@dataclass(frozen=True)
class ReasonerMoves:
    """What the reasoner did for m users this round.

    queries: m texts or (d,) unit vectors to ground. answer: (m,) bool, True = final answer.
    failed: (m,) bool, the reply named nothing groundable (the surrogate query stood in).
    """

    queries: list[str | np.ndarray]
    answer: np.ndarray
    failed: np.ndarray
    thoughts: list[str]
    events: list[dict] = field(default_factory=list)


class ReasonerReply(BaseModel):
    """The LLM reasoner's structured reply."""

    thought: str = Field(default="", description="One or two sentences of reasoning.")
    action: Literal["search", "answer"] = Field(description="search = query again; answer = final.")
    title: str = Field(description="One item title: the query or the answer.")


@dataclass(frozen=True)
class ReasonerConfig:
    """Prompts of the LLM reasoner and the surrogate's update rule."""

    domain: str = field(
        default="video games", metadata={"help": "What the catalog holds, as prompts name it."}
    )
    history_titles: int = field(
        default=10, metadata={"help": "Most recent history titles in the prompt."}
    )
    shortlist_titles: int = field(default=5, metadata={"help": "Shortlist titles in the prompt."})
    temperature: float = field(default=0.0, metadata={"help": "LLM sampling temperature."})
    max_tokens: int = field(
        default=160, metadata={"help": "Reply budget of one request, in tokens."}
    )
    seed: int = field(default=0, metadata={"help": "Seed sent with every request."})
    step_size: float = field(
        default=0.5,
        metadata={"help": "Surrogate: step toward the liked items' centroid, in [0, 1]."},
    )
    dislike_weight: float = field(
        default=0.2, metadata={"help": "Surrogate: push away from the disliked items' centroid."}
    )
    answer_when_liked: float = field(
        default=0.5,
        metadata={"help": "Surrogate: answer once this share of the grounded list was liked."},
    )


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


class SurrogateReasoner:
    """Vector queries by Rocchio steps over the feedback; see the module docstring."""

    name = "surrogate"

    def __init__(self, vectors: np.ndarray, config: ReasonerConfig | None = None) -> None:
        self.vectors = vectors  # (N, d) unit item vectors
        self.config = config or ReasonerConfig()

    def query_vector(self, history: Sequence[int], turns: Sequence[Turn]) -> np.ndarray:
        """(d,) the current query: history centroid, then one Rocchio step per finished turn."""
        query = _unit(self.vectors[list(history)].mean(axis=0))
        for turn in turns:
            move = np.zeros_like(query)
            if turn.liked:
                move += self.config.step_size * (
                    self.vectors[list(turn.liked)].mean(axis=0) - query
                )
            if turn.disliked:
                move -= self.config.dislike_weight * self.vectors[list(turn.disliked)].mean(axis=0)
            query = _unit(query + move)
        return query

    def wants_to_answer(self, turns: Sequence[Turn]) -> bool:
        """True once the last grounded list pleased the user enough."""
        if not turns or not turns[-1].grounded:
            return False
        return len(turns[-1].liked) / len(turns[-1].grounded) >= self.config.answer_when_liked

    async def step(
        self,
        histories: Sequence[Sequence[int]],
        shortlists: np.ndarray,
        transcripts: Sequence[Sequence[Turn]],
        must_answer: bool,
    ) -> ReasonerMoves:
        """One move per user (m users): vector queries, answer flags; nothing can fail."""
        del shortlists  # the shortlist is the history centroid's neighbourhood already
        queries = [self.query_vector(h, t) for h, t in zip(histories, transcripts, strict=True)]
        answer = np.array([must_answer or self.wants_to_answer(t) for t in transcripts], dtype=bool)
        return ReasonerMoves(queries, answer, np.zeros(len(queries), bool), [""] * len(queries))


class LLMReasoner:
    """MGFRec's recommendation agent, prompt-only, one concurrent batch per round."""

    name = "llm"

    def __init__(
        self, catalog: Catalog, llm: LLMClient, config: ReasonerConfig | None = None
    ) -> None:
        self.catalog, self.llm = catalog, llm
        self.config = config or ReasonerConfig()
        self.fallback = (
            SurrogateReasoner(catalog.vectors, self.config) if catalog.vectors is not None else None
        )

    def _prompt(
        self,
        history: Sequence[int],
        shortlist: Sequence[int],
        turns: Sequence[Turn],
        must_answer: bool,
    ) -> str:
        titles = self.catalog.titles
        return render(
            "reasoner_step",
            domain=self.config.domain,
            history=[titles[i] for i in list(history)[-self.config.history_titles :]],
            shortlist=[
                titles[i] for i in list(shortlist)[: self.config.shortlist_titles] if i >= 0
            ],
            turns=[_turn_slots(t, titles) for t in turns],
            must_answer=must_answer,
        )

    def _request(self, prompt: str) -> LLMRequest:
        system = render("reasoner_system", domain=self.config.domain)
        return LLMRequest(
            messages=({"role": "system", "content": system}, {"role": "user", "content": prompt}),
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            seed=self.config.seed,
            tag="reasoner.step",
        )

    async def step(
        self,
        histories: Sequence[Sequence[int]],
        shortlists: np.ndarray,
        transcripts: Sequence[Sequence[Turn]],
        must_answer: bool,
    ) -> ReasonerMoves:
        """One structured LLM call per user, all in one batch; bad replies fall back (counted)."""
        requests = [
            self._request(self._prompt(h, s, t, must_answer))
            for h, s, t in zip(histories, shortlists, transcripts, strict=True)
        ]
        results = await self.llm.structured_batch(requests, ReasonerReply)
        moves = [
            self._move(r, h, t, must_answer)
            for r, h, t in zip(results, histories, transcripts, strict=True)
        ]
        queries, answer, failed, thoughts = (
            (list(column) for column in zip(*moves, strict=True)) if moves else ([], [], [], [])
        )
        events = [_call_event(r) for r in results]
        return ReasonerMoves(
            queries, np.array(answer, bool), np.array(failed, bool), thoughts, events
        )

    def _move(self, result: LLMResult, history, turns, must_answer: bool) -> tuple:
        reply = result.value
        title = reply.title.strip() if result.ok and reply is not None else ""
        # Small models copy the prompt's "<one ... title>" placeholder: that names nothing.
        if title and not (title.startswith("<") and title.endswith(">")):
            return title, must_answer or reply.action == "answer", False, reply.thought
        fallback = (
            self.fallback.query_vector(history, turns)
            if self.fallback
            else self.catalog.titles[history[-1]]
        )
        return fallback, must_answer, True, ""


def _turn_slots(turn: Turn, titles: Sequence[str]) -> dict:
    """A turn as the prompt shows it: every grounded title marked by the feedback, no repeats.

    The critic's liked/disliked lists become marks beside the titles rather than a second
    list of the same titles: with a 135M model on one CPU thread, prompt tokens are the cost.
    """
    liked, disliked = set(turn.liked), set(turn.disliked)
    marks = {True: "fits", False: "does not fit"}
    return {
        "query": turn.query,
        "found": [
            {"title": titles[i], "mark": marks[i in liked] if i in liked | disliked else ""}
            for i in turn.grounded
        ],
        "liked": [titles[i] for i in turn.grounded if i in liked],
        "remark": turn.remark,
    }


def _call_event(result: LLMResult) -> dict:
    """What the event log keeps of one LLM call."""
    return {
        "call_id": result.call_id,
        "cached": result.cached,
        "tokens": result.prompt_tokens + result.completion_tokens,
        "failure": result.failure.kind if result.failure else None,
        "reply": result.text[:400],
    }
