"""Fit a `LearnedUserModel` on a split (training events + validation next items), cached on disk.

Two sides, each fitted on first use (the test split is never read):
  choice: 1. the SASRec encoder on `split.train_interactions`, epochs chosen on `split.valid`;
          2. EASE on the training events, lambda chosen on the calibration samples: a seeded
             subset of `split.valid` with the suite's gap (`calibration_samples`);
          3. w, its slate context (`context.py`) and the outside option on the calibration samples;
          4. the interest head on the same samples (seconds: refitted after every load);
          5. the list head (`list_choice.py`) on validation lists of the same samples (seconds);
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
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch

from recagora.agents.learned_user.context import (
    SlateContext,
    choose_l2,
    context_utilities,
    fit_context_logit,
)
from recagora.agents.learned_user.itemitem import ease_scores, fit_ease
from recagora.agents.learned_user.list_choice import fit_validation_list_head
from recagora.agents.learned_user.model import (
    ChoicePart,
    LearnedUserConfig,
    LearnedUserModel,
    fit_logistic,
    fused_features,
    interest_design,
    interest_logits,
    score_and_rank,
)
from recagora.agents.learned_user.network import SequenceEncoder
from recagora.agents.learned_user.rating import OrdinalSVDpp, RatingHead, fit_rating_head
from recagora.agents.learned_user.train import fit_encoder
from recagora.agents.roles.base import ItemFacts
from recagora.item_space.embedding import cache_dir
from recagora.item_space.fidelity.heldout import sample_negatives
from recagora.item_space.threads import torch_threads
from recagora.item_space.types import Interactions, Sample, Split

FIT_VERSION = "learned-user-6"  # 5: the slate context of w; 6: both kinds of set per target
EASE_PROBE = 2000  # calibration samples that pick the EASE lambda


def fit_learned_user(
    facts: ItemFacts,
    split: Split,
    seed: int = 0,
    config: LearnedUserConfig | None = None,
    show_progress: bool = True,
    cache: bool = True,
    on_progress: Callable[[str], None] | None = None,
) -> LearnedUserModel:
    """The learned user of `split`; each side is fitted on first use, or loaded from the cache
    when this exact fit was done before.

    on_progress: called with a one-line status during a choice fit (e.g. to retitle a caller's
        progress bar); None = a rich bar of its own when show_progress.
    """
    config = config or LearnedUserConfig()
    keys = tuple(sorted(split.train_interactions.frame["user"].astype(str).unique()))

    def choice() -> ChoicePart:
        key = cache_key(split, seed, dataclasses.replace(config, rating=None), facts)
        part = _cached(cache, f"choice-{key}", lambda: _fit_choice(facts, split, seed, config, show_progress, on_progress),
                       _save_choice, lambda payload: _load_choice(payload, facts, config), config.threads)
        samples, seen = calibration_samples(split.valid, config, seed)
        part = dataclasses.replace(part, interest=_fit_interest(facts, part, samples, seen, seed))  # seconds: never cached
        head = fit_validation_list_head(lambda h, items: interest_logits(facts, part, h, items), samples, seen, len(facts), seed)
        return dataclasses.replace(part, list_head=head)  # the list head reads the interest head: fitted after it

    def rating() -> RatingHead | None:
        key = cache_key(split, seed, config.rating)
        return _cached(cache, f"rating-{key}", lambda: _fit_rating(split, len(facts), config, seed),
                       _save_rating, lambda payload: _load_rating(payload, len(facts), config), config.threads)

    return LearnedUserModel(facts, keys, choice, rating)


def cache_key(split: Split, seed: int, config, facts: ItemFacts | None = None) -> str:
    """sha256 (24 hex) of what a side's fit reads: the split protocol, training events,
    (choice side: validation samples and item facts), its config, the seed and FIT_VERSION."""
    digest = hashlib.sha256(FIT_VERSION.encode())
    if split.protocol != "loo":
        # The protocol is named in the key, not only implied by which events are training:
        # a fit on one protocol would leak another's held-out items. (loo keys stay as they
        # were, so the caches fitted before other protocols existed stay valid.) A seeded
        # protocol's seed picks its training events, which the key hashes below.
        digest.update(f"|split={split.protocol}|".encode())
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
    with torch_threads(threads):
        fitted = fit()
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        torch.save(save(fitted), partial)
        partial.replace(path)  # atomic: a killed fit never leaves a half-written cache entry
    return fitted


def _fit_choice(
    facts: ItemFacts, split: Split, seed: int, config: LearnedUserConfig, show: bool, on_progress=None
) -> ChoicePart:
    start = time.monotonic()
    with _status(config.train.max_epochs + 2, show and on_progress is None, on_progress) as status:

        def advance(epoch: int, total: int, ll: float) -> None:
            status(f"learned user: encoder epoch {epoch}/{total} (valid ll {ll:.3f})", epoch)

        status("learned user: encoder epoch 0", 0)
        encoder, encoder_log = fit_encoder(
            facts.vectors, split.train_interactions, split.valid, config.encoder, config.train, seed, advance
        )
        status("learned user: item-item (EASE)", config.train.max_epochs)
        samples, seen = calibration_samples(split.valid, config, seed)
        item_item, ease_log = _fit_item_item(split.train_interactions, len(facts), samples, config)
        status("learned user: choice head", config.train.max_epochs + 1)
        weights, outside, context, context_log = _fit_heads(facts, encoder, item_item, samples, seen, config, seed)
    log = {"encoder": encoder_log, "item_item": ease_log, "weights": weights.round(4).tolist(),
           "context": context_log, "outside_utility": round(outside, 4),
           "fit_seconds": round(time.monotonic() - start, 1)}
    return ChoicePart(encoder, weights, outside, None, log, item_item, context=context)


@contextmanager
def _status(total: int, bar: bool, on_progress: Callable[[str], None] | None):
    """status(text, completed): a rich bar of its own (bar), else on_progress(text), else nothing."""
    from rich.progress import Progress

    with Progress(transient=True, disable=not bar) as progress:
        task = progress.add_task("learned user", total=total)

        def status(text: str, completed: int) -> None:
            progress.update(task, completed=completed, description=text)
            if on_progress is not None:
                on_progress(text)

        yield status


def calibration_samples(
    valid: Sequence[Sample], config: LearnedUserConfig, seed: int
) -> tuple[list[Sample], list[frozenset[int]]]:
    """A seeded subset of the validation samples as the suite's gap sees them: the history
    without its last `calibration_gap - 1` items; and each sample's seen items (its whole
    history and target: never a negative, as in the suite)."""
    drop = config.calibration_gap - 1
    long_enough = [s for s in valid if len(s.history) > drop]
    if not long_enough:  # every history is too short to shorten: calibrate one step ahead
        long_enough, drop = list(valid), 0
    kept = _subset(long_enough, config.max_valid_samples, seed)
    samples = [dataclasses.replace(s, history=s.history[: len(s.history) - drop]) for s in kept]
    return samples, [frozenset(s.history) | {s.target} for s in kept]


def _subset(samples: Sequence[Sample], most: int, seed: int) -> list[Sample]:
    if len(samples) <= most:
        return list(samples)
    rows = np.sort(np.random.default_rng(seed).choice(len(samples), most, replace=False))
    return [samples[i] for i in rows]


def _fit_item_item(events: Interactions, n_items: int, samples: list[Sample], config: LearnedUserConfig):
    """EASE B, lambda chosen by the mean log catalog rank of the calibration targets."""
    probe = samples[:EASE_PROBE]
    histories = [s.history for s in probe]
    targets = torch.as_tensor([[s.target] for s in probe])

    def score(b: np.ndarray) -> float:
        # the target's log share of the catalog scoring at least as high: higher is better
        _, rank = score_and_rank(ease_scores(b, histories), targets)
        return -float(rank.mean())

    b, log = fit_ease(events, n_items, config.item_item, score)
    return b.astype(np.float16).astype(np.float32), log  # stored as float16: a cold fit and a load agree


def _fit_heads(facts, encoder, item_item, samples: list[Sample], seen, config: LearnedUserConfig, seed: int):
    """w and its slate context (`context.py`) on the calibration choice sets, the L2 of the
    context chosen by cross-validation over the samples; the outside utility; a log.

    Every calibration target is shown both kinds of set (alternatives drawn uniformly, and by
    training popularity): the context learns how the two differ from the same choices (one
    kind per target, drawn at random, left ML-100K's popularity-slate ECE at 0.051, both 0.035)."""
    rng = np.random.default_rng(seed + 1)
    targets = np.array([s.target for s in samples], np.int64)[:, None]
    uniform = sample_negatives(np.ones(len(facts)), seen, config.n_negatives, rng, "calibration")
    by_count = sample_negatives(facts.popularity + 1.0, seen, config.n_negatives, rng, "calibration")
    sets = np.concatenate([np.column_stack([targets, uniform]), np.column_stack([targets, by_count])])
    histories = [s.history for s in samples]
    x, _ = fused_features(facts, encoder, histories + histories, sets, item_item=item_item)
    l2, scores = choose_l2(x, config.context_l2, seed + 3, groups=np.tile(np.arange(len(samples)), 2))
    weights, context = fit_context_logit(x, l2)
    # the utilities of the uniform sets' random items, each in its own slate's context
    outside = float(np.quantile(context_utilities(x[: len(samples)], weights, context)[:, 1:], config.outside_quantile))
    return weights, outside, context, {"l2": l2, "cross_validated_ll": scores}


def _fit_interest(facts: ItemFacts, part: ChoicePart, samples: list[Sample], seen, seed: int) -> np.ndarray:
    """The interest head: logistic regression of calibration targets (1) against as many
    never-seen items (0) on `interest_design`."""
    rng = np.random.default_rng(seed + 2)
    targets = np.array([s.target for s in samples], np.int64)
    pairs = np.column_stack([targets, sample_negatives(np.ones(len(facts)), seen, 1, rng, "calibration")])
    x, rank = fused_features(facts, part.encoder, [s.history for s in samples], pairs, item_item=part.item_item)
    flat = rank.transpose(1, 0, 2).reshape(-1, rank.shape[-1])
    design = interest_design(x.transpose(1, 0, 2).reshape(-1, x.shape[-1]), flat)
    labels = np.r_[np.ones(len(samples)), np.zeros(len(samples))]
    return fit_logistic(design[:, :-1], labels)


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
    item_item = None if part.item_item is None else part.item_item.astype(np.float16)
    context = None if part.context is None else dataclasses.asdict(part.context)
    return {"encoder": part.encoder.state_dict(), "weights": part.weights, "outside": part.outside_utility,
            "log": part.log, "item_item": item_item, "context": context}


def _load_choice(payload: dict, facts: ItemFacts, config: LearnedUserConfig) -> ChoicePart:
    encoder = SequenceEncoder(facts.vectors, config.encoder)
    encoder.load_state_dict(payload["encoder"])
    item_item = payload.get("item_item")
    item_item = None if item_item is None else item_item.astype(np.float32)
    context = payload.get("context")
    context = None if context is None else SlateContext(**context)
    return ChoicePart(encoder.eval(), payload["weights"], payload["outside"], None, payload["log"], item_item,
                      context=context)


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
