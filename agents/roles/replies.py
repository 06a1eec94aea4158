"""Strict schemas of the LLM roles' replies, and the validation of a score reply.

TriRec (Gong et al., arXiv 2603.10673, stage 1): the user agent returns JSON scores 0-10
for every candidate plus a reason. IDs outside the candidate set are dropped, duplicate
IDs collapse to their highest score, and a reply that misses or repeats IDs is asked again
with a one-sentence hint naming them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model


class ScoreEntry(BaseModel):
    """One candidate's score."""

    model_config = ConfigDict(extra="forbid")
    id: int = Field(description="The candidate's ID as listed (1-based).")
    score: float = Field(ge=0, le=10, description="0 = certainly not, 10 = certainly yes.")


class ScoreReply(BaseModel):
    """The user agent's scores of all candidates."""

    model_config = ConfigDict(extra="forbid")
    scores: list[ScoreEntry]
    reason: str


# The keyed form's scores: the integers 0..10.
SCORE_LEVELS = tuple(range(11))


@cache
def keyed_score_reply(n_candidates: int) -> type[BaseModel]:
    """A reply with one required field per candidate, `id_1` .. `id_K`, then `reason`.

    Not the paper's list: under constrained decoding (llama.cpp grammars, vLLM guided
    JSON) the grammar itself makes every ID appear exactly once, so a small model cannot
    return an incomplete or repeated set; `as_score_reply` maps it back to `ScoreReply`.
    """
    # An enum, not ge/le bounds: grammars enforce enums, while bounds are only checked
    # after decoding (SmolLM2 wrote scores like 38967 under a bounded-number schema).
    score = (Literal[SCORE_LEVELS], Field(description="0 = certainly not, 10 = certainly yes."))
    fields = {f"id_{n}": score for n in range(1, n_candidates + 1)}
    return create_model(
        f"KeyedScoreReply{n_candidates}",
        __config__=ConfigDict(extra="forbid"),
        **fields,
        reason=(str, ...),
    )


def as_score_reply(reply: BaseModel) -> ScoreReply:
    """A `ScoreReply` (the paper's form) from a keyed reply or a `ScoreReply`."""
    if isinstance(reply, ScoreReply):
        return reply
    values = reply.model_dump()
    entries = [
        ScoreEntry(id=int(name[3:]), score=value)
        for name, value in values.items()
        if name.startswith("id_")
    ]
    return ScoreReply(scores=entries, reason=values["reason"])


class RespondReply(BaseModel):
    """What the user agent consumes from the slate and how satisfied it is."""

    model_config = ConfigDict(extra="forbid")
    chosen: list[int] = Field(
        description="IDs (1-based, as listed) the user consumes; may be empty."
    )
    satisfaction: float = Field(ge=0, le=10, description="Satisfaction with the whole list, 0-10.")
    reason: str


class MemoryReply(BaseModel):
    """A rewritten memory (user self-description or item profile)."""

    model_config = ConfigDict(extra="forbid")
    memory: str


class PromotionReply(BaseModel):
    """An item's self-promotion."""

    model_config = ConfigDict(extra="forbid")
    promotion: str


@dataclass(frozen=True)
class ScoreCheck:
    """A score reply checked against K candidates numbered 1..K.

    scores: number -> score (max over duplicates, out-of-range IDs dropped).
    """

    scores: dict[int, float]
    missing: tuple[int, ...]
    duplicated: tuple[int, ...]
    out_of_range: tuple[int, ...]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.duplicated


def check_scores(reply: ScoreReply, n_candidates: int) -> ScoreCheck:
    """Validate `reply` against candidates 1..n_candidates (TriRec's rule)."""
    scores: dict[int, float] = {}
    duplicated, out_of_range = set(), set()
    for entry in reply.scores:
        if not 1 <= entry.id <= n_candidates:
            out_of_range.add(entry.id)
        elif entry.id in scores:
            duplicated.add(entry.id)
            scores[entry.id] = max(scores[entry.id], entry.score)
        else:
            scores[entry.id] = entry.score
    missing = tuple(n for n in range(1, n_candidates + 1) if n not in scores)
    return ScoreCheck(scores, missing, tuple(sorted(duplicated)), tuple(sorted(out_of_range)))


def retry_hint(check: ScoreCheck | None, n_candidates: int) -> str:
    """The one-sentence hint of a re-ask, naming the offending IDs (or the invalid format)."""
    every = f"Give exactly one score for every ID from 1 to {n_candidates}."
    if check is None:
        return f"Your previous reply was not valid JSON of the required form. {every}"
    problems = []
    if check.missing:
        problems.append("did not score IDs " + ", ".join(map(str, check.missing)))
    if check.duplicated:
        problems.append("scored IDs " + ", ".join(map(str, check.duplicated)) + " more than once")
    return f"Your previous reply {' and '.join(problems)}. {every}"
