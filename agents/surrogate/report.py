"""How well the surrogate user's choice model predicts held-out choices, against popularity alone.

Two views on the TEST samples of a split (the model saw only train; T was set on valid):
  - log-likelihood of the true next item in a choice set of it + `eval_negatives` random
    items (the same sets for every model; a uniform guess scores -log(1 + eval_negatives));
  - NDCG@10 / HR@10 of the true next item when the model ranks the whole catalog
    (the user's history excluded).
The popularity-only model is the same conditional logit with the popularity feature only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from recagora.agents.roles.base import ItemFacts
from recagora.agents.surrogate.choice_model import (
    ChoiceModel,
    ChoiceModelConfig,
    choice_sets,
    fit_choice_model,
    mean_log_likelihood,
    sample_features,
)
from recagora.agents.surrogate.features import (
    UserFeatures,
    from_histories,
    item_category_weights,
    standardised_log_popularity,
)
from recagora.item_space.metrics.accuracy import hit_rate_at_k, ndcg_at_k
from recagora.item_space.types import Sample, Split


@dataclass(frozen=True)
class FitReport:
    """Held-out fit of the choice model and of the popularity-only baseline (higher is better)."""

    n_test: int
    eval_negatives: int
    model_log_likelihood: float
    popularity_log_likelihood: float
    uniform_log_likelihood: float
    model_ndcg10: float
    popularity_ndcg10: float
    model_hr10: float
    popularity_hr10: float
    model: dict
    popularity_model: dict

    def to_dict(self) -> dict:
        return asdict(self)


def all_item_utilities(
    model: ChoiceModel, facts: ItemFacts, users: UserFeatures, block: int = 1024
) -> np.ndarray:
    """(m, N) utilities of every catalog item (features by matrix products, no promotions)."""
    popularity = standardised_log_popularity(facts.popularity).astype(np.float64)
    weights_c = item_category_weights(facts)
    w = model.weights
    out = np.empty((len(users.mean), len(facts)), np.float64)
    for start in range(0, len(out), block):
        part = slice(start, start + block)
        u = w[0] * (users.mean[part] @ facts.vectors.T) + w[1] * (
            users.recent[part] @ facts.vectors.T
        )
        u += w[2] * popularity
        if weights_c.shape[1]:
            u += w[3] * np.log(users.category_pref[part] @ weights_c.T + 1e-6)
        out[part] = u
    return out


def rank_catalog(
    model: ChoiceModel, facts: ItemFacts, samples: list[Sample], k: int = 10
) -> np.ndarray:
    """(S, k) top-k item ids per sample, its history excluded."""
    utilities = all_item_utilities(
        model, facts, from_histories(facts, [s.history for s in samples])
    )
    for row, sample in enumerate(samples):
        utilities[row, list(sample.history)] = -np.inf
    top = np.argpartition(-utilities, k, axis=1)[:, :k]
    return np.take_along_axis(
        top, np.argsort(-np.take_along_axis(utilities, top, 1), axis=1), axis=1
    )


def fit_with_report(
    facts: ItemFacts,
    split: Split,
    config: ChoiceModelConfig | None = None,
    eval_negatives: int = 99,
) -> tuple[ChoiceModel, FitReport]:
    """Fit the choice model and the popularity-only baseline on `split`; report both on its test samples."""
    config = config or ChoiceModelConfig()
    model = fit_choice_model(facts, split.train, split.valid, config)
    popularity = fit_choice_model(
        facts, split.train, split.valid, replace(config, features=("popularity",))
    )
    test = split.test
    sets = choice_sets(test, len(facts), eval_negatives, np.random.default_rng(config.seed + 1))
    features = sample_features(facts, test, sets)
    targets = np.array([s.target for s in test], np.int64)
    ranked = {
        name: rank_catalog(m, facts, test) for name, m in (("model", model), ("pop", popularity))
    }
    report = FitReport(
        n_test=len(test),
        eval_negatives=eval_negatives,
        model_log_likelihood=mean_log_likelihood(model.utilities(features), model.temperature),
        popularity_log_likelihood=mean_log_likelihood(
            popularity.utilities(features), popularity.temperature
        ),
        uniform_log_likelihood=float(-np.log(1 + eval_negatives)),
        model_ndcg10=ndcg_at_k(ranked["model"], targets, 10),
        popularity_ndcg10=ndcg_at_k(ranked["pop"], targets, 10),
        model_hr10=hit_rate_at_k(ranked["model"], targets, 10),
        popularity_hr10=hit_rate_at_k(ranked["pop"], targets, 10),
        model=model.to_dict(),
        popularity_model=popularity.to_dict(),
    )
    return model, report
