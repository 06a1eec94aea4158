"""Fit the sequence encoder on the TRAINING interactions; stop on the VALIDATION next items.

Every training sequence (a user's training events, oldest first) is cut into windows of
L + 1 items from the end; the encoder predicts each next item of a window under the full
softmax (SASRec-CE). After each epoch the mean log-likelihood of the validation targets
(each from its own training history) is measured; training stops when it has not improved
for `patience` epochs, after `max_epochs`, or after `max_seconds`, and the best epoch's
weights are kept: the number of epochs is chosen on validation, never by hand per dataset.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from recagora.agents.learned_user.network import (
    EncoderConfig,
    SequenceEncoder,
    final_states,
    left_padded,
)
from recagora.item_space.types import Interactions, Sample


@dataclass(frozen=True)
class TrainConfig:
    """How long and how fast the encoder is trained (caps keep fits short on a shared CPU)."""

    max_epochs: int = field(default=30, metadata={"help": "Most training epochs."})
    patience: int = field(
        default=2, metadata={"help": "Epochs without a better validation likelihood before stopping."}
    )
    max_seconds: float = field(
        default=0.0,
        metadata={"help": "Wall-clock cap on training, 0 = none (a clock cap makes the fit depend on the machine's load)."},
    )
    batch_size: int = field(default=128, metadata={"help": "Windows per optimiser step."})
    lr: float = field(default=3e-3, metadata={"help": "Adam learning rate (3e-3 reaches 1e-3's validation likelihood in about half the epochs)."})
    weight_decay: float = field(default=1e-5, metadata={"help": "AdamW weight decay."})


def training_sequences(interactions: Interactions) -> list[list[int]]:
    """Each user's training items, oldest first (ties kept in file order)."""
    frame = interactions.frame.sort_values(["user", "timestamp"], kind="stable")
    return [group.tolist() for _, group in frame.groupby("user", sort=False)["item"]]


def windows(sequences: Sequence[Sequence[int]], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, L) inputs and (W, L) next-item targets (-1 = no target), windows cut from the end."""
    inputs, targets = [], []
    for seq in sequences:
        for end in range(len(seq), 1, -max_len):
            chunk = list(seq[max(0, end - max_len - 1) : end])
            inputs.append(chunk[:-1])
            targets.append(chunk[1:])
    x = left_padded(inputs, max_len)
    y = left_padded(targets, max_len) - 1  # padding 0 -> -1
    return x, y


def validation_log_likelihood(encoder: SequenceEncoder, valid: Sequence[Sample]) -> float:
    """Mean log P(target | history) under the full softmax, over validation samples."""
    hidden = final_states(encoder, [s.history for s in valid])
    with torch.no_grad():
        log_p = torch.log_softmax(encoder.logits(hidden), dim=-1)
    targets = torch.as_tensor([s.target for s in valid])
    return float(log_p[torch.arange(len(valid)), targets].mean())


def fit_encoder(
    vectors: np.ndarray,
    train: Interactions,
    valid: Sequence[Sample],
    encoder_config: EncoderConfig,
    config: TrainConfig,
    seed: int,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[SequenceEncoder, dict]:
    """The encoder with the best validation likelihood, and a log of the fit.

    progress(epoch, max_epochs, valid_ll) is called after each epoch.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    encoder = SequenceEncoder(vectors, encoder_config)
    optimiser = torch.optim.AdamW(encoder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    x, y = windows(training_sequences(train), encoder_config.max_len)
    best, best_state, history, start = -np.inf, None, [], time.monotonic()
    for epoch in range(config.max_epochs):
        _train_epoch(encoder, optimiser, x, y, config.batch_size, generator)
        ll = validation_log_likelihood(encoder, valid)
        history.append(round(ll, 5))
        if progress:
            progress(epoch + 1, config.max_epochs, ll)
        if ll > best:
            best, best_state = ll, {k: v.clone() for k, v in encoder.state_dict().items()}
        stale = len(history) - 1 - int(np.argmax(history))
        if stale >= config.patience or 0 < config.max_seconds < time.monotonic() - start:
            break
    encoder.load_state_dict(best_state)
    encoder.eval()
    log = {"epochs": len(history), "best_epoch": int(np.argmax(history)) + 1,
           "valid_ll": history, "seconds": round(time.monotonic() - start, 1)}
    return encoder, log


def _train_epoch(encoder, optimiser, x, y, batch_size: int, generator) -> None:
    encoder.train()
    order = torch.randperm(len(x), generator=generator)
    for start in range(0, len(x), batch_size):
        rows = order[start : start + batch_size]
        logits = encoder.logits(encoder(x[rows]))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[rows].reshape(-1), ignore_index=-1)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
