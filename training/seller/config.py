"""SellerConfig: data sizes, encoder and adapter shapes, training."""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.item_space.errors import ConfigError


@dataclass
class SellerConfig:
    """`recagora train seller` settings (defaults sized for a shared 2-core CPU)."""

    backbone: str = field(default="smollm2", metadata={"help": "Frozen LM: smollm2, gemma3-270m or a local folder."})
    n_train: int = field(default=160, metadata={"help": "(user, next item) training pairs drawn from users' earlier positions."})
    n_test: int = field(default=40, metadata={"help": "Test users (their last interaction is the pair to explain)."})
    max_history: int = field(default=20, metadata={"help": "Most recent history items the sequence encoder reads."})
    seq_dim: int = field(default=64, metadata={"help": "Width of the sequence encoder."})
    seq_layers: int = field(default=2, metadata={"help": "Transformer blocks of the sequence encoder."})
    time_buckets: int = field(default=16, metadata={"help": "Log-scale buckets of the gap (seconds) between events."})
    experts: int = field(default=8, metadata={"help": "Experts of the MoE adapter (XRec: 8)."})
    soft_tokens: int = field(default=4, metadata={"help": "Soft tokens the adapter writes into the prompt."})
    epochs: int = field(default=2, metadata={"help": "Passes over the training pairs."})
    batch_size: int = field(default=8, metadata={"help": "Pairs per optimizer step."})
    learning_rate: float = field(default=1e-3, metadata={"help": "Adam learning rate of encoders and adapter."})
    max_new_tokens: int = field(default=32, metadata={"help": "Longest generated explanation (tokens)."})
    seed: int = field(default=0, metadata={"help": "Seed of the pair draw, inits and batches."})
    output_dir: str = field(default="runs/train/seller", metadata={"help": "Folder of report.json, explanations.csv, weights."})

    def __post_init__(self) -> None:
        if self.soft_tokens < 1:
            raise ConfigError(f"soft-token count must be at least 1 (got {self.soft_tokens})")
        if self.experts < 1 or self.max_history < 1:
            raise ConfigError("experts and max_history must be at least 1")
