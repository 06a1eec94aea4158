"""Evaluation per the papers' protocol (Flower, Gao et al., SIGIR 2025, arXiv 2503.07377).

Full-catalog ranking of the test samples: HR@K and NDCG@K (K = 1, 3, 5, 10) on the
first exact title match, DGU and MGU over 8 popularity groups of titles in training
histories (Flower's definition), word entropy and type-token ratio of the
recommended titles, distinct titles, and the count of invalid generations. Items
sharing a title are one unit (the paper matches title strings). The metric
functions come from `recagora.item_space.metrics`; this module only maps lists to
title units and assembles the report.

The report also keeps each sample's outcome (`EvaluationReport.per_sample`), which
`write_report` saves next to the JSON as `<name>_samples.csv`, so a paired test of two
policies on the same samples (`benchmarks/paired_test.py`) needs no re-ranking.
"""

from __future__ import annotations

import csv
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
from recagora.training.decoding import BeamConfig
from recagora.training.item_tokenizers import item_names, title_units

KS = (1, 3, 5, 10)
SAMPLE_COLUMNS = ("sample", "user", "target", "hit_rank", "ranked")


class EvaluationReport(dict):
    """The metrics (a plain dict of floats, dumped to JSON as is) plus each sample's outcome.

    per_sample: SAMPLE_COLUMNS -> (n,) arrays aligned with the evaluated samples:
    sample position, user, target item, hit_rank (1-based position of the target's title
    in the ranked list, 0 = not in it) and ranked ((n, K) item ids, -1 padding).
    """

    per_sample: dict[str, np.ndarray] | None = None


def hit_ranks(ranked_units: np.ndarray, target_units: np.ndarray) -> np.ndarray:
    """(n,) int64 1-based position of each row's target in ranked_units (n, K), 0 = absent."""
    hits = ranked_units == target_units[:, None]
    return np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0).astype(np.int64)


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
) -> EvaluationReport:
    """The papers' metrics of (n, K) ranked catalog item ids (-1 padding) for `samples`."""
    unit_titles, unit_of_item, _ = title_units(item_names(catalog))
    ranked_units = np.where(ranked >= 0, unit_of_item[np.clip(ranked, 0, None)], -1)
    targets = unit_of_item[np.asarray([s.target for s in samples], dtype=np.int64)]
    counts = np.bincount(
        unit_of_item, weights=history_counts(train, len(catalog)), minlength=len(unit_titles)
    )
    groups = popularity_groups(counts.astype(np.int64), n_groups, scheme="flower")
    unfair = dgu_mgu_flower(ranked_units, groups.group, groups.share, n_groups, k=10)
    report = EvaluationReport(accuracy_report(ranked_units, targets, KS))
    report.update(
        DGU=unfair.dgu,
        MGU=unfair.mgu,
        entropy=entropy(ranked_units, unit_titles),
        TTR=type_token_ratio(ranked_units, unit_titles),
        distinct_items=float(distinct_items(ranked_units)),
        invalid=float(invalid),
        samples=float(len(samples)),
    )
    report.per_sample = {
        "sample": np.arange(len(samples)),
        "user": np.asarray([s.user for s in samples]),
        "target": np.asarray([s.target for s in samples], np.int64),
        "hit_rank": hit_ranks(ranked_units, targets),
        "ranked": np.asarray(ranked, np.int64),
    }
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


def samples_path(report_path: Path) -> Path:
    """Where `write_report` puts the per-sample rows of the report at `report_path`."""
    return report_path.with_name(report_path.stem + "_samples.csv")


def write_report(report: dict[str, float], path: Path) -> Path:
    """The metrics as JSON at `path`; an `EvaluationReport`'s per-sample rows as CSV beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    per_sample = getattr(report, "per_sample", None)
    if per_sample is not None:
        _write_samples(per_sample, samples_path(path))
    return path


def _write_samples(per_sample: dict[str, np.ndarray], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SAMPLE_COLUMNS)
        for row in range(len(per_sample["sample"])):
            values = [per_sample[c][row] for c in SAMPLE_COLUMNS[:-1]]
            ranked = " ".join(str(i) for i in per_sample["ranked"][row].tolist())
            writer.writerow([*(v.item() if hasattr(v, "item") else v for v in values), ranked])


def read_samples(path: Path) -> dict[str, np.ndarray]:
    """The per-sample rows `write_report` saved (ranked as (n, K) int64)."""
    with Path(path).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "sample": np.array([int(r["sample"]) for r in rows], np.int64),
        "user": np.array([r["user"] for r in rows]),
        "target": np.array([int(r["target"]) for r in rows], np.int64),
        "hit_rank": np.array([int(r["hit_rank"]) for r in rows], np.int64),
        "ranked": np.array([[int(i) for i in r["ranked"].split()] for r in rows], np.int64),
    }


def evaluate_checkpoint(
    checkpoint: str | Path,
    catalog: Catalog,
    samples: Sequence[Sample],
    train: Sequence[Sample],
    num_beams: int = 10,
    batch_size: int = 32,
    on_batch=None,
    length_penalty: float = 0.0,
) -> EvaluationReport:
    """Load a trained policy and report the papers' metrics on `samples`.

    num_beams, length_penalty: the beam search's `BeamConfig` (checked before loading).
    on_batch: called with the number of samples ranked after each batch (progress).
    """
    from recagora.training.data import validate_samples
    from recagora.training.policy import GenerativeRecommender

    beam = BeamConfig(num_beams=num_beams, length_penalty=length_penalty)  # checks first
    validate_samples(samples, len(catalog), "evaluation")
    policy = GenerativeRecommender.load(checkpoint, catalog)
    ranked, _, invalid = policy.rank(
        [s.history for s in samples], beam.num_beams, batch_size, on_batch, beam.length_penalty
    )
    report = evaluate_rankings(ranked, samples, catalog, train, invalid=invalid)
    report.update(num_beams=float(beam.num_beams), length_penalty=float(beam.length_penalty))
    return report
