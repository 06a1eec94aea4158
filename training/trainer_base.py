"""The shared trainer: seeded batches, gradient accumulation, checkpoints, resume, logs.

One method = one config dataclass (a subclass of `TrainerConfig`) + one trainer
(a subclass of `BaseTrainer` that implements `micro_batch_loss`); variants are config
values. This is a plain PyTorch loop on purpose: TRL's trainers sit on
`transformers.Trainer` and expect a `PreTrainedModel` and a `datasets.Dataset`, while
our tiny GPT is not one and Flower's trie-masked on-policy rollouts and SubTB loss
are not in TRL; on one device accelerate would only move tensors.

Determinism: the samples of optimizer step t are drawn from
``numpy.random.default_rng([seed, t])`` and method randomness per sample from
``(seed, t, position in the step)`` (independent of micro-batching), so a resumed run repeats exactly
the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Catalog, Sample
from recagora.training.backbones import Backbone, BackboneConfig, build_backbone
from recagora.training.checkpoints import (
    CHECKPOINT_DIR,
    load_checkpoint,
    save_checkpoint,
)
from recagora.training.data import PromptConfig, encode_prompts, validate_samples
from recagora.training.item_tokenizers import (
    ItemTokenization,
    is_semantic,
    item_names,
    tokenize_catalog,
)
from recagora.training.run_logs import MetricsLog


@dataclass
class TrainerConfig:
    """Settings every method shares."""

    output_dir: str = field(
        default="runs/train", metadata={"help": "Run folder (checkpoint, metrics, curves)."}
    )
    seed: int = field(default=0, metadata={"help": "Root seed for init, batches and rollouts."})
    max_steps: int = field(default=200, metadata={"help": "Optimizer steps in total."})
    batch_size: int = field(default=32, metadata={"help": "Samples per optimizer step."})
    micro_batch_size: int = field(
        default=8, metadata={"help": "Samples per forward (accumulated)."}
    )
    learning_rate: float = field(default=1e-3, metadata={"help": "AdamW peak learning rate."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    warmup_steps: int = field(default=20, metadata={"help": "Linear warm-up steps, then constant."})
    max_grad_norm: float = field(
        default=1.0, metadata={"help": "Gradient clipping norm (0 = off)."}
    )
    save_every: int = field(
        default=100, metadata={"help": "Checkpoint every N steps (and at the end)."}
    )
    resume: bool = field(
        default=True, metadata={"help": "Continue from the run folder's checkpoint."}
    )
    device: str = field(default="auto", metadata={"help": "auto, cpu or cuda[:i]."})
    num_threads: int = field(
        default=1, metadata={"help": "CPU threads for torch (0 = torch default)."}
    )
    progress: bool = field(default=True, metadata={"help": "Show a rich progress bar."})
    tensorboard: bool = field(
        default=False,
        metadata={
            "help": "Also write the step metrics as TensorBoard events under <run>/tensorboard/."
        },
    )
    backbone: BackboneConfig = field(default_factory=BackboneConfig, metadata={"help": "Backbone."})
    prompt: PromptConfig = field(default_factory=PromptConfig, metadata={"help": "Prompt format."})

    def __post_init__(self) -> None:
        if self.batch_size % self.micro_batch_size:
            raise ConfigError(
                f"batch_size {self.batch_size} is not a multiple of micro_batch_size "
                f"{self.micro_batch_size}; pick sizes that divide"
            )
        if self.max_steps <= 0 or self.micro_batch_size <= 0:
            raise ConfigError(f"max_steps {self.max_steps} and micro_batch_size must be positive")


class BaseTrainer:
    """Loop, accumulation, checkpoints and logs; subclasses define `micro_batch_loss`."""

    method = "base"
    config_class = TrainerConfig

    def __init__(self, config: TrainerConfig, catalog: Catalog, train: list[Sample]):
        validate_samples(train, len(catalog), "train")
        if config.num_threads > 0:
            torch.set_num_threads(config.num_threads)
        self.config, self.catalog, self.train_samples = config, catalog, train
        self.output_dir = Path(config.output_dir)
        self.device = _device(config.device)
        generator = torch.Generator().manual_seed(config.seed)
        self.titles = item_names(catalog)
        # Semantic IDs become added whole tokens, so the tiny GPT's BPE learns the prompt only.
        texts = [] if is_semantic(catalog) else self.titles
        corpus = [*texts, config.prompt.template]
        self.backbone: Backbone = build_backbone(config.backbone, corpus, generator)
        # before the optimizer: semantic IDs grow the embeddings
        self.items: ItemTokenization = tokenize_catalog(catalog, self.backbone, generator)
        self.backbone.model.to(self.device)
        self.trie = self.items.trie.to(self.device)
        self._prompts: dict[int, list[int]] = {}
        self._start_optimisation([p for p in self.backbone.model.parameters() if p.requires_grad])

    def _start_optimisation(self, parameters: list) -> None:
        """AdamW with linear warm-up over `parameters`, step 0 (shared by every trainer)."""
        config = self.config
        self.optimizer = torch.optim.AdamW(
            parameters, lr=config.learning_rate, weight_decay=config.weight_decay
        )
        warmup = max(1, config.warmup_steps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: min(1.0, (s + 1) / warmup)
        )
        self.step = 0
        self._positions: dict[int, int] = {}

    # --- what a method defines -------------------------------------------------------
    def micro_batch_loss(
        self, samples: list[Sample], batch_samples: list[Sample]
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss of one micro-batch, scaled so that the micro-batch losses of a step SUM to the
        step's loss (normalise by totals over `batch_samples`, the whole step's samples).
        Randomness must come from `sample_seed`, so micro-batching cannot change it.

        Returns the loss and metric sums (e.g. {"loss": ..., "tokens": ...}) for logging.
        """
        raise NotImplementedError

    def sample_seed(self, sample: Sample) -> int:
        """Seed of this sample's randomness in the current step: (seed, step, position)."""
        return int(
            np.random.SeedSequence(
                [self.config.seed, self.step, self._positions[id(sample)]]
            ).generate_state(1)[0]
        )

    # --- the loop ----------------------------------------------------------------------
    def prompts(self, samples: list[Sample]) -> list[list[int]]:
        """Prompt token ids of samples (cached by sample identity)."""
        missing = [s for s in samples if id(s) not in self._prompts]
        if missing:
            encoded = encode_prompts(
                [s.history for s in missing],
                self.titles,
                self.backbone.tokenizer,
                self.config.prompt,
            )
            self._prompts.update({id(s): p for s, p in zip(missing, encoded, strict=True)})
        return [self._prompts[id(s)] for s in samples]

    def batch_indices(self, step: int) -> np.ndarray:
        """(batch_size,) sample indices of optimizer step `step` (seeded by seed and step)."""
        rng = np.random.default_rng([self.config.seed, step])
        return rng.choice(len(self.train_samples), size=self.config.batch_size, replace=False)

    def train(self) -> Path:
        """Run (or resume) training; return the run folder holding the checkpoint."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if self.config.resume and (self.output_dir / CHECKPOINT_DIR).is_dir():
            self.step = load_checkpoint(self, self.output_dir / CHECKPOINT_DIR)
        log = MetricsLog(self.output_dir, start_step=self.step, tensorboard=self.config.tensorboard)
        with log.progress(
            self.config.max_steps, self.step, self.method, self.config.progress
        ) as advance:
            while self.step < self.config.max_steps:
                metrics = self.optimizer_step(self.step)
                self.step += 1
                log.append(self.step, metrics)
                advance(metrics)
                if self.step % self.config.save_every == 0 or self.step == self.config.max_steps:
                    save_checkpoint(self, self.output_dir / CHECKPOINT_DIR)
        log.plot()
        return self.output_dir

    def optimizer_step(self, step: int) -> dict[str, Any]:
        """One optimizer step over `batch_size` samples in micro-batches; its metrics."""
        started = time.perf_counter()
        self.backbone.model.train()
        batch = [self.train_samples[i] for i in self.batch_indices(step)]
        self._positions = {id(s): position for position, s in enumerate(batch)}
        size = self.config.micro_batch_size
        totals: dict[str, float] = {}
        for start in range(0, len(batch), size):
            loss, metrics = self.micro_batch_loss(batch[start : start + size], batch)
            loss.backward()
            for key, value in metrics.items():
                totals[key] = totals.get(key, 0.0) + value
        totals["grad_norm"] = self._clip_and_step()
        totals["lr"] = self.scheduler.get_last_lr()[0]
        self.scheduler.step()
        seconds = time.perf_counter() - started
        totals["seconds"] = seconds
        totals["tokens_per_s"] = totals.get("tokens", 0.0) / seconds
        return totals

    def _clip_and_step(self) -> float:
        parameters = [p for p in self.backbone.model.parameters() if p.requires_grad]
        norm = torch.nn.utils.clip_grad_norm_(parameters, self.config.max_grad_norm or float("inf"))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(norm)


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
