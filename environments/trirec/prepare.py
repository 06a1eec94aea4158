"""Build a TriRec episode: data, item space, cohort, agents, initial state.

Everything here is deterministic in `config.seed` (the cohort draw uses its own
derived generator), so `--resume` rebuilds exactly the context the killed run had.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recagora.agents.roles.base import ItemAgent, ItemFacts, PlatformAgent, UserAgent, build_cohort
from recagora.environments.scenario import Episode, RunServices, stage_rng
from recagora.environments.trirec.candidates import SCORED_SOURCES, candidate_function
from recagora.environments.trirec.cohort import CohortDraw, draw_cohort, training_popularity
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.nodes import TrirecContext
from recagora.environments.trirec.roles import build_roles, needs_llm
from recagora.item_space.errors import ConfigError


@dataclass
class World:
    """What role builders may read: the dataset and its leave-one-out split, the embedded
    facts and item space, the drawn users, the run's LLM client (None without LLM roles)."""

    config: TrirecConfig
    dataset: Any
    split: Any
    facts: ItemFacts
    space: Any
    draw: CohortDraw
    llm: Any


@dataclass
class Roles:
    """The three TriRec roles of one episode, the users' starting memories, setup facts."""

    user: UserAgent
    item: ItemAgent
    platform: PlatformAgent
    memories: tuple[str, ...]
    info: dict[str, Any] = field(default_factory=dict)


RolesFactory = Callable[[World], Roles]


def prepare_trirec(config: TrirecConfig, services: RunServices) -> Episode:
    """The context and initial state of a TriRec episode.

    Args:
        services: the runner's sink, optionally an opened LLM client, and extras:
            "roles_factory" (World -> Roles; default: the `config.agents` spec) and
            "space" (a prebuilt `ItemSpace`; default: built from the dataset, cached on disk).
    """
    if needs_llm(config.agents) and services.llm is None:  # bad specs fail before any data loads
        from recagora.agents.llm.specs import parse_spec

        parse_spec(config.llm)
    world = load_world(config, services.llm, services.extras.get("space"))
    candidate_fn = _candidate_fn(world, services.extras)  # before any LLM server starts
    closers: list = []
    if world.llm is None and needs_llm(config.agents):
        from recagora.agents.llm import open_llm

        world.llm = open_llm(config.llm, ledger_path=services.ledger_path)  # after the data checks: no server start for bad input
        closers.append(world.llm.close)
    try:
        roles = services.extras.get("roles_factory", build_roles)(world)
    except BaseException:
        for close in closers:
            close()
        raise
    info = {
        "cohort_users": len(world.draw.keys),
        "synthetic_population": world.draw.synthetic,
        **roles.info,
    }
    episode = Episode(
        _context(world, roles, services, candidate_fn),
        _initial_state(world, roles),
        info=info,
        closers=closers,
    )
    return episode


def load_world(config: TrirecConfig, llm: Any = None, space: Any = None) -> World:
    """Dataset + item space (embedded catalog with training popularity) + the drawn cohort."""
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.space import ItemSpace

    dataset = load_dataset(config.dataset)
    split = dataset.split("loo")
    dataset.catalog.popularity = training_popularity(dataset, split)
    rng = stage_rng(config.seed, 0, "setup.cohort")
    draw = draw_cohort(dataset, split, config.users, config.population, rng, config.max_history)
    space = space or ItemSpace.build(dataset.catalog)  # after the cheap checks above
    dataset.catalog.vectors = space.catalog.vectors
    return World(config, dataset, split, ItemFacts.from_catalog(dataset.catalog), space, draw, llm)


def _candidate_fn(world: World, extras: dict[str, Any]) -> Any:
    """The candidate hook for `config.candidates.source`.

    extras["candidate_scorer_factory"]: (config, dataset, split) -> scorer (histories ->
    (m, N) scores), trained on `split.train_interactions` only; experiments/ supplies it
    for sources "sasrec" and "recommender" (training code lives above this floor).
    """
    config = world.config
    scorer = None
    if config.candidates.source in SCORED_SOURCES:
        factory = extras.get("candidate_scorer_factory")
        if factory is None:
            source = config.candidates.source
            raise ConfigError(
                f"candidates.source={source} needs a trained {'SASRec' if source == 'sasrec' else 'model'}: "
                "start the run through `recagora run` / experiments.runner.start_run, or pick "
                "candidates.source=popularity"
            )
        scorer = factory(config, world.dataset, world.split)
    popularity = np.asarray(world.dataset.catalog.popularity, np.float64)
    return candidate_function(
        config.candidates.source, config.platform.n_candidates, popularity, scorer
    )


def _context(
    world: World, roles: Roles, services: RunServices, candidate_fn: Any = None
) -> TrirecContext:
    platform = roles.platform
    return TrirecContext(
        config=world.config,
        user=roles.user,
        item=roles.item,
        platform=platform,
        catalog=world.dataset.catalog,
        targets=world.draw.targets,
        item_group=platform.item_group,
        train_share=platform.p_train,
        sink=services.sink,
        llm=world.llm,
        candidate_fn=candidate_fn,
    )


def _initial_state(world: World, roles: Roles) -> dict[str, Any]:
    cohort = build_cohort(world.facts, world.draw.keys, world.draw.histories, roles.memories)
    return {
        "round": 0,
        "cohort": cohort,
        "items": roles.item.init_state(),
        "exposure": roles.platform.init_exposure(),
        "item_exposure": np.zeros(len(world.dataset.catalog), dtype=np.float64),
        "usage": {},
        "events": [],
        "done": False,
    }
