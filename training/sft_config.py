"""Config of supervised fine-tuning (SFT) on the next item's tokens."""

from __future__ import annotations

from dataclasses import dataclass

from recagora.training.trainer_base import TrainerConfig


@dataclass
class SFTConfig(TrainerConfig):
    """SFT (BIGRec, Bao et al. 2023): next-token cross-entropy on the target item's tokens.

    All fields are the shared `TrainerConfig` ones; SFT adds none.
    """
