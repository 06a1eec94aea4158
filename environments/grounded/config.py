"""Configuration of a grounded-reasoning episode (MGFRec, Cai et al., KDD 2026)."""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.agents.reasoner import ReasonerConfig
from recagora.agents.reasoner_feedback import FeedbackConfig
from recagora.agents.registry import parse_agent_spec
from recagora.agents.surrogate.choice_model import ChoiceModelConfig
from recagora.environments.config_checks import require as _require
from recagora.item_space.datasets.dataset import PROTOCOLS
from recagora.item_space.errors import did_you_mean

# The scenario's roles and their default implementations (agents/registry.py lists the others).
DEFAULT_AGENTS = "reasoner=surrogate,feedback=learned"


@dataclass
class GroundedConfig:
    """One grounded-loop episode over a seeded sample of test users; a round is one think-ground-feedback step."""

    scenario: str = field(default="grounded", metadata={"help": "Scenario name (registry id)."})
    dataset: str = field(
        default="video-games", metadata={"help": "Dataset name or path (see `recagora data list`)."}
    )
    llm: str = field(
        default="llamacpp:smollm2",
        metadata={"help": "LLM spec for LLM roles: llamacpp:smollm2, openai:<model>, fake:."},
    )
    agents: str = field(
        default=DEFAULT_AGENTS,
        metadata={
            "help": "Implementation per role: reasoner=surrogate|llm, feedback=learned|surrogate|llm (learned: the learned user model; surrogate: v0)."
        },
    )
    users: int = field(
        default=200,
        metadata={"help": "Test users sampled (seeded, distinct) from the split's test samples."},
    )
    rounds: int = field(
        default=4,
        metadata={
            "help": "Max-rounds guard: the reasoner must answer in this round at the latest."
        },
    )
    seed: int = field(
        default=0,
        metadata={"help": "Root seed; every stochastic step derives its generator from it."},
    )
    split: str = field(
        default="auto",
        metadata={"help": "Split protocol: auto (the dataset's own), given, loo, global_time."},
    )
    max_history: int = field(
        default=10, metadata={"help": "Most recent history items a user keeps."}
    )
    shortlist_size: int = field(
        default=10,
        metadata={"help": "Initial shortlist length (item-space neighbours of the history)."},
    )
    recommender: str = field(
        default="",
        metadata={
            "help": "Run folder from `recagora train` (or a SASRec .pt) whose top items form the shortlist; empty = item-space neighbours."
        },
    )
    ground_k: int = field(
        default=10, metadata={"help": "Real items per grounded query (MGFRec: 10)."}
    )
    min_score: float = field(
        default=0.5,
        metadata={"help": "A query whose nearest item has cosine below this is ungrounded."},
    )
    reasoner: ReasonerConfig = field(
        default_factory=ReasonerConfig,
        metadata={"help": "Reasoner prompts and surrogate update rule."},
    )
    feedback: FeedbackConfig = field(
        default_factory=FeedbackConfig, metadata={"help": "LLM critic prompts."}
    )
    user_fit: ChoiceModelConfig = field(
        default_factory=ChoiceModelConfig,
        metadata={"help": "Choice model of the surrogate (v0) critic; its seed also seeds the learned critic's fit."},
    )

    def __post_init__(self) -> None:
        _require(self.users >= 1, f"users must be >= 1, got {self.users}")
        _require(self.rounds >= 1, f"rounds must be >= 1, got {self.rounds}")
        _require(self.seed >= 0, f"seed must be a non-negative integer, got {self.seed}")
        _require(1 <= self.ground_k <= 100, f"ground_k must be in 1..100, got {self.ground_k}")
        _require(
            self.shortlist_size >= 1, f"shortlist_size must be >= 1, got {self.shortlist_size}"
        )
        _require(
            self.split in PROTOCOLS,
            f"split {self.split!r} is unknown{did_you_mean(self.split, PROTOCOLS)}; use one of {', '.join(PROTOCOLS)}",
        )
        parse_roles(self.agents)

    def role(self, name: str) -> str:
        return parse_roles(self.agents)[name]


def parse_roles(spec: str) -> dict[str, str]:
    """{'reasoner': ..., 'feedback': ...} from 'reasoner=llm' (roles left out keep DEFAULT_AGENTS).

    Raises:
        UnknownAgentError: a one-line ConfigError naming the closest role or implementation.
    """
    return parse_agent_spec(spec, DEFAULT_AGENTS).roles()
