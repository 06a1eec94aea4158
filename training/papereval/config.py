"""Configuration of the PaperEval scorer and its trainer (one dataclass, variants are fields)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from recagora.item_space.errors import ConfigError, did_you_mean

LOSS_TYPES = ("listmle", "mse", "listnet")


@dataclass
class PaperScorerConfig:
    """Everything that defines one scorer training run (PaperEval, AAAI'26, section 3)."""

    backbone: str = field(
        default="minilm",
        metadata={
            "help": "Frozen feature backbone: minilm, hashing, smollm2, or a local HF causal-LM folder."
        },
    )
    max_tokens: int = field(
        default=384, metadata={"help": "Causal-LM backbones: longest input, in tokens."}
    )
    references: int = field(
        default=0,
        metadata={
            "help": "Concurrent papers (title+abstract) appended to the input; 0 = no retrieval."
        },
    )
    retrieval_gamma: float = field(
        default=0.5, metadata={"help": "Cosine threshold for a corpus paper to count as related."}
    )
    latent_steps: int = field(
        default=8, metadata={"help": "m, the number of latent reasoning steps."}
    )
    hidden_dim: int = field(
        default=256, metadata={"help": "Width of the latent state and the scorer MLP."}
    )
    dropout: float = field(
        default=0.1, metadata={"help": "Dropout on the latent updates (0 = off)."}
    )
    loss: str = field(
        default="listmle",
        metadata={"help": "listmle (progressive, annealed temperature), mse, or listnet."},
    )
    tau_max: float = field(default=1.0, metadata={"help": "Temperature at the first latent step."})
    tau_min: float = field(default=0.1, metadata={"help": "Temperature at the last latent step."})
    epochs: int = field(default=60, metadata={"help": "Passes over the training papers."})
    list_size: int = field(default=64, metadata={"help": "Papers per ranked list (the batch B)."})
    lr: float = field(default=1e-3, metadata={"help": "AdamW learning rate."})
    weight_decay: float = field(default=1e-2, metadata={"help": "AdamW weight decay."})
    valid_fraction: float = field(
        default=0.1, metadata={"help": "Share of papers held out for model selection."}
    )
    test_fraction: float = field(
        default=0.2, metadata={"help": "Share of papers held out for the test figures."}
    )
    seed: int = field(
        default=0, metadata={"help": "Seed of the split, the initialisation and the list order."}
    )
    num_threads: int = field(
        default=1,
        metadata={"help": "torch CPU threads (1: the head is tiny; more threads only contend)."},
    )

    def __post_init__(self) -> None:
        if self.loss not in LOSS_TYPES:
            raise ConfigError(
                f"loss {self.loss!r} is unknown{did_you_mean(self.loss, LOSS_TYPES)}; use one of {LOSS_TYPES}"
            )
        if self.latent_steps < 1:
            raise ConfigError(f"latent_steps={self.latent_steps} must be at least 1")
        if not 0 < self.tau_min <= self.tau_max:
            raise ConfigError(
                f"need 0 < tau_min <= tau_max, got tau_min={self.tau_min}, tau_max={self.tau_max}"
            )
        if (
            self.valid_fraction + self.test_fraction >= 1
            or min(self.valid_fraction, self.test_fraction) < 0
        ):
            raise ConfigError(
                f"valid_fraction={self.valid_fraction} and test_fraction={self.test_fraction} must be >= 0 and sum below 1"
            )
        if self.list_size < 2:
            raise ConfigError(
                f"list_size={self.list_size} must be at least 2 (a ranking needs two papers)"
            )

    def to_dict(self) -> dict:
        return asdict(self)
