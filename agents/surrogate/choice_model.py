"""The surrogate user's choice model: a conditional logit fitted on the training split.

A user facing a choice set S picks item i with probability

    P(i | S) = exp(U_i / T) / sum_{j in S} exp(U_j / T),   U_i = w . x(u, i)

with the features x of `features.py` (embedding affinity, recent affinity, popularity,
category taste): McFadden's conditional logit (McFadden, 1974), the softmax choice
model of RecSim's users (Ie et al., 2019). Fitting (`fit_choice_model`):
  1. w maximises the L2-penalised likelihood of each TRAINING next item against
     `n_negatives` uniformly sampled items (sampled-softmax; L-BFGS over analytic gradients);
  2. T is then calibrated by likelihood on the VALIDATION samples (1-D search over log T),
     which corrects the over/under-confidence the regularised fit leaves;
  3. the outside option ("consume nothing") has the utility that `outside_quantile` of
     random validation items fall below: a slate must beat most random items to be consumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from recagora.agents.roles.base import ItemFacts
from recagora.agents.surrogate.features import FEATURES, candidate_features, from_histories
from recagora.item_space.types import Sample


@dataclass(frozen=True)
class ChoiceModelConfig:
    """How the choice model is fitted."""

    n_negatives: int = field(
        default=20, metadata={"help": "Random negatives per training choice set."}
    )
    max_train_samples: int = field(
        default=30_000,
        metadata={"help": "Training samples used (a seeded random subset when there are more)."},
    )
    l2: float = field(default=1e-3, metadata={"help": "L2 penalty on the weights (per sample)."})
    outside_quantile: float = field(
        default=0.9,
        metadata={"help": "Share of random items whose utility lies below the outside option."},
    )
    features: tuple[str, ...] = field(
        default=FEATURES, metadata={"help": f"Features used, a subset of {FEATURES}."}
    )
    seed: int = field(
        default=0, metadata={"help": "Seed of the sampling of training samples and negatives."}
    )

    def __post_init__(self) -> None:
        unknown = set(self.features) - set(FEATURES)
        if unknown or not self.features:
            raise ValueError(
                f"features must be a non-empty subset of {FEATURES}, got {self.features}"
            )


@dataclass(frozen=True)
class ChoiceModel:
    """A fitted model: weights over FEATURES (0 for unused ones), temperature, outside utility."""

    weights: np.ndarray  # (F,) float64
    temperature: float
    outside_utility: float
    config: ChoiceModelConfig

    def utilities(self, features: np.ndarray) -> np.ndarray:
        """(m, K) U = w . x (before the temperature) from (m, K, F) features."""
        return features.astype(np.float64) @ self.weights

    def to_dict(self) -> dict:
        """JSON-able summary (weights by feature name)."""
        return {
            "weights": dict(zip(FEATURES, self.weights.round(6).tolist(), strict=True)),
            "temperature": round(self.temperature, 6),
            "outside_utility": round(self.outside_utility, 6),
        }


def _feature_mask(config: ChoiceModelConfig) -> np.ndarray:
    return np.array([name in config.features for name in FEATURES])


def choice_sets(
    samples: list[Sample], n_items: int, n_negatives: int, rng: np.random.Generator
) -> np.ndarray:
    """(S, 1 + n_negatives) int64: the sample's target first, then uniform negatives != target."""
    targets = np.array([s.target for s in samples], np.int64)
    negatives = rng.integers(0, n_items - 1, size=(len(samples), n_negatives))
    negatives += negatives >= targets[:, None]  # skip the target without rejection sampling
    return np.concatenate([targets[:, None], negatives], axis=1)


def sample_features(facts: ItemFacts, samples: list[Sample], sets: np.ndarray) -> np.ndarray:
    """(S, 1 + n_neg, F) features of each sample's choice set, from its history only."""
    users = from_histories(facts, [s.history for s in samples])
    return candidate_features(facts, users, sets)


def _nll_and_gradient(w: np.ndarray, x: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood of column 0 under softmax(x w) and its gradient."""
    logits = x @ w  # (S, J)
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    p = np.exp(log_p)
    nll = -log_p[:, 0].mean() + l2 * w @ w
    grad = np.einsum("sj,sjf->f", p, x) / len(x) - x[:, 0].mean(axis=0) + 2 * l2 * w
    return float(nll), grad


def mean_log_likelihood(utilities: np.ndarray, temperature: float) -> float:
    """Mean log P(column 0) under softmax(utilities / T)."""
    scaled = utilities / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    return float((scaled[:, 0] - np.log(np.exp(scaled).sum(axis=1))).mean())


def calibrate_temperature(utilities: np.ndarray) -> float:
    """T maximising the held-out likelihood of column 0 (search over log T in [-4, 4])."""
    result = scipy.optimize.minimize_scalar(
        lambda log_t: -mean_log_likelihood(utilities, float(np.exp(log_t))),
        bounds=(-4.0, 4.0),
        method="bounded",
    )
    return float(np.exp(result.x))


def fit_choice_model(
    facts: ItemFacts,
    train: list[Sample],
    valid: list[Sample],
    config: ChoiceModelConfig | None = None,
) -> ChoiceModel:
    """Fit w on `train`, calibrate T and the outside option on `valid` (never on test samples)."""
    config = config or ChoiceModelConfig()
    rng = np.random.default_rng(config.seed)
    if len(train) > config.max_train_samples:
        train = [train[i] for i in rng.choice(len(train), config.max_train_samples, replace=False)]
    mask = _feature_mask(config)
    x_train = sample_features(facts, train, choice_sets(train, len(facts), config.n_negatives, rng))
    x_train = x_train[..., mask].astype(np.float64)
    result = scipy.optimize.minimize(
        _nll_and_gradient,
        np.zeros(int(mask.sum())),
        args=(x_train, config.l2),
        jac=True,
        method="L-BFGS-B",
    )
    weights = np.zeros(len(FEATURES))
    weights[mask] = result.x
    model = ChoiceModel(weights, 1.0, 0.0, config)
    valid_sets = choice_sets(valid, len(facts), config.n_negatives, rng)
    u_valid = model.utilities(sample_features(facts, valid, valid_sets))
    outside = float(np.quantile(u_valid[:, 1:], config.outside_quantile))
    return ChoiceModel(weights, calibrate_temperature(u_valid), outside, config)
