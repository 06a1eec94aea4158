"""Config of supervised fine-tuning (SFT) on the next item's tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

from recagora.item_space.errors import ConfigError
from recagora.training.trainer_base import TrainerConfig

DEVICE = re.compile(r"(auto|cpu|mps|cuda(:\d+)?)")
POSITIVE_FIELDS = ("max_steps", "batch_size", "micro_batch_size", "save_every")


def check_trainer_fields(config: TrainerConfig) -> None:
    """Bounds of the shared fields, checked before `TrainerConfig.__post_init__` (which
    takes batch_size modulo micro_batch_size) and before any data or model loads.

    Raises:
        ConfigError: a size below 1, a negative rate/count, or a device torch cannot name.
    """
    for name in POSITIVE_FIELDS:
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(config, name)}")
    for name in ("learning_rate", "weight_decay", "warmup_steps", "max_grad_norm", "num_threads"):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must be >= 0, got {getattr(config, name)}")
    if not DEVICE.fullmatch(config.device):
        raise ConfigError(f"device {config.device!r} is not auto, cpu, mps or cuda[:N]")


@dataclass
class SFTConfig(TrainerConfig):
    """SFT (BIGRec, Bao et al. 2023): next-token cross-entropy on the target item's tokens.

    All fields are the shared `TrainerConfig` ones; SFT adds none.
    """

    def __post_init__(self) -> None:
        check_trainer_fields(self)
        super().__post_init__()
