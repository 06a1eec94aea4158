"""Which implementation plays each role of every scenario: role + implementation -> class.

The one agent registry. A run picks one implementation PER ROLE with a spec such as
"user=surrogate,item=llm,platform=trirec"; each scenario names its roles and their
defaults in a default spec (`DEFAULT_AGENTS` of its config module: TriRec user/item/
platform, grounded reasoner/feedback, PaperEval evaluator/post_writer), and
`parse_agent_spec(text, default)` checks a spec against those roles. Entries are "module:Class" strings resolved with importlib on first
use, so listing them imports nothing heavy; a scenario outside the package adds its own
with `register_agent`. Each entry carries a version: bump it when a prompt or a dynamic
changes results.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from recagora.item_space.errors import ConfigError, did_you_mean

# role -> implementation -> (entry point "module:Class" or the class itself, version)
AGENTS: dict[str, dict[str, tuple[str | type, str]]] = {
    "user": {  # TriRec
        "llm": ("recagora.agents.roles.user_llm:LLMUserAgent", "v2"),  # v2: candidate lines without the repeated title
        "surrogate": ("recagora.agents.roles.user_surrogate:SurrogateUserAgent", "v0"),
        "v0": ("recagora.agents.roles.user_surrogate:SurrogateUserAgent", "v0"),  # = surrogate
        "learned": ("recagora.agents.roles.user_learned:LearnedUserAgent", "v0"),
    },
    "item": {  # TriRec
        "llm": ("recagora.agents.roles.item_llm:LLMItemAgent", "v2"),  # v2: audience before the item (shared prefix)
        "surrogate": ("recagora.agents.roles.item_surrogate:TemplateItemAgent", "v1"),
    },
    "platform": {  # TriRec
        "trirec": ("recagora.agents.roles.platform:TriRecPlatform", "v0"),
    },
    "reasoner": {  # grounded
        "surrogate": ("recagora.agents.reasoner:SurrogateReasoner", "v0"),
        "llm": ("recagora.agents.reasoner:LLMReasoner", "v0"),
    },
    "feedback": {  # grounded (the critic that plays the user)
        "surrogate": ("recagora.agents.reasoner_feedback:SurrogateFeedbackAgent", "v0"),
        "llm": ("recagora.agents.reasoner_feedback:LLMFeedbackAgent", "v0"),
        "learned": ("recagora.agents.reasoner_feedback:LearnedFeedbackAgent", "v0"),
    },
    "clinician": {  # clinic (FLAME-style medication lists)
        "cooccurrence": ("recagora.agents.clinic:CooccurrenceClinician", "v0"),
        "frequent": ("recagora.agents.clinic:FrequentClinician", "v0"),
        "classifier": ("recagora.agents.clinic:ClassifierClinician", "v0"),
    },
    "explainer": {  # explain (issue 16); seller is SELLER's trained generator (floor 2 sibling)
        "none": ("recagora.agents.explainers:NoExplainer", "v0"),
        "restate": ("recagora.agents.explainers:RestateExplainer", "v0"),
        "template": ("recagora.agents.explainers:TemplateExplainer", "v0"),
        "llm": ("recagora.agents.explainers:LLMExplainer", "v0"),
        "seller": ("recagora.training.seller.explainer:SellerExplainer", "v0"),
    },
    "pharmacist": {"graph": ("recagora.agents.clinic:GraphPharmacist", "v0")},  # clinic
    "editor": {"ddi": ("recagora.agents.clinic:InteractionEditor", "v0")},  # clinic
    "evaluator": {  # PaperEval
        "llm": ("recagora.agents.evaluator:EvaluatorAgent", "v0"),
        "scorer": ("recagora.agents.evaluator:ScorerJudge", "v0"),
    },
    "post_writer": {  # PaperEval
        "template": ("recagora.agents.papereval.feed:TemplatePostWriter", "v0"),
        "llm": ("recagora.agents.papereval.feed:PostWriterAgent", "v0"),
    },
}
SPEC_FORM = "role=impl pairs separated by commas, e.g. user=surrogate,item=llm,platform=trirec"


class UnknownAgentError(ConfigError):
    """An agent spec names a role or an implementation that does not exist."""


@dataclass(frozen=True)
class AgentMix:
    """The implementation chosen for each of a scenario's roles, in the scenario's order.

    Read a role's choice as `mix["user"]` or `mix.user`.
    """

    chosen: tuple[tuple[str, str], ...]

    def __getitem__(self, role: str) -> str:
        return dict(self.chosen)[role]

    def __getattr__(self, role: str) -> str:
        pairs = dict(self.__dict__.get("chosen", ()))
        if role not in pairs:
            raise AttributeError(role)
        return pairs[role]

    def __str__(self) -> str:
        return ",".join(f"{role}={impl}" for role, impl in self.chosen)

    def roles(self) -> dict[str, str]:
        """role -> implementation."""
        return dict(self.chosen)

    def uses_llm(self) -> bool:
        """True when some role needs an LLM client."""
        return any(impl == "llm" for _, impl in self.chosen)

    def versions(self) -> dict[str, str]:
        """role -> "impl@version", for run manifests."""
        return {role: f"{impl}@{AGENTS[role][impl][1]}" for role, impl in self.chosen}


def parse_agent_spec(text: str, default: str) -> AgentMix:
    """Parse "role=impl,..." into an `AgentMix`; roles not named keep `default`.

    default: the scenario's full spec; its roles are the only ones `text` may name.

    Raises:
        UnknownAgentError: a malformed pair, an unknown, foreign or repeated role, an
            unknown implementation (one line, with the closest name when there is one).
    """
    chosen = _pairs_of(default, None)
    roles = tuple(chosen)
    if text.strip():
        chosen.update(_pairs_of(text, roles))
    return AgentMix(tuple((role, chosen[role]) for role in roles))


def _pairs_of(text: str, roles: tuple[str, ...] | None) -> dict[str, str]:
    """{role: impl} of a spec; `roles` (None = any registered) are the ones it may name."""
    pairs: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        role, sep, impl = part.partition("=")
        role, impl = role.strip(), impl.strip()
        if not sep or not role or not impl:
            raise UnknownAgentError(f"agent spec part {part!r} is not role=impl; use {SPEC_FORM}")
        _check(role, impl, roles)
        if role in pairs:
            raise UnknownAgentError(
                f"agent spec {text!r} names role {role!r} twice; name each role once"
            )
        pairs[role] = impl
    return pairs


def _check(role: str, impl: str, roles: tuple[str, ...] | None = None) -> None:
    known = roles if roles is not None else tuple(AGENTS)
    if role not in known:
        raise UnknownAgentError(
            f"unknown agent role {role!r}{did_you_mean(role, known)}; roles: {', '.join(known)}"
        )
    if impl not in AGENTS[role]:
        raise UnknownAgentError(
            f"unknown {role} implementation {impl!r}{did_you_mean(impl, AGENTS[role])}; "
            f"{role} implementations: {', '.join(AGENTS[role])}"
        )


def resolve(role: str, impl: str) -> type:
    """The class registered for (role, impl), imported on first use."""
    _check(role, impl)
    entry = AGENTS[role][impl][0]
    if not isinstance(entry, str):
        return entry
    module_name, attribute = entry.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def register_agent(role: str, impl: str, entry: str | type, version: str = "v0") -> None:
    """Add (or replace) the implementation `impl` of `role` (a new role is created).

    entry: "module:Class" (imported on first use) or the class itself.
    """
    AGENTS.setdefault(role, {})[impl] = (entry, version)


def list_agents() -> dict[str, list[str]]:
    """role -> its implementation names."""
    return {role: list(impls) for role, impls in AGENTS.items()}
