"""The daily paper feed of PaperEval's deployment ("PaperRec", Zheng et al., AAAI'26, section 5).

Every day the top-k papers by the evaluator's score are turned into posts by a
`PostWriterAgent` (LLM; `TemplatePostWriter` without one), and `SubscriberAgent`s who
follow topics read, skip or save each post. Subscribers are a vectorised surrogate:
a post is read with probability sigmoid((cos(topic, paper) - read_threshold) / temperature)
and a read post is saved when the paper's true quality label clears `save_quality`
(readers recognise good work once they read it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field

from recagora.agents.llm.contract import LLMClient, LLMRequest
from recagora.agents.prompts import render
from recagora.agents.reasoner import _call_event
from recagora.item_space.papers import paper_text
from recagora.item_space.types import Item

SKIP, READ, SAVE = 0, 1, 2


@dataclass(frozen=True)
class Post:
    """One post of the feed about one paper."""

    paper: int
    headline: str
    text: str


class PostReply(BaseModel):
    headline: str = Field(description="At most 12 words.")
    post: str = Field(description="At most 60 words.")


class TemplatePostWriter:
    """Posts without an LLM: the title as headline and the abstract's first sentence."""

    name = "template"

    async def write(
        self, papers: Sequence[Item], justifications: Sequence[str]
    ) -> tuple[list[Post], np.ndarray, list[dict]]:
        posts = [
            Post(p.id, p.title, (p.text.split(". ")[0] + ".") if p.text else p.title)
            for p in papers
        ]
        return posts, np.zeros(len(posts), bool), []


class PostWriterAgent:
    """LLM post writer; a failed reply is counted and replaced by the template post."""

    name = "llm"

    def __init__(self, llm: LLMClient, max_tokens: int = 160, seed: int = 0) -> None:
        self.llm, self.max_tokens, self.seed = llm, max_tokens, seed

    async def write(
        self, papers: Sequence[Item], justifications: Sequence[str]
    ) -> tuple[list[Post], np.ndarray, list[dict]]:
        """(posts, failed (n,) bool, events): one concurrent batch."""
        requests = [
            LLMRequest(
                messages=(
                    {
                        "role": "user",
                        "content": render(
                            "evaluator_post", paper=paper_text(p, 600), justification=j or "none"
                        ),
                    },
                ),
                max_tokens=self.max_tokens,
                seed=self.seed,
                tag="post_writer.write",
            )
            for p, j in zip(papers, justifications, strict=True)
        ]
        results = await self.llm.structured_batch(requests, PostReply)
        fallback, _, _ = await TemplatePostWriter().write(papers, justifications)
        posts = [
            Post(p.id, r.value.headline, r.value.post) if r.ok and r.value else f
            for p, r, f in zip(papers, results, fallback, strict=True)
        ]
        return (
            posts,
            np.array([not (r.ok and r.value) for r in results], bool),
            [_call_event(r) for r in results],
        )


@dataclass(frozen=True)
class SubscriberConfig:
    """How surrogate subscribers react to posts."""

    read_threshold: float = field(
        default=0.3, metadata={"help": "Topic-paper cosine at which a post is read half the time."}
    )
    temperature: float = field(
        default=0.05, metadata={"help": "Sharpness of the read decision (cosine units)."}
    )
    save_quality: float = field(
        default=0.6,
        metadata={"help": "A read paper with quality (label in [0,1]) at or above it is saved."},
    )


class SubscriberAgent:
    """s subscribers, each following one topic (a unit vector), vectorised over posts."""

    name = "surrogate"

    def __init__(
        self,
        topics: Sequence[str],
        topic_vectors: np.ndarray,
        config: SubscriberConfig | None = None,
    ) -> None:
        self.topics, self.topic_vectors = list(topics), topic_vectors  # (s, d)
        self.config = config or SubscriberConfig()

    def react(
        self, paper_vectors: np.ndarray, quality: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """(s, p) actions SKIP / READ / SAVE for p posts; quality (p,) in [0, 1] (NaN: never saved)."""
        relevance = self.topic_vectors @ paper_vectors.T  # (s, p)
        p_read = 1.0 / (
            1.0 + np.exp(-(relevance - self.config.read_threshold) / self.config.temperature)
        )
        read = rng.random(relevance.shape) < p_read
        save = read & (np.nan_to_num(quality, nan=-1.0) >= self.config.save_quality)[None, :]
        return np.where(save, SAVE, np.where(read, READ, SKIP)).astype(np.int64)
