"""Evaluation per the papers' protocol (Flower section 1.6 of our notes).

Full-catalog ranking of the test samples: HR@K and NDCG@K (K = 1, 3, 5, 10) on the
first exact title match, DGU and MGU over 8 popularity groups of titles in training
histories (Flower's definition), word entropy and type-token ratio of the
recommended titles, distinct titles, and the count of invalid generations. Items
sharing a title are one unit (the paper matches title strings). The metric
functions come from `recagora.item_space.metrics`; this module only maps lists to
title units and assembles the report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recagora.item_space.metrics import (
    accuracy_report,
    dgu_mgu_flower,
    distinct_items,
    entropy,
    type_token_ratio,
)
from recagora.item_space.popularity import history_counts, popularity_groups
from recagora.item_space.recommender import Recommender
from recagora.item_space.types import Catalog, Sample, UserHistory
from recagora.training.item_tokenizers import generation_titles, title_units

KS = (1, 3, 5, 10)


def pick_samples(samples: Sequence[Sample], max_samples: int, seed: int) -> list[Sample]:
    """All samples, or a seeded subset of `max_samples` (order kept)."""
    if max_samples <= 0 or max_samples >= len(samples):
        return list(samples)
    chosen = np.sort(
        np.random.default_rng(seed).choice(len(samples), size=max_samples, replace=False)
    )
    return [samples[i] for i in chosen]


def evaluate_rankings(
    ranked: np.ndarray,
    samples: Sequence[Sample],
    catalog: Catalog,
    train: Sequence[Sample],
    invalid: int = 0,
    n_groups: int = 8,
) -> dict[str, float]:
    """The papers' metrics of (n, K) ranked catalog item ids (-1 padding) for `samples`."""
    titles = generation_titles(catalog)
    unit_titles, unit_of_item, _ = title_units(titles)
    ranked_units = np.where(ranked >= 0, unit_of_item[np.clip(ranked, 0, None)], -1)
    targets = unit_of_item[np.asarray([s.target for s in samples], dtype=np.int64)]
    counts = np.bincount(
        unit_of_item, weights=history_counts(train, len(catalog)), minlength=len(unit_titles)
    )
    groups = popularity_groups(counts.astype(np.int64), n_groups, scheme="flower")
    unfair = dgu_mgu_flower(ranked_units, groups.group, groups.share, n_groups, k=10)
    report = accuracy_report(ranked_units, targets, KS)
    report.update(
        DGU=unfair.dgu,
        MGU=unfair.mgu,
        entropy=entropy(ranked_units, unit_titles),
        TTR=type_token_ratio(ranked_units, unit_titles),
        distinct_items=float(distinct_items(ranked_units)),
        invalid=float(invalid),
        samples=float(len(samples)),
    )
    return report


def rank_with_recommender(
    recommender: Recommender, samples: Sequence[Sample], k: int = 10
) -> np.ndarray:
    """(n, k) item ids from any `Recommender` (-1 where it returned fewer)."""
    out = np.full((len(samples), k), -1, dtype=np.int64)
    for row, sample in enumerate(samples):
        ranking = recommender.recommend(
            UserHistory(user=sample.user, items=list(sample.history)), k
        )
        out[row, : len(ranking)] = ranking.items[:k]
    return out


def write_report(report: dict[str, float], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    return path


def evaluate_checkpoint(
    checkpoint: str | Path,
    catalog: Catalog,
    samples: Sequence[Sample],
    train: Sequence[Sample],
    num_beams: int = 10,
    batch_size: int = 32,
    on_batch=None,
) -> dict[str, float]:
    """Load a trained policy and report the papers' metrics on `samples`.

    on_batch: called with the number of samples ranked after each batch (progress).
    """
    from recagora.training.data import validate_samples
    from recagora.training.policy import GenerativeRecommender

    validate_samples(samples, len(catalog), "evaluation")
    policy = GenerativeRecommender.load(checkpoint, catalog)
    histories = [s.history for s in samples]
    ranked, _, invalid = policy.rank(histories, num_beams, batch_size, on_batch)
    return evaluate_rankings(ranked, samples, catalog, train, invalid=invalid)
