"""Configuration of an `explain` episode: who decides, who explains, and how much text weighs."""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.agents.explainers import ExplainerConfig
from recagora.agents.registry import parse_agent_spec
from recagora.agents.roles.user_llm import LLMUserConfig
from recagora.agents.surrogate.choice_model import ChoiceModelConfig
from recagora.environments.config_checks import require

# The scenario's roles and their defaults (agents/registry.py lists the implementations).
DEFAULT_AGENTS = "user=learned,explainer=template"
USER_IMPLS = ("learned", "surrogate", "v0", "llm")


@dataclass
class ExplainConfig:
    """Real users, each shown their held-out item among popularity-sampled negatives; every
    shown item carries an explanation; the user decides once without and once with them."""

    scenario: str = field(default="explain", metadata={"help": "Scenario name (registry id)."})
    dataset: str = field(
        default="ml-100k", metadata={"help": "Dataset with timed events (read in place, never copied)."}
    )
    llm: str = field(
        default="llamacpp:smollm2",
        metadata={"help": "LLM spec of explainer=llm / user=llm: llamacpp:smollm2, openai:<model>, fake:."},
    )
    agents: str = field(
        default=DEFAULT_AGENTS,
        metadata={
            "help": "user=learned|surrogate|llm, explainer=none|restate|template|llm|seller (seller needs seller_run)."
        },
    )
    users: int = field(default=300, metadata={"help": "Real users sampled (seeded) into the cohort."})
    shown: int = field(
        default=5, metadata={"help": "Items shown per user and round: the held-out item + shown-1 negatives."}
    )
    rounds: int = field(
        default=1,
        metadata={"help": "Rounds; a user plays until they choose their held-out item (fresh negatives each round)."},
    )
    explanation_weight: float = field(
        default=0.3,
        metadata={
            "help": "rho_e: how far an explanation moves the learned/surrogate user's perceived item vector toward the explanation's text vector (0 = unread)."
        },
    )
    seller_run: str = field(
        default="", metadata={"help": "`recagora train seller` run folder (explainer=seller)."}
    )
    max_history: int = field(default=50, metadata={"help": "Most recent training items a user keeps."})
    log_explanations: int = field(
        default=20, metadata={"help": "Users per round whose shown items and explanations are logged."}
    )
    explainer: ExplainerConfig = field(
        default_factory=ExplainerConfig, metadata={"help": "Text explainers: words, LLM prompt sizes."}
    )
    user_fit: ChoiceModelConfig = field(
        default_factory=ChoiceModelConfig,
        metadata={"help": "How the surrogate user's choice model is fitted; its seed also seeds the learned user's fit."},
    )
    llm_user: LLMUserConfig = field(
        default_factory=LLMUserConfig, metadata={"help": "LLM user (user=llm): retries, patience."}
    )
    seed: int = field(default=0, metadata={"help": "Root seed of every random draw."})

    def __post_init__(self) -> None:
        require(self.users >= 1, f"users must be >= 1, got {self.users}")
        require(2 <= self.shown <= 50, f"shown must be in 2..50, got {self.shown}")
        require(self.rounds >= 1, f"rounds must be >= 1, got {self.rounds}")
        require(self.seed >= 0, f"seed must be a non-negative integer, got {self.seed}")
        require(
            0.0 <= self.explanation_weight < 1.0,
            f"explanation_weight must be in [0, 1), got {self.explanation_weight}",
        )
        mix = parse_agent_spec(self.agents, DEFAULT_AGENTS)  # unknown role/impl: one line
        require(mix.user in USER_IMPLS, f"user must be one of {', '.join(USER_IMPLS)}, got {mix.user!r}")
        require(
            mix.explainer != "seller" or bool(self.seller_run),
            "explainer=seller needs seller_run=RUN_FOLDER (from `recagora train seller`)",
        )
