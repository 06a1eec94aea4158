"""Build the TriRec roles an episode's config names (`agents: user=surrogate,item=llm,...`).

The composition root of the scenario: the agents' registry says which class plays each
role; this module supplies what each needs from the world (the fitted choice model,
the item space, the run's LLM client, persona memories).
"""

from __future__ import annotations

from typing import Any

from recagora.agents.registry import AgentMix, parse_agent_spec, resolve
from recagora.agents.roles.persona import persona_memory
from recagora.environments.trirec.config import DEFAULT_AGENTS


def build_roles(world: Any) -> Any:
    """`Roles` for `world.config.agents` (see `prepare.World`)."""
    from recagora.environments.trirec.prepare import Roles

    config = world.config
    mix = parse_agent_spec(config.agents, DEFAULT_AGENTS)
    return Roles(
        user=_user(mix, world),
        item=_item(mix, world),
        platform=resolve("platform", mix.platform)(
            world.facts, source=world.space, config=config.platform
        ),
        memories=persona_memories(world, needed=mix.uses_llm()),
        info={"agents": mix.versions()},
    )


def needs_llm(agents: str) -> bool:
    """True when the agent spec puts an LLM behind some role."""
    return parse_agent_spec(agents, DEFAULT_AGENTS).uses_llm()


def persona_memories(world: Any, needed: bool = True) -> tuple[str, ...]:
    """First-person memory per cohort user from the training history (one render per real user).

    Without an LLM role nobody reads them: short placeholders keep 100k-user runs fast.
    """
    draw = world.draw
    if not needed:
        return tuple(f"user {source}" for source in draw.sources)
    memo: dict[str, str] = {}
    for source, history, ratings in zip(draw.sources, draw.histories, draw.ratings, strict=True):
        if source not in memo:
            memo[source] = persona_memory(world.facts, history, ratings, domain=world.config.domain)
    return tuple(memo[source] for source in draw.sources)


def _user(mix: AgentMix, world: Any) -> Any:
    cls = resolve("user", mix.user)
    if mix.user in ("surrogate", "v0"):
        from recagora.agents.surrogate.choice_model import fit_choice_model

        model = fit_choice_model(
            world.facts, world.split.train, world.split.valid, world.config.user_fit
        )
        return cls(
            world.facts, model, embedder=world.space.embedder, config=world.config.surrogate_user
        )
    if mix.user == "learned":
        from recagora.agents.learned_user.fit import fit_learned_user

        # The fit's seed is user_fit.seed (as v0's), not the run seed: runs of one dataset
        # share one cached fit whatever their seed.
        model = fit_learned_user(world.facts, world.split, seed=world.config.user_fit.seed)
        return cls(
            world.facts, model, embedder=world.space.embedder, config=world.config.surrogate_user
        )
    return cls(world.facts, _llm(world, "user"), config=world.config.llm_user)


def _item(mix: AgentMix, world: Any) -> Any:
    cls = resolve("item", mix.item)
    if mix.item == "llm":
        return cls(world.facts, _llm(world, "item"), config=world.config.item)
    return cls(world.facts, config=world.config.item)


def _llm(world: Any, role: str) -> Any:
    if world.llm is None:
        raise RuntimeError(f"the {role} role needs an LLM client but none was opened")
    return world.llm
