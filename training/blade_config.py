"""Config of BLADE and of static best-of-N alignment (`bon`, BLADE with tau = 0)."""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.item_space.errors import ConfigError
from recagora.training.grpo_config import GRPOConfig

ACCURACY, AUXILIARY = ("ndcg", "hit"), ("none", "mgu", "ild")


@dataclass
class BladeConfig(GRPOConfig):
    """BLADE (Chen et al., SIGIR 2026): list rollouts, list reward accuracy + lambda * aux,
    the log of a Beta-posterior CDF (static reference prior fused with the current group)
    as GRPO's reward. Fields marked RECONSTRUCTED are our choices, not the paper's."""

    list_length: int = field(default=5, metadata={"help": "K: items per list (NDCG@5 headline)."})
    num_generations: int = field(
        default=8, metadata={"help": "G: lists per prompt (RECONSTRUCTED default)."}
    )
    reference_lists: int = field(
        default=16,
        metadata={
            "help": "M: lists per prompt from the frozen reference (SFT) model: the prior (RECONSTRUCTED default)."
        },
    )
    accuracy: str = field(
        default="ndcg", metadata={"help": "Accuracy reward of a list: ndcg or hit (@K)."}
    )
    auxiliary: str = field(
        default="none",
        metadata={
            "help": "Beyond-accuracy reward: none, mgu (minus popularity-group MGU) or ild (needs item vectors)."
        },
    )
    aux_weight: float = field(
        default=0.0, metadata={"help": "lambda: reward = accuracy + lambda * auxiliary."}
    )
    tau: float = field(
        default=0.3,
        metadata={
            "help": "Share of the posterior CDF from the current group (0 = static BoN; paper's best 0.3)."
        },
    )
    prior_a0: float = field(
        default=1.0, metadata={"help": "Beta prior pseudo-count added to F (RECONSTRUCTED)."}
    )
    prior_b0: float = field(
        default=1.0, metadata={"help": "Beta prior pseudo-count added to 1 - F (RECONSTRUCTED)."}
    )
    popularity_groups: int = field(
        default=5, metadata={"help": "Popularity groups of the MGU reward."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rollout != "sample":
            raise ConfigError("BLADE rolls out lists by sampling; set rollout=sample")
        if not 0.0 <= self.tau < 1.0:
            raise ConfigError(f"tau {self.tau} must lie in [0, 1)")
        if self.list_length < 1 or self.reference_lists < 1 or self.popularity_groups < 1:
            raise ConfigError("list_length, reference_lists and popularity_groups must be >= 1")
        if self.accuracy not in ACCURACY or self.auxiliary not in AUXILIARY:
            raise ConfigError(
                f"accuracy must be one of {', '.join(ACCURACY)} and auxiliary one of "
                f"{', '.join(AUXILIARY)}, got {self.accuracy!r}, {self.auxiliary!r}"
            )
        if self.prior_a0 <= 0 or self.prior_b0 <= 0:
            raise ConfigError("prior_a0 and prior_b0 must be > 0 (log F must stay finite)")


@dataclass
class BoNConfig(BladeConfig):
    """Static best-of-N alignment (vBoN-style): BLADE's reward with tau = 0 (the prior only)."""

    tau: float = field(default=0.0, metadata={"help": "Always 0: the static reference CDF."})

    def __post_init__(self) -> None:
        if self.tau != 0.0:
            raise ConfigError(f"bon is BLADE with tau = 0, got tau {self.tau}; train blade instead")
        super().__post_init__()
