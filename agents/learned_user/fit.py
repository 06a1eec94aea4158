"""Fit a `LearnedUserModel` on a split (training events + validation next items), cached on disk.

Order (the test split is never read):
  1. the SASRec encoder on `split.train_interactions`, epochs chosen on `split.valid`;
  2. w, the outside option and the interest head on (a seeded subset of) `split.valid`;
  3. the rating head on the training ratings, when the training events carry ratings.
The cache key hashes the training events, the validation samples, the item facts, the
config, the seed and FIT_VERSION, so any change of data or recipe refits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from recagora.agents.learned_user.model import (
    LearnedUserConfig,
    LearnedUserModel,
    fit_conditional_logit,
    fit_logistic,
    fused_features,
    interest_design,
)
from recagora.agents.learned_user.network import SequenceEncoder
from recagora.agents.learned_user.rating import OrdinalSVDpp, RatingHead, fit_rating_head
from recagora.agents.learned_user.train import fit_encoder
from recagora.agents.roles.base import ItemFacts
from recagora.agents.surrogate.choice_model import choice_sets
from recagora.item_space.embedding import cache_dir
from recagora.item_space.types import Sample, Split

FIT_VERSION = "learned-user-1"


def fit_learned_user(
    facts: ItemFacts,
    split: Split,
    seed: int = 0,
    config: LearnedUserConfig | None = None,
    show_progress: bool = True,
    cache: bool = True,
) -> LearnedUserModel:
    """The learned user of `split` (loaded from the cache when this exact fit was done before)."""
    config = config or LearnedUserConfig()
    path = cache_dir() / "learned_user" / f"{cache_key(facts, split, seed, config)}.pt"
    if cache and path.exists():
        return _load(path, facts, config)
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        model = _fit(facts, split, seed, config, show_progress)
    finally:
        torch.set_num_threads(threads)
    if cache:
        _save(model, path)
    return model


def cache_key(facts: ItemFacts, split: Split, seed: int, config: LearnedUserConfig) -> str:
    """sha256 (24 hex) of everything a fit reads."""
    digest = hashlib.sha256(FIT_VERSION.encode())
    frame = split.train_interactions.frame[["user", "item", "rating", "timestamp"]]
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    for sample in split.valid:
        digest.update(f"{sample.user}|{sample.target}|{sample.history}".encode())
    for array in (facts.vectors, facts.categories, facts.popularity):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(json.dumps([dataclasses.asdict(config), seed], sort_keys=True).encode())
    return digest.hexdigest()[:24]


def _fit(facts: ItemFacts, split: Split, seed: int, config: LearnedUserConfig, show: bool) -> LearnedUserModel:
    from rich.progress import Progress

    start = time.monotonic()
    with Progress(transient=True, disable=not show) as progress:
        task = progress.add_task("learned user: encoder", total=config.train.max_epochs)

        def advance(epoch: int, total: int, ll: float) -> None:
            progress.update(task, completed=epoch, description=f"learned user: encoder (valid ll {ll:.3f})")

        encoder, encoder_log = fit_encoder(
            facts.vectors, split.train_interactions, split.valid, config.encoder, config.train, seed, advance
        )
        progress.update(task, description="learned user: choice, interest and rating heads")
        valid = _subset(split.valid, config.max_valid_samples, seed)
        weights, outside, interest = _fit_heads(facts, encoder, valid, config, seed)
        rating = _fit_rating(split, len(facts), config, seed)
    frame = split.train_interactions.frame
    log = {"encoder": encoder_log, "weights": weights.round(4).tolist(), "outside_utility": round(outside, 4),
           "interest": interest.round(4).tolist(), "rating": rating.log if rating else None,
           "fit_seconds": round(time.monotonic() - start, 1)}
    keys = tuple(sorted(frame["user"].astype(str).unique()))
    return LearnedUserModel(facts, encoder, weights, outside, interest, rating, keys, log)


def _subset(samples: Sequence[Sample], most: int, seed: int) -> list[Sample]:
    if len(samples) <= most:
        return list(samples)
    rows = np.sort(np.random.default_rng(seed).choice(len(samples), most, replace=False))
    return [samples[i] for i in rows]


def _fit_heads(facts, encoder, valid: list[Sample], config: LearnedUserConfig, seed: int):
    """w (conditional logit on uniform alternatives), the outside utility, the interest head."""
    rng = np.random.default_rng(seed + 1)
    histories = [s.history for s in valid]
    uniform = choice_sets(valid, len(facts), config.n_negatives, rng)
    popular = rng.random(len(valid)) < config.popular_share
    sets = np.where(popular[:, None], _popular_sets(valid, facts.popularity, config.n_negatives, rng), uniform)
    x, _ = fused_features(facts, encoder, histories, sets)
    weights = fit_conditional_logit(x)
    outside = float(np.quantile((x[~popular, 1:] @ weights), config.outside_quantile))
    pairs = np.stack([uniform[:, 0], _unseen_items(valid, len(facts), rng)], axis=1)
    x_pairs, rank = fused_features(facts, encoder, histories, pairs)
    design = interest_design((x_pairs @ weights).T.ravel(), rank.T.ravel())
    labels = np.r_[np.ones(len(valid)), np.zeros(len(valid))]
    return weights, outside, fit_logistic(design[:, :-1], labels)


def _popular_sets(samples: Sequence[Sample], popularity: np.ndarray, n: int, rng) -> np.ndarray:
    """(S, 1 + n): the target, then n distinct items drawn by training popularity (+1), != target."""
    p = np.asarray(popularity, np.float64) + 1.0
    rows = []
    for sample in samples:
        weights = p.copy()
        weights[sample.target] = 0.0
        rows.append(np.r_[sample.target, rng.choice(len(p), n, replace=False, p=weights / weights.sum())])
    return np.asarray(rows, np.int64)


def _unseen_items(samples: Sequence[Sample], n_items: int, rng: np.random.Generator) -> np.ndarray:
    """(S,) one uniform item per sample outside its history and target (rejection sampling)."""
    out = np.empty(len(samples), np.int64)
    for row, sample in enumerate(samples):
        seen = set(sample.history) | {sample.target}
        item = int(rng.integers(n_items))
        while item in seen and len(seen) < n_items:
            item = int(rng.integers(n_items))
        out[row] = item
    return out


def _fit_rating(split: Split, n_items: int, config: LearnedUserConfig, seed: int) -> RatingHead | None:
    frame = split.train_interactions.frame
    rated = frame[frame["rating"].notna()]
    if rated.empty:
        return None
    ordered = frame.sort_values(["user", "timestamp"], kind="stable")
    histories = {str(u): g.tolist() for u, g in ordered.groupby("user", sort=False)["item"]}
    return fit_rating_head(
        rated["user"].astype(str).to_numpy(), rated["item"].to_numpy(), rated["rating"].to_numpy(np.float64),
        histories, n_items, config.rating, seed,
    )


def _save(model: LearnedUserModel, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rating = model.rating
    payload = {
        "encoder": model.encoder.state_dict(), "weights": model.weights, "outside": model.outside_utility,
        "interest": model.interest, "user_keys": model.user_keys, "log": model.log,
        "rating": None if rating is None else {"state": rating.model.state_dict(), "user_row": rating.user_row,
                                               "levels": rating.levels, "log": rating.log},
    }
    partial = path.with_suffix(".tmp")
    torch.save(payload, partial)
    partial.replace(path)  # atomic: a killed fit never leaves a half-written cache entry


def _load(path: Path, facts: ItemFacts, config: LearnedUserConfig) -> LearnedUserModel:
    payload = torch.load(path, weights_only=False)
    encoder = SequenceEncoder(facts.vectors, config.encoder)
    encoder.load_state_dict(payload["encoder"])
    encoder.eval()
    rating = None
    if payload["rating"] is not None:
        saved = payload["rating"]
        net = OrdinalSVDpp(len(saved["user_row"]), len(facts), len(saved["levels"]), config.rating.dim)
        net.load_state_dict(saved["state"])
        rating = RatingHead(net.eval(), saved["user_row"], saved["levels"], saved["log"])
    return LearnedUserModel(facts, encoder, payload["weights"], payload["outside"], payload["interest"],
                            rating, tuple(payload["user_keys"]), payload["log"])
