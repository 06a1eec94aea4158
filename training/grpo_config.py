"""Config of the group-rollout policy-gradient trainers (GRPO family: grpo, blade, bon)."""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.item_space.errors import ConfigError
from recagora.training.trainer_base import TrainerConfig

ROLLOUTS = ("sample", "beam")


@dataclass
class GRPOConfig(TrainerConfig):
    """GRPO (Shao et al., DeepSeekMath 2024): G rollouts per prompt, group-normalised
    advantages, the clipped-ratio surrogate, an optional KL to the frozen reference."""

    init_from: str = field(
        default="",
        metadata={
            "help": "Run folder of the policy to start from and keep as the frozen reference (an SFT run); empty = fresh weights."
        },
    )
    num_generations: int = field(
        default=8, metadata={"help": "G: rollouts per prompt (UGR: 16 beams)."}
    )
    rollout: str = field(
        default="sample",
        metadata={
            "help": "sample (trie-masked ancestral sampling) or beam (the top-G constrained beams, UGR)."
        },
    )
    rollout_temperature: float = field(
        default=1.0, metadata={"help": "Sampling temperature of rollouts (rollout=sample)."}
    )
    clip_epsilon: float = field(
        default=0.2, metadata={"help": "PPO/GRPO ratio clip: ratio kept in [1 - eps, 1 + eps]."}
    )
    kl_beta: float = field(
        default=0.0,
        metadata={"help": "Weight of the per-token KL (k3 estimator) to the frozen reference."},
    )
    scale_rewards: bool = field(
        default=True,
        metadata={
            "help": "Divide group-centred rewards by the group's std (GRPO); false = Dr.GRPO."
        },
    )
    advantage_eps: float = field(
        default=1e-4, metadata={"help": "Added to the group std before dividing (UGR: 1e-4)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_generations < 2:
            raise ConfigError(
                f"num_generations {self.num_generations} must be >= 2 (a group of one has no advantage)"
            )
        if self.rollout not in ROLLOUTS:
            raise ConfigError(
                f"rollout {self.rollout!r} is unknown; use one of {', '.join(ROLLOUTS)}"
            )
        if self.rollout_temperature <= 0 or self.clip_epsilon <= 0 or self.kl_beta < 0:
            raise ConfigError(
                "rollout_temperature and clip_epsilon must be > 0 and kl_beta >= 0, got "
                f"{self.rollout_temperature}, {self.clip_epsilon}, {self.kl_beta}"
            )
