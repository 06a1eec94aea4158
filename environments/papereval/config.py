"""Configuration of a PaperEval episode: evaluate papers day by day, publish a top-k feed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from recagora.agents.evaluator import EvaluatorConfig
from recagora.agents.papereval.feed import SubscriberConfig
from recagora.agents.registry import parse_agent_spec
from recagora.environments.config_checks import require as _require
from recagora.item_space.openreview import OpenReviewSource

# The scenario's roles and their default implementations (agents/registry.py lists the others).
DEFAULT_AGENTS = "evaluator=llm,post_writer=template"


@dataclass
class PaperEvalConfig:
    """One PaperEval episode (Zheng et al., AAAI'26): a round is one day of new papers."""

    scenario: str = field(default="papereval", metadata={"help": "Scenario name (registry id)."})
    data: str = field(
        default="",
        metadata={"help": "ICLR 2017 iclr-openreview folder (when corpus.submissions is empty)."},
    )
    corpus: OpenReviewSource = field(
        default_factory=OpenReviewSource,
        metadata={
            "help": "Any OpenReview export: submissions, reviews, venue, year, concurrent_dir."
        },
    )
    llm: str = field(
        default="llamacpp:smollm2",
        metadata={"help": "LLM spec: llamacpp:smollm2, openai:<model>, fake:."},
    )
    agents: str = field(
        default=DEFAULT_AGENTS,
        metadata={
            "help": "Implementation per role: evaluator=llm|scorer,post_writer=template|llm."
        },
    )
    scorer_path: str = field(
        default="",
        metadata={
            "help": "Trained scorer file (evaluator=scorer), from `recagora train papereval-scorer`."
        },
    )
    papers: int = field(
        default=0, metadata={"help": "Papers evaluated (seeded subset); 0 = all labelled papers."}
    )
    rounds: int = field(
        default=5, metadata={"help": "Days: the papers are spread evenly over this many rounds."}
    )
    top_k: int = field(default=10, metadata={"help": "Posts published per day (PaperRec: 10)."})
    subscribers: int = field(
        default=50,
        metadata={"help": "Surrogate subscribers, each following a topic drawn from the corpus."},
    )
    seed: int = field(
        default=0,
        metadata={"help": "Root seed; every stochastic step derives its generator from it."},
    )
    evaluator: EvaluatorConfig = field(
        default_factory=EvaluatorConfig,
        metadata={"help": "Judge ablations: retrieval, reasoning, gamma, k."},
    )
    subscriber: SubscriberConfig = field(
        default_factory=SubscriberConfig, metadata={"help": "How subscribers read and save."}
    )

    def __post_init__(self) -> None:
        _require(self.rounds >= 1, f"rounds must be >= 1, got {self.rounds}")
        _require(self.papers >= 0, f"papers must be >= 0 (0 = all), got {self.papers}")
        _require(self.top_k >= 1, f"top_k must be >= 1, got {self.top_k}")
        _require(self.seed >= 0, f"seed must be a non-negative integer, got {self.seed}")
        _require(self.evaluator.k >= 0, f"evaluator.k must be >= 0, got {self.evaluator.k}")
        _require(
            bool(self.corpus.submissions)
            or not (self.corpus.reviews or self.corpus.venue or self.corpus.year),
            "corpus.reviews/venue/year need corpus.submissions=<submissions CSV/JSONL>",
        )
        roles = parse_roles(self.agents)
        _require(
            roles["evaluator"] != "scorer" or bool(self.scorer_path),
            "evaluator=scorer needs scorer_path=<file from `recagora train papereval-scorer`>",
        )
        # Input files are checked here, so a wrong path is refused before an LLM starts.
        _require(
            not self.data or Path(self.data).is_dir(),
            f"data {self.data!r} is not a folder; give the iclr-openreview folder (or leave it empty)",
        )
        for name in ("submissions", "reviews", "concurrent_dir"):
            path = getattr(self.corpus, name)
            _require(not path or Path(path).exists(), f"corpus.{name} {path!r} does not exist")

    def role(self, name: str) -> str:
        return parse_roles(self.agents)[name]


def parse_roles(spec: str) -> dict[str, str]:
    """{'evaluator': ..., 'post_writer': ...} from 'evaluator=scorer' (roles left out keep
    DEFAULT_AGENTS).

    Raises:
        UnknownAgentError: a one-line ConfigError naming the closest role or implementation.
    """
    return parse_agent_spec(spec, DEFAULT_AGENTS).roles()
