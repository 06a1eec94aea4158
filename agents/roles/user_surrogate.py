"""The surrogate user agent: the fitted choice model instead of an LLM, vectorised over the cohort.

- score: r(u, i) = 10 * sigmoid((U_ui - mean_j U_uj) / T), U from the choice model with
  each candidate perceived through its promotion (`features.py`, weight `promotion_weight`);
- respond: a position-based examination model (item at 0-based position k examined with
  probability 1 / log2(k + 2); Craswell et al., WSDM 2008), then one softmax choice
  (Gumbel-max sampling) among the examined items and the outside option ("nothing");
  the round's satisfaction q_t = P(consume) with the expected examination;
- reflect: consumed items join the history; `satisfaction.py` decides who leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from recagora.agents.roles.base import (
    ItemFacts,
    Promotions,
    Responses,
    Scores,
    UserCohort,
    append_consumed,
)
from recagora.agents.roles.satisfaction import PatienceConfig, update_patience
from recagora.agents.surrogate.choice_model import ChoiceModel
from recagora.agents.surrogate.features import PromotionVectors, candidate_features, from_cohort


class TextEmbedder(Protocol):
    """Anything that embeds texts: (len(texts), d) float32 (e.g. `recagora.item_space` embedders)."""

    def embed(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class SurrogateUserConfig:
    """The surrogate user's reading of promotions, its exit rule and its event detail."""

    promotion_weight: float = field(
        default=0.2,
        metadata={
            "help": "rho: how far a promotion moves the perceived item vector toward the promotion text's vector (0 = ignore ads)."
        },
    )
    patience: PatienceConfig = field(
        default_factory=PatienceConfig, metadata={"help": "Satisfaction smoothing and exit rule."}
    )
    per_user_events: bool = field(
        default=True,
        metadata={
            "help": "One event per user and step (False: one summary per call, for 100k-user runs)."
        },
    )


class SurrogateUserAgent:
    """No LLM: a conditional logit fitted on the training split (see `surrogate/choice_model.py`).

    Args:
        facts: catalog vectors, categories, training popularity.
        model: the fitted choice model.
        embedder: embeds promotion texts (cached per text here); None = promotions are ignored.
    """

    name = "surrogate"

    def __init__(
        self,
        facts: ItemFacts,
        model: ChoiceModel,
        embedder: TextEmbedder | None = None,
        config: SurrogateUserConfig | None = None,
    ) -> None:
        self.facts, self.model, self.embedder = facts, model, embedder
        self.config = config or SurrogateUserConfig()
        self._text_rows: dict[str, int] = {}
        self._text_vectors = np.zeros((0, facts.vectors.shape[1]), np.float32)
        self._scored: _ScoredRound | None = None  # this round's score utilities, for respond

    def utilities(
        self, cohort: UserCohort, idx: np.ndarray, items: np.ndarray, promotions: Promotions
    ) -> np.ndarray:
        """(m, K) U_ui of each user's `items` as perceived through their promotions."""
        promo = self._promotion_vectors(promotions)
        users = from_cohort(cohort, idx)
        x = candidate_features(self.facts, users, items, promo, self.config.promotion_weight)
        return self.model.utilities(x)

    async def score(
        self, cohort: UserCohort, idx: np.ndarray, candidates: np.ndarray, promotions: Promotions
    ) -> Scores:
        """Scores 0-10 for every candidate (always complete)."""
        utilities = self.utilities(cohort, idx, candidates, promotions)
        self._scored = _ScoredRound(cohort, idx, candidates, promotions.ids, utilities)
        u = utilities / self.model.temperature
        scores = 10.0 / (1.0 + np.exp(-(u - u.mean(axis=1, keepdims=True))))
        events = self._events(
            "score", cohort, idx, lambda rounded: {"scores": rounded}, lambda: [scores.round(3)]
        )
        return Scores(
            scores=scores, complete=np.ones(len(idx), bool), reasons=[""] * len(idx), events=events
        )

    async def respond(
        self,
        cohort: UserCohort,
        idx: np.ndarray,
        slates: np.ndarray,
        promotions: Promotions,
        rng: np.random.Generator,
    ) -> Responses:
        """Examine the slate by position, consume at most one item (or nothing)."""
        t = self.model.temperature
        u = self._slate_utilities(cohort, idx, slates, promotions) / t  # (m, S)
        outside = self.model.outside_utility / t
        examine = 1.0 / np.log2(np.arange(slates.shape[1]) + 2.0)
        seen = rng.random(slates.shape) < examine
        noisy = np.where(seen, u + rng.gumbel(size=u.shape), -np.inf)
        best = noisy.argmax(axis=1)
        consumed = noisy[np.arange(len(idx)), best] > outside + rng.gumbel(size=len(idx))
        chosen = np.where(consumed, slates[np.arange(len(idx)), best], -1)
        weight = examine * np.exp(u - outside)  # exp(u - outside) keeps the ratio stable
        satisfaction = weight.sum(axis=1) / (1.0 + weight.sum(axis=1))
        events = self._events(
            "respond",
            cohort,
            idx,
            lambda item, q: {"chosen": item, "q": round(q, 4)},
            lambda: [chosen, satisfaction],
        )
        return Responses(
            chosen=chosen.astype(np.int64), round_satisfaction=satisfaction, events=events
        )

    def _slate_utilities(
        self, cohort: UserCohort, idx: np.ndarray, slates: np.ndarray, promotions: Promotions
    ) -> np.ndarray:
        """(m, S) utilities of the slates: the scored candidates' utilities re-ordered when the
        slates re-order this round's scored candidates and ads (the usual case: a utility
        depends on the user, the item and its ad, never on the column), else computed."""
        scored, self._scored = self._scored, None
        order = scored.order_of(cohort, idx, slates, promotions.ids) if scored else None
        if order is None:
            return self.utilities(cohort, idx, slates, promotions)
        return np.take_along_axis(scored.utilities, order, axis=1)

    async def reflect(
        self,
        cohort: UserCohort,
        idx: np.ndarray,
        slates: np.ndarray,
        responses: Responses,
        rng: np.random.Generator,
    ) -> tuple[UserCohort, list[dict]]:
        """Consumed items join the history; satisfaction and exits update."""
        took = responses.chosen >= 0  # only consumers' rows change: the others add nothing
        consumed = responses.chosen[took, None].tolist()
        cohort = append_consumed(cohort, self.facts, idx[took], consumed)
        cohort, left = update_patience(cohort, idx, responses, self.config.patience, rng)
        events = self._events("reflect", cohort, idx, lambda gone: {"left": gone}, lambda: [left])
        return cohort, events

    def _promotion_vectors(self, promotions: Promotions) -> PromotionVectors | None:
        """Promotion text vectors, embedding each distinct text once per agent."""
        if self.embedder is None or self.config.promotion_weight == 0.0 or not promotions.any():
            return None
        used = np.unique(promotions.ids)  # table rows in use (0 = no promotion)
        texts = [promotions.table[i] for i in used.tolist()]
        new = sorted({t for t in texts if t and t not in self._text_rows})
        if new:
            vectors = np.asarray(self.embedder.embed(new), np.float32)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            self._text_rows.update({t: len(self._text_vectors) + j for j, t in enumerate(new)})
            self._text_vectors = np.concatenate([self._text_vectors, vectors])
        vector_row = np.full(len(promotions.table), -1, np.int64)
        vector_row[used] = [self._text_rows[t] if t else -1 for t in texts]
        return PromotionVectors(ids=vector_row[promotions.ids], vectors=self._text_vectors)

    def _events(
        self, kind: str, cohort: UserCohort, idx: np.ndarray, detail, columns
    ) -> list[dict]:
        """One event per user: detail(*row) over the rows of the arrays `columns()` returns
        (each converted to Python values once, not one numpy scalar per user)."""
        head = {"role": "user", "impl": self.name, "kind": kind}
        if not self.config.per_user_events:
            return [{**head, "users": len(idx)}]
        rows = zip(*(column.tolist() for column in columns()), strict=True)
        keys = cohort.keys
        return [
            {**head, "user": keys[u], **detail(*row)}
            for u, row in zip(idx.tolist(), rows, strict=True)
        ]


@dataclass(frozen=True)
class _ScoredRound:
    """What `score` computed this round, kept until `respond` (never checkpointed)."""

    cohort: UserCohort
    idx: np.ndarray
    candidates: np.ndarray
    promotion_ids: np.ndarray
    utilities: np.ndarray

    def order_of(
        self, cohort: UserCohort, idx: np.ndarray, slates: np.ndarray, promotion_ids: np.ndarray
    ) -> np.ndarray | None:
        """(m, S) candidate columns with slates = candidates taken by them, or None when the
        slates are not a re-ordering of the same users' scored candidates and ads."""
        if cohort is not self.cohort or not np.array_equal(idx, self.idx):
            return None
        if slates.shape != self.candidates.shape:
            return None
        order = column_order(self.candidates, slates)
        same_items = np.array_equal(np.take_along_axis(self.candidates, order, 1), slates)
        same_ads = np.array_equal(np.take_along_axis(self.promotion_ids, order, 1), promotion_ids)
        return order if same_items and same_ads else None


def column_order(candidates: np.ndarray, slates: np.ndarray) -> np.ndarray:
    """(m, K) for each slate entry, a column of its row's candidates holding the same item
    (rows hold distinct items; an item absent from its row maps to some column, so callers
    check the result)."""
    m, k = candidates.shape
    sorter = np.argsort(candidates, axis=1, kind="stable")
    span = int(max(candidates.max(initial=0), slates.max(initial=0))) + 1
    offset = np.arange(m, dtype=np.int64)[:, None] * span  # rows never mix in one search
    keys = (np.take_along_axis(candidates, sorter, 1) + offset).ravel()
    found = np.searchsorted(keys, (slates + offset).ravel()).reshape(m, k)
    found = np.minimum(found - np.arange(m)[:, None] * k, k - 1).clip(0)
    return np.take_along_axis(sorter, found, axis=1)
