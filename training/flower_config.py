"""Config of Flower: SFT combined with GFlowNet sub-trajectory balance under the title trie."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from recagora.item_space.errors import ConfigError
from recagora.training.sft_config import check_trainer_fields
from recagora.training.trainer_base import TrainerConfig

REWARDS = ("popularity", "personalized")


@dataclass
class FlowerConfig(TrainerConfig):
    """Flower (Gao et al., SIGIR 2025): L = theta * L_SFT + (1 - theta) * L_SubTB."""

    theta: float = field(
        default=0.9995,
        metadata={"help": "Weight of SFT; 1 - theta weighs SubTB (paper: 0.9995 on Video_Games)."},
    )
    reward: str = field(
        default="popularity",
        metadata={
            "help": "popularity (item share of training histories) or personalized (divided by a recommender's score)."
        },
    )
    subtb_lambda: float = field(
        default=1.0, metadata={"help": "Sub-trajectory length weight (1 = all equal)."}
    )
    incomplete_log_reward: float = field(
        default=-15.0, metadata={"help": "log R of stopping at a prefix that is not a title."}
    )
    reward_smoothing: float = field(
        default=1.0,
        metadata={"help": "Count added to every title before shares (keeps unseen titles finite)."},
    )
    rollout_temperature: float = field(
        default=1.0, metadata={"help": "Sampling temperature of rollouts."}
    )
    scorer_checkpoint: str = field(
        default="",
        metadata={
            "help": "reward=personalized: a SASRec .pt scoring each user's items; empty = train SASRec on the training split (saved in the run folder)."
        },
    )
    scorer_epochs: int = field(
        default=5,
        metadata={"help": "Epochs of that SASRec when it is trained here (reward=personalized)."},
    )

    def __post_init__(self) -> None:
        check_trainer_fields(self)
        super().__post_init__()
        if not 0.0 <= self.theta <= 1.0:
            raise ConfigError(f"theta {self.theta} must lie in [0, 1]")
        if self.reward not in REWARDS:
            raise ConfigError(f"reward {self.reward!r} is unknown; use one of {', '.join(REWARDS)}")
        if self.scorer_epochs < 1:
            raise ConfigError(f"scorer_epochs {self.scorer_epochs} must be >= 1")
        if self.scorer_checkpoint and not Path(self.scorer_checkpoint).is_file():
            raise ConfigError(
                f"scorer_checkpoint {self.scorer_checkpoint!r} is not a file; pass a SASRec .pt "
                "or leave it empty to train one"
            )
        if self.reward_smoothing <= 0:
            raise ConfigError(
                f"reward_smoothing {self.reward_smoothing} must be > 0 (log of 0 is undefined)"
            )
