"""Composition root for what environments/ may not import: trained models from training/.

`candidate_scorer_factory` trains SASRec (Kang & McAuley, ICDM 2018) on a run's TRAIN
split only (`split.train_interactions`: the held-out valid/test items never reach it),
seeded, and caches the checkpoint under the user cache dir keyed by dataset, split and
config, so the next run with the same key loads it instead of training. TriRec (Gong et
al. 2026) draws its hard-negative candidates from this model.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def scenario_extras(config: Any, extras: dict[str, Any]) -> dict[str, Any]:
    """`extras` plus the trained-model factories this scenario config needs (caller's win)."""
    candidates = getattr(config, "candidates", None)
    if getattr(candidates, "source", None) != "sasrec":
        return extras
    return {"candidate_scorer_factory": sasrec_scorer, **extras}


def sasrec_scorer(config: Any, dataset: Any, split: Any) -> Callable[[Sequence], np.ndarray]:
    """histories -> (m, N) SASRec scores; trained on the split's training interactions, cached."""
    from recagora.training.baselines.sasrec import SASRecConfig, SASRecRecommender

    n_items = len(dataset.catalog)
    sasrec_config = SASRecConfig(epochs=config.candidates.sasrec_epochs, seed=config.seed)
    path = sasrec_cache_path(dataset.name, split, sasrec_config, n_items)
    if path.is_file():
        model = SASRecRecommender.load(path, n_items=n_items)
    else:
        model = _train(SASRecRecommender(n_items, sasrec_config), split, path)
    return model.score_batch


def _train(model: Any, split: Any, path: Path) -> Any:
    print(
        f"training SASRec for candidates ({model.config.epochs} epochs, "
        f"{len(split.train_interactions)} training interactions); cached at {path}",
        file=sys.stderr,
        flush=True,
    )
    result = model.fit(split.train_interactions)
    print(f"SASRec trained in {result.seconds:.0f} s", file=sys.stderr, flush=True)
    model.save(path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)  # atomic: a killed run leaves no half checkpoint
    return model


def sasrec_cache_path(dataset_name: str, split: Any, sasrec_config: Any, n_items: int) -> Path:
    """<user cache>/recagora/sasrec/<dataset>-<hash of split + config>.pt."""
    from dataclasses import asdict

    from recagora.item_space.embedding import cache_dir

    frame = split.train_interactions.frame
    hasher = hashlib.sha256(json.dumps([split.protocol, n_items, asdict(sasrec_config)]).encode())
    for column in ("user", "item"):  # the exact training interactions, in order
        hasher.update(frame[column].astype(str).str.cat(sep=",").encode())
    safe_name = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(dataset_name))
    return cache_dir() / "sasrec" / f"{safe_name}-{hasher.hexdigest()[:16]}.pt"
