"""PUMA's training loops: per-user prompts (stage 1 / retraining), adapters (migration), evaluation."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from recagora.training.puma.data import RatingData
from recagora.training.puma.model import RatingHead, RatingLM


@dataclass
class Cost:
    """What a fit spent: LM passes (one rating forward + backward each) and wall seconds."""

    lm_passes: int = 0
    seconds: float = 0.0


def _batches(n: int, batch_size: int, epochs: int, generator: torch.Generator):
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        yield from (order[i : i + batch_size] for i in range(0, n, batch_size))


def _fit(rlm: RatingLM, rows, prompts_of, params, lr, epochs, cfg, generator) -> Cost:
    """Adam over `params`; prompts_of(user_rows) -> (B, hidden) prompts for the target LM."""
    optimizer = torch.optim.Adam(params, lr=lr)
    cost, start = Cost(), time.perf_counter()
    for batch in _batches(len(rows), cfg.batch_size, epochs, generator):
        part = rows.iloc[batch.numpy()]
        users = torch.tensor(part["user_row"].to_numpy())
        ratings = torch.tensor(part["rating"].to_numpy(), dtype=torch.float32)
        loss = rlm.loss(prompts_of(users), part["title"].tolist(), ratings, cfg.ce_weight)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        cost.lm_passes += len(batch)
    cost.seconds = time.perf_counter() - start
    return cost


def fit_prompts(rlm: RatingLM, data: RatingData, cfg, generator: torch.Generator, *, epochs: int | None = None):
    """Stage 1 (or full retraining): one soft row per user + a fresh head -> (table, Cost)."""
    rlm.head = RatingHead(generator)
    table = nn.Parameter(torch.randn(len(data.users), rlm.hidden_size, generator=generator) * rlm.lm.scale)
    params = [table, *rlm.head.parameters()]
    cost = _fit(rlm, data.train, lambda u: table[u], params, cfg.lr_prompt, epochs or cfg.epochs, cfg, generator)
    return table.detach(), cost


def fit_head(rlm: RatingLM, table: torch.Tensor, data: RatingData, rows: list[int], cfg, generator):
    """A fresh head over fixed prompts (the 'random prompts on B' baseline)."""
    rlm.head = RatingHead(generator)
    train = data.train[data.train["user_row"].isin(rows)]
    return _fit(rlm, train, lambda u: table[u], list(rlm.head.parameters()), cfg.lr_adapter, cfg.migrate_epochs, cfg, generator)


def fit_adapter(rlm: RatingLM, adapter: nn.Module, source: torch.Tensor, data: RatingData, rows: list[int], cfg, generator):
    """Migration: adapter + a fresh target head on the selected users' ratings, through the target LM."""
    rlm.head = RatingHead(generator)
    train = data.train[data.train["user_row"].isin(rows)]
    params = [*adapter.parameters(), *rlm.head.parameters()]
    adapter.train()
    cost = _fit(rlm, train, lambda u: adapter(source[u]), params, cfg.lr_adapter, cfg.migrate_epochs, cfg, generator)
    adapter.eval()
    return cost


@torch.no_grad()
def apply_adapter(adapter: nn.Module, source: torch.Tensor) -> torch.Tensor:
    """Every user's migrated prompt (adapter in eval mode: no dropout)."""
    adapter.eval()
    return adapter(source)


@torch.no_grad()
def predict(rlm: RatingLM, table: torch.Tensor, frame, batch_size: int = 32) -> np.ndarray:
    """Predicted ratings of `frame`'s (user_row, title) pairs with prompts `table`."""
    out = []
    for i in range(0, len(frame), batch_size):
        part = frame.iloc[i : i + batch_size]
        users = torch.tensor(part["user_row"].to_numpy())
        out.append(rlm.predict(table[users], part["title"].tolist()).numpy())
    return np.concatenate(out)


def rmse_mae(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    error = predicted - truth
    return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}
