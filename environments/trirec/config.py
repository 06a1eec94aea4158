"""Configuration of a TriRec episode (run-level fields + the scenario's own)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from recagora.agents.registry import parse_agent_spec
from recagora.agents.roles.item_memory import ItemAgentConfig
from recagora.agents.roles.platform import PlatformConfig
from recagora.agents.roles.user_llm import LLMUserConfig
from recagora.agents.roles.user_surrogate import SurrogateUserConfig
from recagora.agents.surrogate.choice_model import ChoiceModelConfig
from recagora.environments.config_checks import domain_of
from recagora.environments.config_checks import require as _require
from recagora.environments.trirec.candidates import CANDIDATE_SOURCES
from recagora.environments.trirec.execution import ExecutionConfig, check_sharding
from recagora.item_space.errors import did_you_mean

# The scenario's roles and their default implementations (agents/registry.py lists the others).
DEFAULT_AGENTS = "user=learned,item=llm,platform=trirec"
# training.policy.ORDERS, named here so that reading a config does not import torch
RECOMMENDER_ORDERS = ("beam", "confidence")


@dataclass
class CandidateConfig:
    """Where each user's candidate set comes from (see `environments.trirec.candidates`)."""

    source: str = field(
        default="popularity",
        metadata={
            "help": "itemspace (history neighbours) | sasrec (paper: SASRec top-9 hard negatives) | popularity (popularity-sampled negatives) | recommender (top-9 of candidates.recommender)."
        },
    )
    sasrec_epochs: int = field(
        default=20,
        metadata={"help": "SASRec training epochs on the train split (source=sasrec; cached)."},
    )
    recommender: str = field(
        default="",
        metadata={
            "help": "Run folder from `recagora train` (or a SASRec .pt) whose ranking gives the candidates (source=recommender)."
        },
    )
    recommender_beams: int = field(
        default=20,
        metadata={
            "help": "Beams of a generative recommender per user; items no beam reached follow by training popularity."
        },
    )
    recommender_order: str = field(
        default="beam",
        metadata={
            "help": "beam (the beam-search ranking) | confidence (a semantic-ID UGR checkpoint's beams re-ranked by its confidence, Fan et al. KDD 2026)."
        },
    )
    recommender_reject: float = field(
        default=0.0,
        metadata={
            "help": "Share in [0, 1) of the scored users, least confident first (UGR confidence of the item served first), given the popularity ranking instead (semantic-ID checkpoints)."
        },
    )


@dataclass
class TrirecConfig:
    """One TriRec simulation: who takes part, for how long, and how the platform ranks.

    Re-ranking weights (`platform.trirec.*`) default to Gong et al. 2026 (TriRec,
    arXiv 2603.10673, Stage 2); see `recagora.agents.rerank.TriRecConfig`.
    """

    scenario: str = field(default="trirec", metadata={"help": "Scenario name (registry id)."})
    dataset: str = field(
        default="ml-100k", metadata={"help": "Dataset name or path (see `recagora data list`)."}
    )
    llm: str = field(
        default="llamacpp:smollm2",
        metadata={"help": "LLM spec: llamacpp:smollm2, openai:<model>, vllm:<model>, fake:."},
    )
    agents: str = field(
        default=DEFAULT_AGENTS,
        metadata={
            "help": "Implementation per role, e.g. user=learned,item=llm; user=learned (default: fitted on the training split), surrogate (v0) or llm."
        },
    )
    users: int = field(
        default=8,
        metadata={"help": "Number of real dataset users sampled (seeded) into the cohort."},
    )
    population: int | None = field(
        default=None,
        metadata={
            "help": "Synthetic cohort size: resample real users' histories (seeded, with replacement); overrides users."
        },
    )
    rounds: int = field(
        default=2, metadata={"help": "Horizon: rounds played unless every user leaves first."}
    )
    seed: int = field(
        default=0,
        metadata={"help": "Root seed; every stochastic step derives its generator from it."},
    )
    platform: PlatformConfig = field(
        default_factory=PlatformConfig,
        metadata={
            "help": "Candidates and TriRec re-ranking weights (platform.trirec.alpha_max, ...)."
        },
    )
    candidates: CandidateConfig = field(
        default_factory=CandidateConfig,
        metadata={
            "help": "Candidate source: candidates.source = itemspace | sasrec | popularity | recommender."
        },
    )
    max_history: int = field(
        default=50, metadata={"help": "Most recent training items a user's persona keeps."}
    )
    log_promotions: bool = field(
        default=True,
        metadata={
            "help": "Log one event per user with its candidates' ads (turn off for huge cohorts)."
        },
    )
    domain: str = field(
        default="",
        metadata={
            "help": "What the catalog holds, as the prompts name it; empty = from the dataset (ml-100k: movies, cds-vinyl: CDs and vinyl records, ...); item.domain and llm_user.domain follow unless set."
        },
    )
    item: ItemAgentConfig = field(
        default_factory=ItemAgentConfig,
        metadata={
            "help": "Item agents: item.mode = none | generic | personalized | grounded, memory buffer, ..."
        },
    )
    surrogate_user: SurrogateUserConfig = field(
        default_factory=SurrogateUserConfig,
        metadata={"help": "Learned and surrogate users: promotion weight, patience."},
    )
    llm_user: LLMUserConfig = field(
        default_factory=LLMUserConfig, metadata={"help": "LLM user: retries, reflection, patience."}
    )
    user_fit: ChoiceModelConfig = field(
        default_factory=ChoiceModelConfig,
        metadata={"help": "How the surrogate (v0) user's choice model is fitted; its seed also seeds the learned user's fit."},
    )
    execution: ExecutionConfig = field(
        default_factory=ExecutionConfig,
        metadata={"help": "Sharded episode: execution.shards, execution.executor = local | ray."},
    )

    def __post_init__(self) -> None:
        self.domain = self.domain or domain_of(self.dataset)
        if not self.item.domain:
            self.item = replace(self.item, domain=self.domain)
        if not self.llm_user.domain:
            self.llm_user = replace(self.llm_user, domain=self.domain)
        _require(self.users >= 1, f"users must be >= 1, got {self.users}")
        _require(
            self.population is None or self.population >= 1,
            f"population must be >= 1, got {self.population}",
        )
        _require(self.rounds >= 1, f"rounds must be >= 1, got {self.rounds}")
        _require(self.seed >= 0, f"seed must be a non-negative integer, got {self.seed}")
        source = self.candidates.source
        _require(
            source in CANDIDATE_SOURCES,
            f"candidates.source must be one of {', '.join(CANDIDATE_SOURCES)}, got {source!r}"
            + did_you_mean(source, CANDIDATE_SOURCES),
        )
        _require(
            self.candidates.sasrec_epochs >= 1,
            f"candidates.sasrec_epochs must be >= 1, got {self.candidates.sasrec_epochs}",
        )
        _check_recommender_fields(self.candidates)
        # item.mode and the re-ranking weights are checked by their own configs.
        k = self.platform.n_candidates
        _require(2 <= k <= 100, f"platform.n_candidates must be in 2..100, got {k}")
        parse_roles(self.agents)  # an unknown role or implementation: refused before any work
        _require_cohort_fits(self.cohort_size, self.max_history, k)
        check_sharding(self.execution, self.cohort_size, needs_llm_roles(self.agents))

    @property
    def cohort_size(self) -> int:
        """Users in the episode: `population` when set, else `users`."""
        return self.population if self.population is not None else self.users


def _check_recommender_fields(candidates: CandidateConfig) -> None:
    """candidates.recommender is set exactly when candidates.source is recommender."""
    wanted = candidates.source == "recommender"
    _require(
        wanted == bool(candidates.recommender),
        "candidates.source=recommender needs candidates.recommender=RUN_FOLDER (and only it)"
        if wanted
        else f"candidates.recommender is set but candidates.source is {candidates.source!r}; "
        "use --recommender RUN (it sets both)",
    )
    beams = candidates.recommender_beams
    _require(1 <= beams <= 200, f"candidates.recommender_beams must be in 1..200, got {beams}")
    _check_confidence_fields(candidates)


def _check_confidence_fields(candidates: CandidateConfig) -> None:
    """Serving by UGR confidence: a known order, a share in [0, 1), only with a recommender."""
    order, reject = candidates.recommender_order, candidates.recommender_reject
    _require(
        order in RECOMMENDER_ORDERS,
        f"candidates.recommender_order must be one of {', '.join(RECOMMENDER_ORDERS)}, got {order!r}",
    )
    _require(0.0 <= reject < 1.0, f"candidates.recommender_reject must be in [0, 1), got {reject}")
    _require(
        candidates.source == "recommender" or (order == "beam" and reject == 0.0),
        "candidates.recommender_order/recommender_reject need a served checkpoint; "
        "add --recommender RUN",
    )


def cohort_bytes(users: int, max_history: int, n_candidates: int) -> int:
    """A LOWER bound on the memory a cohort of `users` holds during an episode, in bytes.

    Per user: its key and tuple headers (~200 B), a history of up to `max_history`
    items with their ratings (an 8-byte slot each in two tuples, plus a 24-byte float
    object per rating), and per round the candidate ids, promotion ids and scores
    (3 x 8 bytes per candidate, plus the same again while the next round is built).
    The 100k-user benchmark (README) holds more than this; it only has to say when a
    cohort CANNOT fit, before numpy is asked for the arrays.
    """
    history = max(max_history, 1)
    return users * (200 + history * (8 + 8 + 24) + n_candidates * 3 * 8 * 2)


def _require_cohort_fits(users: int, max_history: int, n_candidates: int) -> None:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    need = cohort_bytes(users, max_history, n_candidates)
    fits = memory // max(need // users, 1)
    _require(
        need <= memory,
        f"a cohort of {users:,} users needs at least {need / 2**30:,.1f} GiB but this machine "
        f"has {memory / 2**30:,.1f} GiB; lower --population/--users to at most {fits:,}",
    )


def needs_llm_roles(spec: str) -> bool:
    """True when the agent spec puts an LLM behind some role."""
    return parse_agent_spec(spec, DEFAULT_AGENTS).uses_llm()


def parse_roles(spec: str) -> dict[str, str]:
    """{'user': ..., 'item': ..., 'platform': ...} from 'item=surrogate' (roles left out
    keep DEFAULT_AGENTS).

    Raises:
        UnknownAgentError: a one-line ConfigError naming the closest role or implementation.
    """
    return parse_agent_spec(spec, DEFAULT_AGENTS).roles()
