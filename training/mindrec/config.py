"""Config of MindRec: a small bidirectional transformer trained by masked diffusion.

MindRec (Gao et al., "MindRec: A Diffusion-driven Coarse-to-Fine Paradigm for Generative
Recommendation", arXiv 2511.12597) fine-tunes LLaDA-8B; here the same objective trains a
small transformer from scratch, so it fits a CPU. The shared `TrainerConfig` fields
(batches, optimizer, checkpoints) apply; its `backbone` and `prompt` sections are unused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.item_space.errors import ConfigError
from recagora.training.sft_config import check_trainer_fields
from recagora.training.trainer_base import TrainerConfig


@dataclass
class MindRecConfig(TrainerConfig):
    """MindRec and its LETTER-LLaDA ablation (`category_phase=false`)."""

    eps: float = field(
        default=0.5,
        metadata={
            "help": "Minimum mask ratio: p_mask = (1 - eps) t + eps, t ~ U(0, 1); in [0, 1)."
        },
    )
    category_phase: bool = field(
        default=True,
        metadata={"help": "Category path before the semantic ID (false = LETTER-LLaDA ablation)."},
    )
    category_levels: int = field(
        default=2, metadata={"help": "Category levels L (paths padded or truncated to L)."}
    )
    category_branching: int = field(
        default=8,
        metadata={
            "help": "Clusters per level grow as branching**level (catalogs without categories)."
        },
    )
    semantic_ids: str = field(
        default="",
        metadata={"help": "index.json of semantic IDs (empty = the items' own semantic_id)."},
    )
    max_history: int = field(default=10, metadata={"help": "Most recent history items kept."})
    d_model: int = field(default=128, metadata={"help": "Transformer width."})
    n_layers: int = field(default=2, metadata={"help": "Transformer encoder layers."})
    n_heads: int = field(default=4, metadata={"help": "Attention heads."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout in the encoder layers."})
    diversity: float = field(
        default=1.0,
        metadata={"help": "Weight of the diversity penalty of the beam search (0 = off)."},
    )

    def __post_init__(self) -> None:
        check_trainer_fields(self)
        if not 0.0 <= self.eps < 1.0:
            raise ConfigError(f"eps {self.eps} must be in [0, 1) (the minimum mask ratio)")
        for name in ("category_levels", "max_history", "d_model", "n_layers", "n_heads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.d_model % self.n_heads:
            raise ConfigError(f"d_model {self.d_model} is not a multiple of n_heads {self.n_heads}")
        if self.category_branching < 2:
            raise ConfigError(f"category_branching must be >= 2, got {self.category_branching}")
        if not 0.0 <= self.dropout < 1.0 or self.diversity < 0.0:
            raise ConfigError("dropout must be in [0, 1) and diversity >= 0")
        super().__post_init__()
