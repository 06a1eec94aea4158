"""The learned user model: what a simulated user chooses, how interested they are, how they rate.

Utility of item i for a user with history H (oldest first, TRAINING items only):

    U(H, i) = w . [ s(H, i), affinity, recent_affinity, popularity, category_taste, e(H, i) ]

- s(H, i): the next-item logit of a SASRec encoder over H (`network.py`, trained on
  the training split with the full softmax, epochs chosen on validation: `train.py`);
  the sequential user-response model of simulators such as KuaiSim (Zhao et al., 2023);
- the other four: the v0 surrogate's features (`agents/surrogate/features.py`: cosine to
  the mean and the recency-weighted history text vectors, log popularity, category taste),
  which also let a promotion's text move the perceived item (the TriRec role);
- e(H, i): the EASE item-item score of i given the whole history (`itemitem.py`, lambda
  chosen on validation): co-occurrence over all of H where the encoder weighs recent items;
- w: a conditional logit (McFadden, 1974) fitted on the VALIDATION next items against
  sampled alternatives, each target once among items drawn uniformly (a uniform subset
  keeps the logit consistent: McFadden, 1978) and once among items drawn by training
  popularity (the sets a platform shows), so its scale
  is the fitted temperature, and the features are stacked on data the encoder was not
  trained on. The weights move with the slate (`context.py`, the linear context logit of
  Tomlinson & Benson, 2021): w(S) = w + A (mean of the slate's features - c), because one
  w was too confident on popularity slates and too timid on uniform ones.
- Calibration mirrors the suite's gap: the fidelity suite asks for the test item, which
  lies TWO steps after the training history (the validation item is between), so w, the
  outside option and the interest head are fitted on validation targets from the history
  with its last `calibration_gap - 1` items dropped (never drawn as negatives: seen).
  Calibrated one step ahead instead, the model was overconfident two steps ahead.

Choice among K candidates S: P(j) = exp(U_j) / (sum_k exp(U_k) + exp(U_0)), U_j = x_j . w(S), with an outside
option U_0 = the `outside_quantile` of the utilities of random validation items (a slate
must beat most random items to be consumed; as v0). Interest ("would you watch i?",
Agent4Rec's yes/no): sigmoid(a . x(H, i) + b . log rank(H, i) + c), x the six fused
features, rank = the shares of the catalog whose sequence logit (item-item score) is at
least s(H, i) (e(H, i)) (a per-user normalisation: a threshold on raw utilities would
differ between users with broad and narrow tastes), fitted by logistic regression on validation targets against as many
never-seen items (1:1). Shown a list ("which of these would you watch?", Agent4Rec's protocol):
the list head of `list_choice.py` compares the items' interest logits within the list. Ratings (where the dataset has them): the ordinal SVD++ of
`rating.py`, a distribution over the dataset's levels. Leaving stays with `agents/roles/satisfaction.py`:
no public log records exits, so there is nothing to fit a leave model on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.optimize
import torch

from recagora.agents.learned_user.context import SlateContext, context_utilities
from recagora.agents.learned_user.itemitem import ItemItemConfig, ease_scores
from recagora.agents.learned_user.network import EncoderConfig, SequenceEncoder, final_states
from recagora.agents.learned_user.rating import RatingConfig, RatingHead
from recagora.agents.learned_user.train import TrainConfig
from recagora.agents.roles.base import ItemFacts
from recagora.agents.surrogate.features import (
    PromotionVectors,
    UserFeatures,
    candidate_features,
    from_histories,
)

FUSED = ("sequence", "affinity", "recent_affinity", "popularity", "category_taste", "item_item")


@dataclass(frozen=True)
class LearnedUserConfig:
    """Everything that shapes a fit (all of it enters the cache key)."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig, metadata={"help": "Sequence encoder size."})
    train: TrainConfig = field(default_factory=TrainConfig, metadata={"help": "Encoder training budget."})
    rating: RatingConfig = field(default_factory=RatingConfig, metadata={"help": "Rating head."})
    n_negatives: int = field(default=9, metadata={"help": "Alternatives per calibration choice set when w is fitted (9: the suite's K = 10 slates)."})
    max_valid_samples: int = field(default=5000, metadata={"help": "Validation samples used for w, the outside option and interest (seeded subset)."})
    outside_quantile: float = field(default=0.9, metadata={"help": "Share of random items whose utility lies below the outside option."})
    item_item: ItemItemConfig = field(default_factory=ItemItemConfig, metadata={"help": "EASE item-item signal."})
    calibration_gap: int = field(default=2, metadata={"help": "Steps from a calibration history's end to its target (the suite's test item is 2 after the training history)."})
    context_l2: tuple[float, ...] = field(default=(1e-4, 1e-3, 1e-2, 1e-1), metadata={"help": "L2 grid of the slate-context matrix A (`context.py`), chosen by 2-fold cross-validation on the validation sets."})
    threads: int = field(default=1, metadata={"help": "torch CPU threads while fitting (more than the free cores makes OpenMP spin: 1 on a shared machine)."})


@dataclass
class ChoicePart:
    """The fitted choice side: encoder, w over FUSED, outside utility, interest head, fit log,
    EASE B, list head and the slate context of w."""

    encoder: SequenceEncoder
    weights: np.ndarray  # (6,) over FUSED
    outside_utility: float
    interest: np.ndarray | None  # (9,) over `interest_design` (None until fitted)
    log: dict
    item_item: np.ndarray | None = None  # (N, N) EASE B (`itemitem.py`)
    list_head: Any = None  # `list_choice.ListHead`, fitted on validation lists after the interest head
    context: SlateContext | None = None  # w's shift with the slate (`context.py`); None = one w


@dataclass
class LearnedUserModel:
    """A learned user (see the module docstring); a `UserModel` for the fidelity suite.

    Each side is fitted (or loaded from the cache) on first use: a TriRec run never fits
    the rating head, a rating-only evaluation (ML-100K's u1..u5 folds) never the encoder.

    user_keys: dataset user keys; `users[r]` of the suite's calls is a position in it
        (-1 or out of range = a user the rating head has not seen: read from the history).
    """

    facts: ItemFacts
    user_keys: tuple[str, ...]
    fit_choice: Callable[[], ChoicePart]
    fit_rating: Callable[[], RatingHead | None]
    name: str = "learned"
    temperature: float = 1.0  # w already carries the fitted scale (read by the TriRec role)

    @cached_property
    def choice(self) -> ChoicePart:
        return self.fit_choice()

    @cached_property
    def rating(self) -> RatingHead | None:
        return self.fit_rating()

    @property
    def outside_utility(self) -> float:
        return self.choice.outside_utility

    def utilities(
        self,
        histories: Sequence[Sequence[int]],
        candidates: np.ndarray,
        users: UserFeatures | None = None,
        promotions: PromotionVectors | None = None,
        promotion_weight: float = 0.0,
    ) -> np.ndarray:
        """(n, K) U of each row's candidates; `users` = the histories' surrogate features."""
        part = self.choice
        x, _ = fused_features(self.facts, part.encoder, histories, candidates, users, promotions,
                              promotion_weight, item_item=part.item_item)
        return context_utilities(x, part.weights, part.context)

    def fit_summary(self) -> dict:
        """What the choice fit chose (for the fidelity report): encoder epochs, EASE lambda, w, list head."""
        log = self.choice.log
        return {
            "encoder_epochs": log["encoder"]["epochs"],
            "encoder_best_epoch": log["encoder"]["best_epoch"],
            "item_item_lambda": log.get("item_item", {}).get("lambda"),
            "utility_weights": dict(zip(FUSED, np.asarray(self.choice.weights).round(4).tolist(), strict=True)),
            "outside_utility": round(float(self.outside_utility), 4),
            "context_l2": log.get("context", {}).get("l2"),
            "list_head": None if self.choice.list_head is None else self.choice.list_head.as_dict(),
        }

    def choice_probabilities(self, users, histories, candidates: np.ndarray) -> np.ndarray:
        """(n, K) P(pick j); each row leaves the rest to the outside option."""
        u = self.utilities(histories, np.asarray(candidates, np.int64))
        top = np.maximum(u.max(axis=1, keepdims=True), self.outside_utility)
        weight = np.exp(u - top)
        return weight / (weight.sum(axis=1, keepdims=True) + np.exp(self.outside_utility - top))

    def interest_probabilities(self, users, histories, items: np.ndarray) -> np.ndarray:
        """(n,) P(yes) that user r would watch / buy items[r] shown alone."""
        return _sigmoid(interest_logits(self.facts, self.choice, histories, np.asarray(items, np.int64)[:, None])[:, 0])

    def list_interest_probabilities(self, users, histories, lists: np.ndarray) -> np.ndarray:
        """(n, L) P(user r picks each item of the list it is shown together): the list head of
        `list_choice.py` over the items' alone logits."""
        part = self.choice
        return part.list_head.probabilities(interest_logits(self.facts, part, histories, np.asarray(lists, np.int64)))

    def rating_probabilities(self, users, histories, items: np.ndarray, levels: np.ndarray) -> np.ndarray | None:
        """(n, L) P(level) over `levels` (levels the data never used get 0), or None without ratings."""
        if self.rating is None:
            return None
        keys = [self.user_keys[u] if 0 <= u < len(self.user_keys) else None for u in map(int, users)]
        probs = self.rating.probabilities(keys, histories, items)
        out = np.zeros((len(probs), len(levels)))
        for column, level in enumerate(self.rating.levels):
            out[:, np.flatnonzero(np.isclose(levels, level))] = probs[:, [column]]
        return out


def fused_features(
    facts: ItemFacts,
    encoder: SequenceEncoder,
    histories: Sequence[Sequence[int]],
    candidates: np.ndarray,
    users: UserFeatures | None = None,
    promotions: PromotionVectors | None = None,
    promotion_weight: float = 0.0,
    budget: int = 2**24,
    item_item: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(n, K, 6) features over FUSED and (n, K, 2) log catalog rank fractions of each
    candidate's sequence logit and item-item score (log of the share of catalog items
    scoring at least as high). item_item: (N, N) EASE B (`itemitem.py`); None = zeros."""
    users = users if users is not None else from_histories(facts, histories)
    surrogate = candidate_features(facts, users, candidates, promotions, promotion_weight)
    scores = np.zeros((*candidates.shape, 2), np.float32)
    rank = np.zeros((*candidates.shape, 2), np.float32)
    block = max(1, budget // (candidates.shape[1] * len(facts)))  # rows per (B, K, N) comparison
    for start in range(0, len(candidates), block):
        part = slice(start, start + block)
        index = torch.as_tensor(candidates[part])
        with torch.no_grad():
            tables = [encoder.logits(final_states(encoder, list(histories[part])))]
        if item_item is not None:
            tables.append(ease_scores(item_item, histories[part]))
        for column, table in enumerate(tables):
            scores[part, :, column], rank[part, :, column] = score_and_rank(table, index)
    x = np.concatenate([scores[..., :1], surrogate, scores[..., 1:]], axis=-1)
    return x.astype(np.float64), rank.astype(np.float64)


def score_and_rank(table: torch.Tensor, index: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """(B, K) scores of the candidates in a (B, N) table and their log catalog rank fraction."""
    chosen = torch.gather(table, 1, index)
    above = (table[:, None, :] >= chosen[:, :, None]).sum(-1)
    return chosen.numpy(), torch.log(above / table.shape[1]).numpy()


def interest_logits(facts: ItemFacts, part: ChoicePart, histories: Sequence[Sequence[int]], items: np.ndarray) -> np.ndarray:
    """(n, L) logit of the interest head (P(yes) shown alone) of each row's items (n, L)."""
    x, rank = fused_features(facts, part.encoder, histories, items, item_item=part.item_item)
    design = interest_design(x.reshape(-1, x.shape[-1]), rank.reshape(-1, rank.shape[-1]))
    return (design @ part.interest).reshape(items.shape)


def interest_design(x: np.ndarray, log_rank: np.ndarray) -> np.ndarray:
    """(n, 9) inputs of the interest head: the (n, 6) fused features, the (n, 2) log catalog
    rank fractions, 1 (the features, not only U = x w: "would watch" weighs them differently
    from "picks among these", and a rank is a per-user normalisation a raw score lacks)."""
    return np.concatenate([x, log_rank, np.ones((len(x), 1))], axis=1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-4) -> np.ndarray:
    """(F + 1,) coefficients then intercept of an L2-penalised logistic regression of y on x."""
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1)

    def objective(beta: np.ndarray) -> tuple[float, np.ndarray]:
        p = _sigmoid(design @ beta)
        eps = 1e-12
        nll = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
        return float(nll + l2 * beta[:-1] @ beta[:-1]), design.T @ (p - y) / len(y) + 2 * l2 * np.r_[beta[:-1], 0.0]

    return scipy.optimize.minimize(objective, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x
