"""The paper evaluator (PaperEval, Zheng et al., AAAI'26, arXiv 2508.05129).

An LLM extracts each paper's topic keyphrase (the retrieval query for concurrent
work), then judges the paper, seeing the target and its concurrent references, and
replies with a score in [0, 1] and a short justification. Ablations by config: no
retrieval (the target alone), no reasoning (score only). `ScorerJudge` plugs in any
trained scorer (e.g. `recagora.training.papereval`) through a plain callable, so
agents/ never imports training/.

Replies are strict JSON; a reply that fails validation even after the LLM layer's
repair re-ask is COUNTED as failed and gets the neutral score 0.5, so the ranking
always holds every paper.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from recagora.agents.llm.contract import LLMClient, LLMRequest, LLMResult
from recagora.agents.prompts import render
from recagora.agents.reasoner import _call_event
from recagora.item_space.papers import paper_text
from recagora.item_space.types import Item

NEUTRAL_SCORE = 0.5


class KeyphraseReply(BaseModel):
    keyphrase: str = Field(
        description="The paper's research field: application area + key technology."
    )


class JudgeReply(BaseModel):
    reasoning: str = Field(default="", description="Two sentences of review.")
    score: float = Field(
        ge=0.0, le=10.0, description="Quality in [0, 1] (a 0-10 score is rescaled)."
    )


class ScoreOnlyReply(BaseModel):
    score: float = Field(
        ge=0.0, le=10.0, description="Quality in [0, 1] (a 0-10 score is rescaled)."
    )


@dataclass(frozen=True)
class EvaluatorConfig:
    """The judge's prompts, ablations and retrieval settings (paper defaults: k = 2)."""

    retrieval: bool = field(
        default=True, metadata={"help": "Show the judge k concurrent papers (False: target alone)."}
    )
    reasoning: bool = field(
        default=True,
        metadata={"help": "Ask for a justification before the score (False: score only)."},
    )
    gamma: float = field(
        default=0.3, metadata={"help": "Cosine threshold between keyphrase and corpus paper."}
    )
    k: int = field(default=2, metadata={"help": "Concurrent papers per target (PaperEval: 2)."})
    abstract_chars: int = field(
        default=600, metadata={"help": "Abstracts are cut to this many characters in prompts."}
    )
    temperature: float = field(default=0.0, metadata={"help": "LLM sampling temperature."})
    max_tokens: int = field(
        default=160, metadata={"help": "Reply budget of one request, in tokens."}
    )
    seed: int = field(default=0, metadata={"help": "Seed sent with every request."})


@dataclass(frozen=True)
class Judgements:
    """Scores (n,) in [0, 1], justifications, failures (n,) bool, one event per paper."""

    scores: np.ndarray
    justifications: list[str]
    failed: np.ndarray
    events: list[dict] = field(default_factory=list)


def _rescale(score: float) -> float:
    """Small models often answer 0-10 although asked for 0-1; both are accepted."""
    return score / 10.0 if score > 1.0 else score


class EvaluatorAgent:
    """LLM judge with keyphrase retrieval queries; one concurrent batch per call."""

    name = "llm"

    def __init__(self, llm: LLMClient, config: EvaluatorConfig | None = None) -> None:
        self.llm = llm
        self.config = config or EvaluatorConfig()

    def _request(self, prompt: str, tag: str) -> LLMRequest:
        return LLMRequest(
            messages=(
                {"role": "system", "content": render("evaluator_system")},
                {"role": "user", "content": prompt},
            ),
            temperature=self.config.temperature,
            max_tokens=self.config.max_tokens,
            seed=self.config.seed,
            tag=tag,
        )

    async def keyphrases(self, papers: Sequence[Item]) -> tuple[list[str], np.ndarray, list[dict]]:
        """(keyphrases, failed (n,) bool, events); a failed paper's query is its title."""
        prompts = [
            render("evaluator_keyphrase", paper=paper_text(p, self.config.abstract_chars))
            for p in papers
        ]
        results = await self.llm.structured_batch(
            [self._request(t, "evaluator.keyphrase") for t in prompts], KeyphraseReply
        )
        ok = [r.ok and r.value is not None and r.value.keyphrase.strip() for r in results]
        phrases = [
            r.value.keyphrase.strip() if good else p.title
            for r, good, p in zip(results, ok, papers, strict=True)
        ]
        return phrases, ~np.array(ok, bool), [_call_event(r) for r in results]

    async def judge(
        self, papers: Sequence[Item], references: Sequence[Sequence[Item]]
    ) -> Judgements:
        """Score every paper; `references[i]` are paper i's concurrent works (ignored without retrieval)."""
        cut = self.config.abstract_chars
        prompts = [
            render(
                "evaluator_judge",
                paper=paper_text(p, cut),
                references=[paper_text(r, cut) for r in refs] if self.config.retrieval else [],
                reasoning=self.config.reasoning,
            )
            for p, refs in zip(papers, references, strict=True)
        ]
        schema = JudgeReply if self.config.reasoning else ScoreOnlyReply
        results = await self.llm.structured_batch(
            [self._request(t, "evaluator.judge") for t in prompts], schema
        )
        return _judgements(results)


def _judgements(results: Sequence[LLMResult]) -> Judgements:
    scores, notes, failed = [], [], []
    for result in results:
        good = result.ok and result.value is not None
        scores.append(_rescale(result.value.score) if good else NEUTRAL_SCORE)
        notes.append(getattr(result.value, "reasoning", "") if good else "")
        failed.append(not good)
    return Judgements(
        np.array(scores, np.float64),
        notes,
        np.array(failed, bool),
        [_call_event(r) for r in results],
    )


ScoreFn = Callable[[Sequence[Item], Sequence[Sequence[Item]]], np.ndarray]


class ScorerJudge:
    """A trained scorer as the judge: `score_fn(papers, references) -> (n,)` scores; no LLM."""

    name = "scorer"

    def __init__(self, score_fn: ScoreFn) -> None:
        self.score_fn = score_fn

    async def judge(
        self, papers: Sequence[Item], references: Sequence[Sequence[Item]]
    ) -> Judgements:
        scores = np.asarray(self.score_fn(papers, references), np.float64)
        note = "score from the trained scorer"
        return Judgements(scores, [note] * len(papers), np.zeros(len(papers), bool))
