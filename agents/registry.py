"""Which implementation plays each TriRec role: role name + implementation name -> "module:Class".

A run picks one implementation PER ROLE with a spec such as
"user=surrogate,item=llm,platform=trirec" (roles left out keep DEFAULT_AGENTS). Entries
are resolved with importlib on first use, so listing them imports nothing heavy. Each
entry carries a version: bump it when a prompt or a dynamic changes results.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from recagora.item_space.errors import ConfigError, did_you_mean

# role -> implementation -> (entry point, version)
AGENTS: dict[str, dict[str, tuple[str, str]]] = {
    "user": {
        "llm": ("recagora.agents.roles.user_llm:LLMUserAgent", "v0"),
        "surrogate": ("recagora.agents.roles.user_surrogate:SurrogateUserAgent", "v0"),
    },
    "item": {
        "llm": ("recagora.agents.roles.item_llm:LLMItemAgent", "v0"),
        "surrogate": ("recagora.agents.roles.item_surrogate:TemplateItemAgent", "v0"),
    },
    "platform": {
        "trirec": ("recagora.agents.roles.platform:TriRecPlatform", "v0"),
    },
}
DEFAULT_AGENTS = "user=surrogate,item=llm,platform=trirec"
SPEC_FORM = "role=impl pairs separated by commas, e.g. user=surrogate,item=llm,platform=trirec"


class UnknownAgentError(ConfigError):
    """An agent spec names a role or an implementation that does not exist."""


@dataclass(frozen=True)
class AgentMix:
    """The implementation chosen for each role."""

    user: str
    item: str
    platform: str

    def __str__(self) -> str:
        return f"user={self.user},item={self.item},platform={self.platform}"

    def uses_llm(self) -> bool:
        """True when some role needs an LLM client."""
        return "llm" in (self.user, self.item, self.platform)

    def versions(self) -> dict[str, str]:
        """role -> "impl@version", for run manifests."""
        return {role: f"{impl}@{AGENTS[role][impl][1]}" for role, impl in self._pairs()}

    def _pairs(self) -> list[tuple[str, str]]:
        return [("user", self.user), ("item", self.item), ("platform", self.platform)]


def parse_agent_spec(text: str, default: str = DEFAULT_AGENTS) -> AgentMix:
    """Parse "role=impl,..." into an `AgentMix`; roles not named keep `default`.

    Raises:
        UnknownAgentError: a malformed pair, an unknown or repeated role, an unknown implementation.
    """
    chosen = _pairs_of(default) if default else {}
    if text.strip():
        chosen.update(_pairs_of(text))
    missing = [role for role in AGENTS if role not in chosen]
    if missing:
        raise UnknownAgentError(f"agent spec {text!r} leaves {missing} unset; use {SPEC_FORM}")
    return AgentMix(**{role: chosen[role] for role in AGENTS})


def _pairs_of(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        role, sep, impl = part.partition("=")
        role, impl = role.strip(), impl.strip()
        if not sep or not role or not impl:
            raise UnknownAgentError(f"agent spec part {part!r} is not role=impl; use {SPEC_FORM}")
        _check(role, impl)
        if role in pairs:
            raise UnknownAgentError(
                f"agent spec {text!r} names role {role!r} twice; name each role once"
            )
        pairs[role] = impl
    return pairs


def _check(role: str, impl: str) -> None:
    if role not in AGENTS:
        raise UnknownAgentError(
            f"unknown agent role {role!r}{did_you_mean(role, AGENTS)}; roles: {', '.join(AGENTS)}"
        )
    if impl not in AGENTS[role]:
        raise UnknownAgentError(
            f"unknown {role} implementation {impl!r}{did_you_mean(impl, AGENTS[role])}; "
            f"{role} implementations: {', '.join(AGENTS[role])}"
        )


def resolve(role: str, impl: str) -> type:
    """The class registered for (role, impl), imported on first use."""
    _check(role, impl)
    module_name, attribute = AGENTS[role][impl][0].split(":")
    return getattr(importlib.import_module(module_name), attribute)


def list_agents() -> dict[str, list[str]]:
    """role -> its implementation names."""
    return {role: list(impls) for role, impls in AGENTS.items()}
