"""The rating section: RMSE/MAE of the expected rating, and the simulated rating distribution.

A model's (n, L) rating distribution is scored twice: its EXPECTATION against the real
rating (RMSE, MAE), and one rating SAMPLED from it per event (seeded) as the simulated
user's rating, whose level distribution is compared with the real one (JSD in bits,
share of 1-2 stars) and whose per-user means are correlated with the real ones.

ML-100K's official folds: GroupLens' mku.sh writes the i-th consecutive 20,000 lines of
u.data as u{i}.test (sorted) and the other 80,000 as u{i}.base. The registry's ML-100K
(recbole's ml-100k.inter) keeps u.data's line order, so the folds are reproduced from
the event order, and only when the events ARE in that order: 100,000 events whose first
and last are u.data's (user 196, movie 242, 3 stars, 881250949; user 12, movie 203,
3 stars, 879959583). Each fold's model is built from that fold's base only.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd

from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.fidelity.checks import checked_ratings
from recagora.item_space.fidelity.heldout import training_user_keys
from recagora.item_space.metrics.fidelity import (
    expected_ratings,
    js_divergence,
    level_distribution,
    low_rating_share,
    mae,
    renormalise,
    rmse,
    user_mean_correlation,
)
from recagora.item_space.splits import leave_one_out
from recagora.item_space.types import Interactions

MAX_LEVELS = 20  # more distinct rating values than this is a continuous score, not stars
FOLD_SIZE, N_FOLDS = 20_000, 5
U_DATA_FIRST = ("196", "242", 3.0, 881250949)
U_DATA_LAST = ("12", "203", 3.0, 879959583)


def rating_levels(dataset: Dataset) -> np.ndarray | None:
    """(L,) the dataset's distinct rating values, ascending; None when it has no ratings."""
    if dataset.interactions is None:
        return None
    values = dataset.interactions.frame["rating"].dropna().unique()
    if len(values) == 0 or len(values) > MAX_LEVELS:
        return None
    return np.sort(values.astype(np.float64))


def sample_levels(probs: np.ndarray, levels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(n,) one level per row drawn from its (renormalised) distribution."""
    cdf = np.cumsum(renormalise(probs), axis=1)
    drawn = (rng.random(len(cdf))[:, None] > cdf).sum(axis=1)
    return np.asarray(levels, np.float64)[np.minimum(drawn, len(levels) - 1)]


def score_ratings(
    probs: np.ndarray, real: np.ndarray, users: np.ndarray, levels: np.ndarray, rng
) -> dict[str, float]:
    """RMSE/MAE of the expectation, and the sampled ratings' distribution against the real."""
    simulated = sample_levels(probs, levels, rng)
    return {
        "n": len(real),
        "rmse": rmse(expected_ratings(probs, levels), real),
        "mae": mae(expected_ratings(probs, levels), real),
        "jsd": js_divergence(
            level_distribution(simulated, levels), level_distribution(real, levels)
        ),
        "low_share": low_rating_share(simulated),
        "low_share_real": low_rating_share(real),
        "user_mean_correlation": user_mean_correlation(users, simulated, real),
        "distribution": level_distribution(simulated, levels).tolist(),
    }


def official_folds(dataset: Dataset) -> list[tuple[Interactions, pd.DataFrame]] | None:
    """[(u{i}.base events, u{i}.test events)] for i = 1..5, or None when the dataset's
    events are not ML-100K in u.data's order."""
    if dataset.interactions is None or len(dataset.interactions) != N_FOLDS * FOLD_SIZE:
        return None
    frame = dataset.interactions.frame
    if _event(dataset, 0) != U_DATA_FIRST or _event(dataset, len(frame) - 1) != U_DATA_LAST:
        return None
    folds = []
    for fold in range(N_FOLDS):
        test = np.zeros(len(frame), bool)
        test[fold * FOLD_SIZE : (fold + 1) * FOLD_SIZE] = True
        base = Interactions(frame=frame[~test].reset_index(drop=True))
        folds.append((base, frame[test].reset_index(drop=True)))
    return folds


def _event(dataset: Dataset, row: int) -> tuple[str, str, float, int]:
    record = dataset.interactions.frame.iloc[row]
    key = dataset.catalog[int(record["item"])].key
    return str(record["user"]), key, float(record["rating"]), int(record["timestamp"])


ModelFactory = Callable[[object], object]
RngFor = Callable[[str, int], np.random.Generator]


def fold_section(
    folds: list[tuple[Interactions, pd.DataFrame]],
    factories: Mapping[str, ModelFactory],
    levels: np.ndarray,
    rng_for: RngFor,
    on_step: Callable[[str], None],
    workers: int = 1,
) -> dict:
    """Per model: each fold's rating scores and their mean (models built per fold's base).

    workers: processes scoring folds at once, forked from this one so the factories need
        not pickle; 1 (or a platform without fork) = here, one fold after another. The
        numbers are the same either way: a fold's models and generators depend on it alone.
        In workers, on_step is called as each fold comes back instead of before each step.
    """
    workers = min(workers, len(folds))
    if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
        per_fold = _in_workers(folds, factories, levels, rng_for, on_step, workers)
    else:
        per_fold = [
            _score_fold(fold, number, factories, levels, rng_for, on_step)
            for number, fold in enumerate(folds, start=1)
        ]
    return {
        name: _fold_summary([fold[name] for fold in per_fold if fold[name] is not None])
        for name in factories
    }


def _score_fold(fold, number: int, factories, levels, rng_for: RngFor, on_step) -> dict:
    """name -> fold `number`'s rating scores, or None for a model that does not rate."""
    base, test = fold
    split = leave_one_out(base)
    histories = _histories(base)
    test = test[test["user"].isin(histories)]
    users = np.searchsorted(training_user_keys(split), test["user"].to_numpy(str))
    inputs = (users, [histories[u] for u in test["user"]], test["item"].to_numpy(np.int64))
    scores = {}
    for name, factory in factories.items():
        on_step(f"ratings u{number}: {name}")
        probs = factory(split).rating_probabilities(*inputs, levels)
        scores[name] = None
        if probs is not None:
            probs = checked_ratings(name, probs, len(test), len(levels))
            real = test["rating"].to_numpy(np.float64)
            scores[name] = score_ratings(
                probs, real, test["user"].to_numpy(), levels, rng_for(name, number)
            )
    return scores


# What forked fold workers read (set only while a pool runs): forking hands them the
# factories, closures included, without pickling.
_FORKED: tuple | None = None


def _in_workers(folds, factories, levels, rng_for, on_step, workers: int) -> list[dict]:
    global _FORKED
    _FORKED = (folds, factories, levels, rng_for)
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
            futures = {
                pool.submit(_forked_fold, number): number for number in range(1, len(folds) + 1)
            }
            per_fold = {}
            for future in as_completed(futures):
                number = futures[future]
                per_fold[number] = future.result()
                for name in factories:
                    on_step(f"ratings u{number}: {name}")
    finally:
        _FORKED = None
    return [per_fold[number] for number in sorted(per_fold)]


def _forked_fold(number: int) -> dict:
    folds, factories, levels, rng_for = _FORKED
    return _score_fold(folds[number - 1], number, factories, levels, rng_for, lambda what: None)


def _one_thread() -> None:
    """A forked worker runs torch on one thread: the parent's OpenMP pool does not survive a
    fork (a parallel region in the child can hang), and the workers already share the cores."""
    torch = sys.modules.get("torch")  # never imported here: only a model that uses it has
    if torch is not None:
        torch.set_num_threads(1)


def _histories(base: Interactions) -> dict[str, tuple[int, ...]]:
    ordered = base.frame.sort_values(["user", "timestamp"], kind="stable")
    return {
        str(u): tuple(items.tolist()) for u, items in ordered.groupby("user", sort=False)["item"]
    }


def _fold_summary(per_fold: list[dict]) -> dict:
    if not per_fold:
        return {"available": False, "reason": "the model does not rate"}
    keys = ("rmse", "mae", "jsd", "low_share", "low_share_real", "user_mean_correlation")
    mean = {key: float(np.mean([fold[key] for fold in per_fold])) for key in keys}
    return {"available": True, "mean": mean, "folds": per_fold}
