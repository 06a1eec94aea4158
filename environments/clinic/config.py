"""Configuration of a clinic episode (FLAME-style medication lists on open MIMIC demo data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.agents.registry import parse_agent_spec
from recagora.environments.config_checks import require as _require

# The scenario's roles and their default implementations (agents/registry.py lists the others).
DEFAULT_AGENTS = "clinician=cooccurrence,pharmacist=graph,editor=ddi"


@dataclass
class ClinicConfig:
    """Clinician proposes each test visit's list, pharmacist flags interactions, editor revises."""

    scenario: str = field(default="clinic", metadata={"help": "Scenario name (registry id)."})
    data: str = field(
        default="mimic-iv-demo",
        metadata={
            "help": "mimic-iv-demo, mimic-iii-demo, synthea (open data under the shared folder) or a path to a MIMIC-IV / MIMIC-III / Synthea folder."
        },
    )
    interactions: str = field(
        default="crescenddi",
        metadata={
            "help": "crescenddi (positive controls, shared folder) or a CSV with DRUG_1_CONCEPT_NAME, DRUG_2_CONCEPT_NAME."
        },
    )
    agents: str = field(
        default=DEFAULT_AGENTS,
        metadata={
            "help": "Implementation per role: clinician=cooccurrence|frequent|classifier, pharmacist=graph, editor=ddi."
        },
    )
    classifier: str = field(
        default="",
        metadata={"help": "Run folder of `recagora train flame-cls` (for clinician=classifier)."},
    )
    alpha: float = field(
        default=0.5,
        metadata={
            "help": "Editor's interaction penalty: drop d when alpha * (flagged pairs with d) > the clinician's p(d); 0 = never edit."
        },
    )
    max_drugs: int = field(
        default=200, metadata={"help": "Vocabulary: the most prescribed ingredients (FLAME: ~200)."}
    )
    rounds: int = field(
        default=3,
        metadata={"help": "Edit steps: each round the editor removes at most one drug per list."},
    )
    seed: int = field(default=0, metadata={"help": "Seed of the patient-level 4:1:1 split."})

    def __post_init__(self) -> None:
        _require(self.alpha >= 0, f"alpha must be >= 0, got {self.alpha}")
        _require(self.max_drugs >= 1, f"max_drugs must be >= 1, got {self.max_drugs}")
        _require(self.rounds >= 1, f"rounds must be >= 1, got {self.rounds}")
        _require(self.seed >= 0, f"seed must be a non-negative integer, got {self.seed}")
        parse_agent_spec(self.agents, DEFAULT_AGENTS)
