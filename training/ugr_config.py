"""Config of UGR: GRPO over constrained beams with uncertainty-weighted rewards."""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.item_space.errors import ConfigError
from recagora.training.grpo_config import GRPOConfig


@dataclass
class UGRConfig(GRPOConfig):
    """UGR (Fan et al., KDD 2026): G = 16 constrained beams as rollouts, the uncertainty-
    weighted reward, the difficulty weight and the confidence tokens' pairwise loss."""

    num_generations: int = field(default=16, metadata={"help": "G: beams per prompt (UGR: 16)."})
    rollout: str = field(default="beam", metadata={"help": "Always beam (UGR's rollouts)."})
    alpha_min: float = field(
        default=0.0,
        metadata={"help": "Difficulty weight of a prompt whose answer is the top beam."},
    )
    length_penalty: float = field(
        default=1.0,
        metadata={"help": "Beam scores divided by tokens ** this (UGR: length-normalised, 1)."},
    )
    coeff_wrong: float = field(
        default=0.5,
        metadata={"help": "Confidence loss weight over wrong beams (UGR: 0.5; 0 = no confidence)."},
    )
    coeff_partial: float = field(
        default=0.0,
        metadata={"help": "Confidence loss weight over beams with the right first code (UGR: 0)."},
    )
    allow_titles: bool = field(
        default=False,
        metadata={
            "help": "Run on title items (the paper uses semantic IDs; for experiments only)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.rollout != "beam":
            raise ConfigError("UGR rolls out constrained beams; set rollout=beam")
        if self.coeff_wrong < 0 or self.coeff_partial < 0:
            raise ConfigError(
                f"coeff_wrong {self.coeff_wrong} and coeff_partial {self.coeff_partial} must be >= 0"
            )
        if not 0.0 <= self.alpha_min <= 1.0:
            raise ConfigError(f"alpha_min {self.alpha_min} must lie in [0, 1]")
