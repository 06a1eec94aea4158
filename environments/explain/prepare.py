"""Build an `explain` episode: data, item space, cohort, the user and the explainer.

Deterministic in `config.seed` (the cohort draw has its own derived generator), so a
resumed run rebuilds the context the killed one had. The learned / surrogate user reads
explanations the way it reads promotions (`agents/surrogate/features.py`): an explanation
with text vector e makes it perceive item i at v' = normalise((1 - rho_e) v_i + rho_e e)
in its two embedding affinities, rho_e = `explanation_weight`. An explanation that only
restates the item (e = v_i) changes nothing; one whose text lies nearer the user's
history than the item does raises the item's perceived relevance.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recagora.agents.registry import parse_agent_spec, resolve
from recagora.agents.roles.base import ItemFacts, build_cohort
from recagora.agents.roles.persona import persona_memory
from recagora.agents.roles.user_surrogate import SurrogateUserConfig
from recagora.environments.explain.config import DEFAULT_AGENTS, ExplainConfig
from recagora.environments.explain.graph import ExplainContext
from recagora.environments.scenario import Episode, RunServices, stage_rng
from recagora.environments.trirec.cohort import draw_cohort, training_popularity


def prepare_explain(config: ExplainConfig, services: RunServices) -> Episode:
    """Context and initial state.

    services.extras: "space" (a prebuilt `ItemSpace`; default: built from the dataset,
    cached on disk), "user" / "explainer" (prebuilt agents: tests, and benchmarks that
    replay one explainer's cached texts to several users).
    """
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.space import ItemSpace

    mix = parse_agent_spec(config.agents, DEFAULT_AGENTS)
    dataset = load_dataset(config.dataset)
    split = dataset.split("loo")
    dataset.catalog.popularity = training_popularity(dataset, split)
    rng = stage_rng(config.seed, 0, "setup.cohort")
    draw = draw_cohort(dataset, split, config.users, None, rng, config.max_history)
    space = services.extras.get("space") or ItemSpace.build(dataset.catalog)
    dataset.catalog.vectors = space.catalog.vectors
    facts = ItemFacts.from_catalog(dataset.catalog)
    llm, closers = _llm(config, services, mix.uses_llm())
    try:
        user = services.extras.get("user") or _user(mix.user, config, facts, split, space, llm)
        explainer = services.extras.get("explainer") or _explainer(mix.explainer, config, facts, dataset, llm)
    except BaseException:
        for close in closers:
            close()
        raise
    memories = _memories(facts, draw, needed=mix.user == "llm")
    context = ExplainContext(
        config=config, user=user, explainer=explainer, facts=facts, targets=draw.targets,
        sources=draw.sources, popularity=np.asarray(dataset.catalog.popularity, np.float64),
        sink=services.sink,
    )
    state = {"round": 0, "cohort": build_cohort(facts, draw.keys, draw.histories, memories),
             "events": [], "done": False}
    info = {"cohort_users": len(draw.keys), "agents": mix.versions()}
    return Episode(context, state, info=info, closers=closers)


def _llm(config: ExplainConfig, services: RunServices, needed: bool) -> tuple[Any, list]:
    """The run's LLM client (opened here when the runner gave none) and what closes it."""
    if not needed or services.llm is not None:
        return services.llm, []
    from recagora.agents.llm import open_llm

    llm = open_llm(config.llm, ledger_path=services.ledger_path)
    return llm, [llm.close]


def _user(impl: str, config: ExplainConfig, facts: ItemFacts, split, space, llm) -> Any:
    cls = resolve("user", impl)
    if impl == "llm":
        return cls(facts, llm, config=config.llm_user)
    reading = SurrogateUserConfig(promotion_weight=config.explanation_weight, per_user_events=False)
    if impl == "learned":
        from recagora.agents.learned_user.fit import fit_learned_user

        model = fit_learned_user(facts, split, seed=config.user_fit.seed)
    else:
        from recagora.agents.surrogate.choice_model import fit_choice_model

        model = fit_choice_model(facts, split.train, split.valid, config.user_fit)
    return cls(facts, model, embedder=space.embedder, config=reading)


def _explainer(impl: str, config: ExplainConfig, facts: ItemFacts, dataset, llm) -> Any:
    cls = resolve("explainer", impl)
    if impl == "seller":
        from recagora.training.seller.explainer import user_timestamps

        return cls(facts, config.seller_run, timestamps=user_timestamps(dataset))
    return cls(facts, config=config.explainer, llm=llm)


def _memories(facts: ItemFacts, draw, needed: bool) -> tuple[str, ...]:
    """The LLM user's first-person memory per user; placeholders for users that cannot read."""
    if not needed:
        return tuple(f"user {s}" for s in draw.sources)
    return tuple(
        persona_memory(facts, history, ratings)
        for history, ratings in zip(draw.histories, draw.ratings, strict=True)
    )
