"""State and run-scoped context of a PaperEval episode (arrays aligned with `day_papers`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from recagora.environments.papereval.config import PaperEvalConfig
from recagora.environments.reducers import RoundEvents
from recagora.environments.scenario import RoundSink
from recagora.item_space.types import Catalog


class PaperEvalState(TypedDict, total=False):
    """State of one PaperEval episode over n target papers."""

    round: int
    """0-based day."""
    day_papers: np.ndarray
    """(p,) int64 target-paper ids submitted this day."""
    keyphrases: list[str]
    """(p,) retrieval queries (LLM keyphrase, or the title when extraction failed / is off)."""
    references: list[list[int]]
    """(p,) concurrent-corpus ids retrieved for each paper (at most k)."""
    scores: np.ndarray
    """(p,) float64 judge scores in [0, 1]."""
    justifications: list[str]
    """(p,) the judge's short justifications."""
    judge_failed: np.ndarray
    """(p,) bool replies that failed validation (scored 0.5, counted)."""
    published: np.ndarray
    """(t,) int64 the day's top-k paper ids, best first."""
    reactions: np.ndarray
    """(s, t) int64 subscriber actions per published post: 0 skip, 1 read, 2 save."""
    all_scores: np.ndarray
    """(n,) float64 score of every paper judged so far (NaN = not yet)."""
    counters: dict[str, float]
    """This day's failure counters (keyphrase, judge, post)."""
    events: RoundEvents
    """Events of the current day."""
    done: bool
    """True after the last day."""


@dataclass
class PaperEvalContext:
    """Run-scoped dependencies: papers and corpus, their vectors/dates, the roles, the day plan."""

    config: PaperEvalConfig
    targets: Catalog
    concurrent: Catalog
    target_vectors: np.ndarray
    target_days: np.ndarray
    corpus_days: np.ndarray
    relevance: np.ndarray
    embedder: Any
    evaluator: Any
    judge: Any
    post_writer: Any
    subscribers: Any
    days: list[np.ndarray]
    sink: RoundSink
    llm: Any = None
