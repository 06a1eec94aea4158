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
    """What a fit spent.

    lm_passes: training ratings through the LM, forward + backward each.
    valid_passes: validation ratings through the LM, forward only (choosing the epoch).
    seconds: the fit's time, prefixes already cached; prefixes: the distinct titles it
    trained on, whose prefix a cold start would run once (`run.py` prices them).
    epochs: epochs run; best_epoch: the one kept (lowest validation RMSE).
    """

    lm_passes: int = 0
    seconds: float = 0.0
    valid_passes: int = 0
    prefixes: int = 0
    epochs: int = 0
    best_epoch: int = 0


def _batches(n: int, batch_size: int, epochs: int, generator: torch.Generator):
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        yield from (order[i : i + batch_size] for i in range(0, n, batch_size))


def _fit(rlm: RatingLM, rows, prompts_of, params, lr, epochs, cfg, generator, valid=None, adapter=None) -> Cost:
    """Adam over `params`; prompts_of(user_rows) -> (B, hidden) prompts for the target LM.

    With a non-empty `valid` frame, the validation RMSE after each epoch picks the epoch
    whose parameters are kept; the fit stops after `cfg.patience` epochs without a better one.
    `adapter` (when prompts come through one) is switched to eval mode while validating.
    """
    optimizer = torch.optim.Adam(params, lr=lr)
    cost, start = Cost(prefixes=rows["title"].nunique()), time.perf_counter()
    best, kept, stale = float("inf"), None, 0
    for epoch in range(1, epochs + 1):
        for batch in _batches(len(rows), cfg.batch_size, 1, generator):
            _step(rlm, rows.iloc[batch.numpy()], prompts_of, optimizer, cfg.ce_weight)
            cost.lm_passes += len(batch)
        cost.epochs = epoch
        if valid is None or valid.empty:
            continue
        score = _valid_rmse(rlm, prompts_of, valid, adapter)
        cost.valid_passes += len(valid)
        if score < best:
            best, kept, stale, cost.best_epoch = score, [p.detach().clone() for p in params], 0, epoch
        elif (stale := stale + 1) >= cfg.patience:
            break
    if kept is not None:
        with torch.no_grad():
            for p, value in zip(params, kept, strict=True):
                p.copy_(value)
    cost.seconds = time.perf_counter() - start
    return cost


def _step(rlm: RatingLM, part, prompts_of, optimizer, ce_weight: float) -> None:
    users = torch.tensor(part["user_row"].to_numpy())
    ratings = torch.tensor(part["rating"].to_numpy(), dtype=torch.float32)
    loss = rlm.loss(prompts_of(users), part["title"].tolist(), ratings, ce_weight)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


@torch.no_grad()
def _valid_rmse(rlm: RatingLM, prompts_of, valid, adapter=None) -> float:
    if adapter is not None:
        adapter.eval()
    predicted = []
    for i in range(0, len(valid), 32):
        part = valid.iloc[i : i + 32]
        predicted.append(rlm.predict(prompts_of(torch.tensor(part["user_row"].to_numpy())), part["title"].tolist()))
    if adapter is not None:
        adapter.train()
    return rmse_mae(torch.cat(predicted).numpy(), valid["rating"].to_numpy())["rmse"]


def fit_prompts(rlm: RatingLM, data: RatingData, cfg, generator: torch.Generator, *, epochs: int | None = None):
    """Stage 1 (or full retraining): one soft row per user + a fresh head -> (table, Cost)."""
    rlm.head = RatingHead(generator)
    table = nn.Parameter(torch.randn(len(data.users), rlm.hidden_size, generator=generator) * rlm.lm.scale)
    params = [table, *rlm.head.parameters()]
    cost = _fit(rlm, data.train, lambda u: table[u], params, cfg.lr_prompt, epochs or cfg.epochs, cfg, generator,
                valid=data.valid)
    return table.detach(), cost


def fit_head(rlm: RatingLM, table: torch.Tensor, data: RatingData, rows: list[int], cfg, generator):
    """A fresh head over fixed prompts (the 'random prompts on B' baseline)."""
    rlm.head = RatingHead(generator)
    train, valid = _subset(data, rows)
    return _fit(rlm, train, lambda u: table[u], list(rlm.head.parameters()), cfg.lr_adapter, cfg.migrate_epochs, cfg,
                generator, valid=valid)


def fit_adapter(rlm: RatingLM, adapter: nn.Module, source: torch.Tensor, data: RatingData, rows: list[int], cfg, generator):
    """Migration: adapter + a fresh target head on the selected users' ratings, through the target LM.

    Its epochs are chosen on the selected users' validation ratings: the migration sees nobody else.
    """
    rlm.head = RatingHead(generator)
    train, valid = _subset(data, rows)
    params = [*adapter.parameters(), *rlm.head.parameters()]
    adapter.train()
    cost = _fit(rlm, train, lambda u: adapter(source[u]), params, cfg.lr_adapter, cfg.migrate_epochs, cfg, generator,
                valid=valid, adapter=adapter)
    adapter.eval()
    return cost


def _subset(data: RatingData, rows: list[int]):
    """The training and validation ratings of the users at `rows`."""
    valid = None if data.valid is None else data.valid[data.valid["user_row"].isin(rows)]
    return data.train[data.train["user_row"].isin(rows)], valid


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
