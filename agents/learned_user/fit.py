"""Fit a `LearnedUserModel` on a split (training events + validation next items), cached on disk.

Two sides, each fitted on first use (the test split is never read):
  choice: 1. the SASRec encoder on `split.train_interactions`, epochs chosen on `split.valid`;
          2. w and the outside option on (a seeded subset of) `split.valid`;
          3. the interest head on the same subset (seconds: refitted after every load);
  rating: the ordinal SVD++ on the training ratings, when the training events carry any.
Each side is cached under a key hashing what it reads (training events; for the choice
side also the validation samples and the item facts), its config, the seed and
FIT_VERSION, so any change of data or recipe refits that side.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from recagora.agents.learned_user.model import (
    ChoicePart,
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

FIT_VERSION = "learned-user-3"


def fit_learned_user(
    facts: ItemFacts,
    split: Split,
    seed: int = 0,
    config: LearnedUserConfig | None = None,
    show_progress: bool = True,
    cache: bool = True,
) -> LearnedUserModel:
    """The learned user of `split`; each side is fitted on first use, or loaded from the cache
    when this exact fit was done before."""
    config = config or LearnedUserConfig()
    keys = tuple(sorted(split.train_interactions.frame["user"].astype(str).unique()))

    def choice() -> ChoicePart:
        key = cache_key(split, seed, dataclasses.replace(config, rating=None), facts)
        part = _cached(cache, f"choice-{key}", lambda: _fit_choice(facts, split, seed, config, show_progress),
                       _save_choice, lambda payload: _load_choice(payload, facts, config), config.threads)
        valid = _subset(split.valid, config.max_valid_samples, seed)
        return dataclasses.replace(part, interest=_fit_interest(facts, part, valid, seed))  # seconds: never cached

    def rating() -> RatingHead | None:
        key = cache_key(split, seed, config.rating)
        return _cached(cache, f"rating-{key}", lambda: _fit_rating(split, len(facts), config, seed),
                       _save_rating, lambda payload: _load_rating(payload, len(facts), config), config.threads)

    return LearnedUserModel(facts, keys, choice, rating)


def cache_key(split: Split, seed: int, config, facts: ItemFacts | None = None) -> str:
    """sha256 (24 hex) of what a side's fit reads: training events, (choice side: validation
    samples and item facts), its config, the seed and FIT_VERSION."""
    digest = hashlib.sha256(FIT_VERSION.encode())
    frame = split.train_interactions.frame[["user", "item", "rating", "timestamp"]]
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    if facts is not None:
        for sample in split.valid:
            digest.update(f"{sample.user}|{sample.target}|{sample.history}".encode())
        for array in (facts.vectors, facts.categories, facts.popularity):
            digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(json.dumps([dataclasses.asdict(config), seed], sort_keys=True).encode())
    return digest.hexdigest()[:24]


def _cached(use_cache: bool, stem: str, fit: Callable, save: Callable, load: Callable, threads: int):
    """Load `stem` from the cache, or fit (with `threads` torch threads) and store it."""
    path = cache_dir() / "learned_user" / f"{stem}.pt"
    if use_cache and path.exists():
        return load(torch.load(path, weights_only=False))
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        fitted = fit()
    finally:
        torch.set_num_threads(previous)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        torch.save(save(fitted), partial)
        partial.replace(path)  # atomic: a killed fit never leaves a half-written cache entry
    return fitted


def _fit_choice(facts: ItemFacts, split: Split, seed: int, config: LearnedUserConfig, show: bool) -> ChoicePart:
    from rich.progress import Progress

    start = time.monotonic()
    with Progress(transient=True, disable=not show) as progress:
        task = progress.add_task("learned user: encoder", total=config.train.max_epochs)

        def advance(epoch: int, total: int, ll: float) -> None:
            progress.update(task, completed=epoch, description=f"learned user: encoder (valid ll {ll:.3f})")

        encoder, encoder_log = fit_encoder(
            facts.vectors, split.train_interactions, split.valid, config.encoder, config.train, seed, advance
        )
        progress.update(task, description="learned user: choice head")
        valid = _subset(split.valid, config.max_valid_samples, seed)
        weights, outside = _fit_heads(facts, encoder, valid, config, seed)
    log = {"encoder": encoder_log, "weights": weights.round(4).tolist(), "outside_utility": round(outside, 4),
           "fit_seconds": round(time.monotonic() - start, 1)}
    return ChoicePart(encoder, weights, outside, None, log)


def _subset(samples: Sequence[Sample], most: int, seed: int) -> list[Sample]:
    if len(samples) <= most:
        return list(samples)
    rows = np.sort(np.random.default_rng(seed).choice(len(samples), most, replace=False))
    return [samples[i] for i in rows]


def _fit_heads(facts, encoder, valid: list[Sample], config: LearnedUserConfig, seed: int):
    """w (conditional logit on the validation choice sets) and the outside utility."""
    rng = np.random.default_rng(seed + 1)
    histories = [s.history for s in valid]
    uniform = choice_sets(valid, len(facts), config.n_negatives, rng)
    popular = rng.random(len(valid)) < config.popular_share
    sets = np.where(popular[:, None], _popular_sets(valid, facts.popularity, config.n_negatives, rng), uniform)
    x, _ = fused_features(facts, encoder, histories, sets)
    weights = fit_conditional_logit(x)
    outside = float(np.quantile((x[~popular, 1:] @ weights), config.outside_quantile))
    return weights, outside


def _fit_interest(facts: ItemFacts, part: ChoicePart, valid: list[Sample], seed: int) -> np.ndarray:
    """The interest head: logistic regression of validation targets (1) against as many
    never-seen items (0) on `interest_design`."""
    rng = np.random.default_rng(seed + 2)
    targets = np.array([s.target for s in valid], np.int64)
    pairs = np.stack([targets, _unseen_items(valid, len(facts), rng)], axis=1)
    x, rank = fused_features(facts, part.encoder, [s.history for s in valid], pairs)
    design = interest_design(x.transpose(1, 0, 2).reshape(-1, x.shape[-1]), rank.T.ravel())
    labels = np.r_[np.ones(len(valid)), np.zeros(len(valid))]
    return fit_logistic(design[:, :-1], labels)


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


def _save_choice(part: ChoicePart) -> dict:
    return {"encoder": part.encoder.state_dict(), "weights": part.weights, "outside": part.outside_utility,
            "log": part.log}


def _load_choice(payload: dict, facts: ItemFacts, config: LearnedUserConfig) -> ChoicePart:
    encoder = SequenceEncoder(facts.vectors, config.encoder)
    encoder.load_state_dict(payload["encoder"])
    return ChoicePart(encoder.eval(), payload["weights"], payload["outside"], None, payload["log"])


def _save_rating(head: RatingHead | None) -> dict | None:
    if head is None:
        return None
    return {"state": head.model.state_dict(), "user_row": head.user_row, "levels": head.levels, "log": head.log}


def _load_rating(payload: dict | None, n_items: int, config: LearnedUserConfig) -> RatingHead | None:
    if payload is None:
        return None
    net = OrdinalSVDpp(len(payload["user_row"]), n_items, len(payload["levels"]), config.rating.dim)
    net.load_state_dict(payload["state"])
    return RatingHead(net.eval(), payload["user_row"], payload["levels"], payload["log"])
