"""The hybrid user: the learned model decides, the LLM's yes-probability is one more signal.

For user r and candidate j, with p_rj the learned model's choice probability and y_rj
the LLM's P(yes) for "would you watch j?" (one forward pass, `LLMUserModel`):

    choice_rj   = m_r * softmax_j( log p_rj + w * logit y_rj )   (m_r = sum_j p_rj)
    interest_r  = sigmoid( logit q_r + w * logit y_r )          (q_r: learned interest)
    list_rj     = sigmoid( logit l_rj + w * logit y_rj )        (l_rj: the learned model's pick
                  of j in the list shown; its alone answer when it has no list method)
    rating      = the learned model's (the LLM adds words, not ratings)

m_r keeps the learned model's outside-option mass ("none of these"): the LLM reweights
the candidates, it does not decide whether a choice is made. So w = 0 IS the learned
model, exactly, and the LLM is not even called.

w must come from validation, never from the test users the suite scores:
`select_weight` picks it from a small grid by the choice log-likelihood of the split's
VALIDATION targets among seeded sampled negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import expit, log_softmax, logit

from recagora.agents.llm_user_model import LLMUserModel
from recagora.item_space.fidelity.heldout import (
    FidelityError,
    sample_negatives,
    training_user_keys,
    with_positive,
)
from recagora.item_space.types import Split
from recagora.item_space.user_model import ListUserModel, UserModel

# Probabilities are clipped away from 0 and 1 so a certain answer gives a finite logit.
EPS = 1e-6
DEFAULT_GRID = (0.0, 0.25, 0.5, 1.0, 2.0)


class HybridConfig(BaseModel):
    """How much the LLM's yes-probability moves the learned user's decisions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weight: float = Field(
        0.0,
        ge=0.0,
        description="w on logit P_llm(yes); 0 = pure learned decisions. Pick it on the "
        "VALIDATION split (select_weight), never on test users.",
    )


class HybridUserModel:
    """`UserModel` blending a learned user model with an LLM user's P(yes).

    Args:
        learned: the fitted learned user model (decisions and ratings).
        llm: an `LLMUserModel` (its P(yes) per candidate is the blended signal).
        config: the blend weight w.
    """

    name = "hybrid"

    def __init__(
        self, learned: UserModel, llm: LLMUserModel, config: HybridConfig | None = None
    ) -> None:
        self.learned, self.llm = learned, llm
        self.config = config or HybridConfig()
        self.selection: WeightChoice | None = None  # set by whoever picked w (select_weight)

    def fit_summary(self) -> dict:
        """What the fidelity report shows of this model: w and, when it was picked on
        validation, the validation log-likelihood of each w of the grid."""
        summary: dict = {"weight": self.config.weight}
        if self.selection is not None:
            summary["validation_log_likelihood"] = {
                str(w): ll for w, ll in self.selection.log_likelihood.items()
            }
            summary["validation_users"] = self.selection.users
        return summary

    def choice_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], candidates: np.ndarray
    ) -> np.ndarray:
        learned = self.learned.choice_probabilities(users, histories, candidates)
        if self.config.weight == 0:
            return np.asarray(learned, np.float64)
        return blend_choice(learned, self.llm_yes(users, histories, candidates), self.config.weight)

    def interest_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], items: np.ndarray
    ) -> np.ndarray:
        learned = np.asarray(self.learned.interest_probabilities(users, histories, items))
        if self.config.weight == 0:
            return learned.astype(np.float64)
        yes = self.llm.interest_probabilities(users, histories, items)
        return expit(_logit(learned) + self.config.weight * _logit(yes))

    def list_interest_probabilities(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], lists: np.ndarray
    ) -> np.ndarray:
        lists = np.asarray(lists, np.int64)
        if isinstance(self.learned, ListUserModel):
            learned = np.asarray(self.learned.list_interest_probabilities(users, histories, lists))
        else:  # the fidelity suite's fallback: each item asked alone
            width = lists.shape[1]
            rows = [h for h in histories for _ in range(width)]
            flat = self.learned.interest_probabilities(np.repeat(users, width), rows, lists.reshape(-1))
            learned = np.asarray(flat).reshape(lists.shape)
        if self.config.weight == 0:
            return learned.astype(np.float64)
        return expit(_logit(learned) + self.config.weight * _logit(self.llm_yes(users, histories, lists)))

    def rating_probabilities(
        self,
        users: Sequence[int],
        histories: Sequence[Sequence[int]],
        items: np.ndarray,
        levels: np.ndarray,
    ) -> np.ndarray | None:
        return self.learned.rating_probabilities(users, histories, items, levels)

    def llm_yes(
        self, users: Sequence[int], histories: Sequence[Sequence[int]], candidates: np.ndarray
    ) -> np.ndarray:
        """(n, K) the LLM's P(yes) for every candidate: its unnormalised answers, since the
        LLM user's own choice rows are normalised, which loses the logit this blend needs."""
        return np.asarray(self.llm.yes_probabilities(users, histories, candidates), np.float64)


def blend_choice(learned: np.ndarray, yes: np.ndarray, weight: float) -> np.ndarray:
    """(n, K) m_r * softmax_j(log p_rj + w * logit y_rj); m_r = the learned row's mass."""
    learned = np.asarray(learned, np.float64)
    mass = learned.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):  # a zero learned probability stays zero
        scores = np.log(learned) + weight * _logit(yes)
    return mass * np.exp(log_softmax(scores, axis=1))


@dataclass(frozen=True)
class WeightChoice:
    """The chosen w and the validation choice log-likelihood (mean per user) of each w."""

    weight: float
    log_likelihood: dict[float, float]
    users: int


def select_weight(
    learned: UserModel,
    llm: LLMUserModel,
    split: Split,
    n_items: int,
    grid: Sequence[float] = DEFAULT_GRID,
    users: int = 50,
    candidates: int = 20,
    seed: int = 0,
) -> WeightChoice:
    """Pick w from `grid` by the mean log-likelihood of the VALIDATION target among
    `candidates` - 1 uniform negatives (none the user ever met), for `users` seeded users.

    Both models are asked once; every w is then scored by arithmetic. Ties go to the
    smaller w (the learned model needs no LLM)."""
    if candidates < 2:
        raise FidelityError(f"select_weight: candidates={candidates}; a choice needs at least 2")
    rng = np.random.default_rng(seed)
    cases = _validation_cases(split, users, rng)
    user_ids, histories, targets, seen = cases
    negatives = sample_negatives(np.ones(n_items), seen, candidates - 1, rng, "select_weight")
    rows, positives = with_positive(negatives, targets, rng)
    hybrid = HybridUserModel(learned, llm)
    learned_rows = np.asarray(learned.choice_probabilities(user_ids, histories, rows), np.float64)
    yes = hybrid.llm_yes(user_ids, histories, rows)
    scores = {}
    for weight in sorted(float(w) for w in grid):
        probs = blend_choice(learned_rows, yes, weight)
        conditional = probs / np.maximum(probs.sum(axis=1, keepdims=True), 1e-300)
        picked = conditional[np.arange(len(rows)), positives]
        scores[weight] = float(np.mean(np.log(np.maximum(picked, 1e-300))))
    best = max(scores, key=lambda w: (scores[w], -w))
    return WeightChoice(weight=best, log_likelihood=scores, users=len(rows))


def _validation_cases(split: Split, users: int, rng: np.random.Generator):
    """Seeded validation samples whose target is not already in the training history."""
    keys = {key: row for row, key in enumerate(training_user_keys(split))}
    test_targets = {sample.user: sample.target for sample in split.test}
    usable = [s for s in split.valid if s.user in keys and s.target not in set(s.history)]
    if not usable:
        raise FidelityError("select_weight: the split has no validation target to pick w on")
    picked = rng.choice(len(usable), size=min(users, len(usable)), replace=False)
    samples = [usable[i] for i in sorted(picked)]
    seen = [frozenset((*s.history, s.target, test_targets.get(s.user, s.target))) for s in samples]
    return (
        np.array([keys[s.user] for s in samples], np.int64),
        [tuple(s.history) for s in samples],
        np.array([s.target for s in samples], np.int64),
        seen,
    )


def _logit(probabilities) -> np.ndarray:
    return logit(np.clip(np.asarray(probabilities, np.float64), EPS, 1 - EPS))
