"""Build a grounded episode: dataset, item space, sampled test users, shortlist, roles.

Deterministic in `config.seed`. `RunServices.extras` may carry "space" (a prebuilt
`ItemSpace`), "dataset" (a loaded `Dataset`), "choice_model" (a fitted v0 critic model), "user_model"
(a fitted learned user for the learned critic) and
"shortlist_factory" ((config, dataset, split) -> (histories, k) -> (m, k) item ids: a
trained recommender's top items, which experiments/ supplies when `config.recommender` is set).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recagora.agents.registry import resolve
from recagora.agents.roles.base import ItemFacts
from recagora.environments.grounded.config import GroundedConfig
from recagora.environments.grounded.state import GroundedContext
from recagora.environments.scenario import Episode, RunServices, stage_rng
from recagora.item_space.errors import ConfigError, DatasetError


def prepare_grounded(config: GroundedConfig, services: RunServices) -> Episode:
    """The context and initial state of a grounded episode (see module docstring for extras)."""
    extras, llm, closers = services.extras, services.llm, []
    if llm is None and "llm" in (config.role("reasoner"), config.role("feedback")):
        from recagora.agents.llm import open_llm

        llm = open_llm(config.llm, ledger_path=services.ledger_path)
        closers.append(llm.close)
    dataset, split, space = _load(config, extras)
    facts = ItemFacts.from_catalog(
        dataset.catalog, split.train_interactions.item_counts(len(dataset.catalog))
    )
    samples = _sample_users(split.test, config.users, config.seed)
    histories = tuple(tuple(s.history[-config.max_history :]) for s in samples)
    shortlists = _shortlists(config, extras, dataset, split, space)(
        histories, config.shortlist_size
    )
    reasoner = _reasoner(config, dataset.catalog, llm)
    critic = _critic(config, facts, split, llm, extras)
    context = GroundedContext(
        config, space, reasoner, critic, tuple(s.user for s in samples), histories, shortlists,
        np.array([s.target for s in samples], np.int64), services.sink, llm,
    )  # fmt: skip
    info = {
        "users": len(samples),
        "reasoner": reasoner.name,
        "critic": critic.name,
        "catalog_items": len(dataset.catalog),
    }
    return Episode(
        context, _initial_state(len(samples), config.ground_k), info=info, closers=closers
    )


def _load(config: GroundedConfig, extras: dict[str, Any]) -> tuple:
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.space import ItemSpace

    dataset = extras.get("dataset") or load_dataset(config.dataset)
    split = dataset.split(config.split, max_history=config.max_history)
    space = extras.get("space") or ItemSpace.build(dataset.catalog)
    dataset.catalog.vectors = space.catalog.vectors
    return dataset, split, space


def _shortlists(config: GroundedConfig, extras: dict[str, Any], dataset, split, space):
    """(histories, k) -> (m, k) initial shortlists: the served recommender's or the space's."""
    if not config.recommender:
        return space.neighbours_batch
    factory = extras.get("shortlist_factory")
    if factory is None:
        raise ConfigError(
            "recommender needs the trained-model wiring: start the run through `recagora run` "
            "/ experiments.runner.start_run"
        )
    return factory(config, dataset, split)


def _sample_users(test: list, n_users: int, seed: int) -> list:
    """A seeded sample of test samples, one per user (the user's first test sample)."""
    first: dict[str, Any] = {}
    for sample in test:
        if sample.history:
            first.setdefault(sample.user, sample)
    if not first:
        raise DatasetError(
            "the split has no test sample with a history; choose another dataset or split"
        )
    users = sorted(first)
    rng = stage_rng(seed, 0, "setup.users")
    chosen = rng.choice(len(users), size=min(n_users, len(users)), replace=False)
    return [first[users[i]] for i in sorted(chosen)]


def _reasoner(config: GroundedConfig, catalog, llm):
    """The registered reasoner the config names, given what its kind needs."""
    impl = config.role("reasoner")
    cls = resolve("reasoner", impl)
    if impl == "llm":
        return cls(catalog, llm, config.reasoner)
    return cls(catalog.vectors, config.reasoner)


def _critic(config: GroundedConfig, facts: ItemFacts, split, llm, extras: dict[str, Any]):
    """The registered critic (the user's feedback) the config names."""
    impl = config.role("feedback")
    cls = resolve("feedback", impl)
    if impl == "llm":
        return cls(facts, llm, config.feedback)
    if impl == "learned":
        from recagora.agents.learned_user.fit import fit_learned_user

        # Seeded by user_fit.seed, not the run seed: runs of one dataset share one cached fit.
        model = extras.get("user_model") or fit_learned_user(
            facts, split, seed=config.user_fit.seed
        )
        return cls(facts, model)
    from recagora.agents.surrogate.choice_model import fit_choice_model

    model = extras.get("choice_model") or fit_choice_model(
        facts, split.train, split.valid, config.user_fit
    )
    return cls(facts, model)


def _initial_state(n_users: int, k: int) -> dict[str, Any]:
    return {
        "round": 0,
        "transcripts": tuple(() for _ in range(n_users)),
        "open": np.ones(n_users, bool),
        "final_lists": np.full((n_users, k), -1, np.int64),
        "final_round": np.full(n_users, -1, np.int64),
        "events": [],
        "done": False,
    }
