"""Composition root: trained models from training/ wired into the scenarios.

`candidate_scorer_factory` trains SASRec (Kang & McAuley, ICDM 2018) on a run's TRAIN
split only (`split.train_interactions`: the held-out valid/test items never reach it),
seeded, and caches the checkpoint under the user cache dir keyed by dataset, split and
config, so the next run with the same key loads it instead of training. TriRec (Gong et
al. 2026) draws its hard-negative candidates from this model.

`served_scorer` / `served_shortlists` put a checkpoint from `recagora train` (or a SASRec
`.pt`) behind the platform: TriRec's `candidates.source=recommender` and the grounded
loop's `recommender` (`recagora run SCENARIO --recommender RUN`).
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
    added: dict[str, Any] = {}
    source = getattr(getattr(config, "candidates", None), "source", None)
    if source == "sasrec":
        added["candidate_scorer_factory"] = sasrec_scorer
    elif source == "recommender":
        added["candidate_scorer_factory"] = served_scorer
    if getattr(config, "recommender", ""):
        added["shortlist_factory"] = served_shortlists
    return {**added, **extras}


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


# --- serving a trained checkpoint as the platform's recommender --------------------------


def check_recommender(path: str | Path) -> dict[str, Any]:
    """Cheap checks of a `--recommender` path before any data loads; what kind it is.

    A folder must hold a readable checkpoint of a known method (`verify_checkpoint` reads
    the manifest, the weights header and the tokenizer); a file must be a SASRec `.pt`.

    Raises:
        ModelError: missing path, not a checkpoint, unreadable files, unknown method.
    """
    from recagora.item_space.errors import ModelError

    source = Path(path)
    if not source.exists():
        raise ModelError(
            f"recommender {str(source)!r} does not exist; pass a run folder from `recagora train`"
        )
    if source.is_file():
        from recagora.training.baselines.sasrec import SASRecRecommender

        model = SASRecRecommender.load(source)
        return {"kind": "sasrec", "n_items": model.n_items}
    from recagora.training.checkpoints import verify_checkpoint
    from recagora.training.policy import policy_config
    from recagora.training.registry import TRAINERS

    manifest = verify_checkpoint(source)
    policy_config(manifest)
    if manifest["method"] not in TRAINERS:
        raise ModelError(
            f"recommender {str(source)!r} holds a checkpoint of unknown method "
            f"{manifest['method']!r}; known: {', '.join(TRAINERS)}"
        )
    return {"kind": "generative", **manifest}


def check_catalog(path: str | Path, manifest: dict[str, Any], catalog: Any) -> None:
    """Refuse a checkpoint of another catalog: item count, then the hash of the titles.

    SASRec files store only their item count, so only that is compared for them.
    """
    from recagora.item_space.errors import ModelError
    from recagora.training.item_tokenizers import catalog_fingerprint, generation_titles

    trained_on = f"{manifest.get('catalog', 'a catalog')!r} ({manifest['n_items']} items)"
    here = f"{catalog.name!r} ({len(catalog)} items)"
    same_size = int(manifest["n_items"]) == len(catalog)
    titled = manifest.get("kind") == "generative" and manifest.get("item_kind", "title") == "title"
    if same_size and titled:
        same_size = manifest["fingerprint"] == catalog_fingerprint(generation_titles(catalog))
    if not same_size:
        raise ModelError(
            f"recommender {str(path)!r} was trained on catalog {trained_on}, not this run's "
            f"{here}; pass the dataset it was trained on (--dataset) or another checkpoint"
        )


class ServedRecommender:
    """A checkpoint behind the platform: full-catalog scores for a batch of histories.

    Generative policies rank by trie beam search with `num_beams` beams (the order
    `recagora evaluate` reports; a UGR checkpoint loaded with order="confidence" re-ranks
    them by its confidence); the items no beam reached rank below all of them, by training
    popularity, so protocols that need more items than the beams found (hard negatives
    after excluding a history) still get a deterministic order. `reject` > 0 (Fan et al.,
    KDD 2026, selective recommendation) gives the least confident share of each scored
    batch, by the UGR confidence of the item it would be served first, the popularity
    ranking instead of the policy's.
    """

    def __init__(
        self, model: Any, popularity: np.ndarray, num_beams: int, name: str, reject: float = 0.0
    ):
        self.model, self.num_beams, self.name, self.reject = model, num_beams, name, reject
        self.popularity = np.asarray(popularity, np.float64)

    def score_batch(self, histories: Sequence[Sequence[int]]) -> np.ndarray:
        """(m, n_items) float64, higher = recommended first."""
        histories = [list(h) for h in histories]
        if not hasattr(self.model, "titles"):  # SASRec: real scores for every item
            return np.asarray(self.model.score_batch(histories), np.float64)
        scores = self.model.score_batch(histories, self.num_beams)
        if self.reject > 0:
            from recagora.training.ugr_confidence import rejected_users

            confidence = self.user_confidence(histories, scores)
            scores[rejected_users(confidence, self.reject)] = -np.inf  # -> popularity order
        return fill_unranked(scores, self.popularity)

    def user_confidence(self, histories: list[list[int]], scores: np.ndarray) -> np.ndarray:
        """(m,) UGR confidence of each history's first-served item (0 when no beam reached)."""
        rows = np.arange(len(scores))
        first = np.argmax(scores, axis=1)
        reached = np.isfinite(scores[rows, first])
        if self.model.order == "confidence":  # the scores already are the confidences
            return np.where(reached, scores[rows, first], 0.0)
        ranked = np.where(reached, first, -1)[:, None]
        return self.model.confidence(histories, ranked)[:, 0]

    def top_k(self, histories: Sequence[Sequence[int]], k: int) -> np.ndarray:
        """(m, k) int64 best items of each history, the history's own items left out."""
        scores = self.score_batch(histories)
        for row, history in enumerate(histories):
            scores[row, list(history)] = -np.inf
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def fill_unranked(scores: np.ndarray, popularity: np.ndarray) -> np.ndarray:
    """-inf entries of each row moved just below the row's lowest finite score, by popularity."""
    out = np.array(scores, np.float64)
    reached = np.isfinite(out)
    floor = np.where(reached, out, np.inf).min(axis=1, keepdims=True)
    floor = np.where(np.isfinite(floor), floor, 0.0) - 1.0
    share = np.asarray(popularity, np.float64) / (np.max(popularity, initial=0.0) + 1.0)
    return np.where(reached, out, floor - 1.0 + share[None, :])


def load_served(
    path: str | Path,
    catalog: Any,
    popularity: np.ndarray,
    num_beams: int = 10,
    order: str = "beam",
    reject: float = 0.0,
) -> ServedRecommender:
    """The checkpoint at `path` as a `ServedRecommender` for `catalog` (checked first).

    popularity: (N,) training interaction counts (the order of items no beam reached).
    order, reject: serving by UGR confidence (`ServedRecommender`); both need a
    checkpoint with confidence tokens (a semantic-ID run).

    Raises:
        ModelError: see `check_recommender` and `check_catalog`.
        ConfigError: order="confidence" or reject > 0 with a checkpoint that has no confidence.
    """
    info = check_recommender(path)
    check_catalog(path, info, catalog)
    if info["kind"] == "sasrec":
        _require_confidence(path, order == "beam" and reject == 0.0)
        from recagora.training.baselines.sasrec import SASRecRecommender

        model = SASRecRecommender.load(path, n_items=len(catalog))
        return ServedRecommender(model, popularity, num_beams, name=f"sasrec:{Path(path).name}")
    from recagora.training.policy import GenerativeRecommender

    model = GenerativeRecommender.load(path, catalog, order=order)
    _require_confidence(path, reject == 0.0 or model.has_confidence)
    return ServedRecommender(model, popularity, num_beams, name=model.name, reject=reject)


def _require_confidence(path: str | Path, ok: bool) -> None:
    from recagora.item_space.errors import ConfigError

    if not ok:
        raise ConfigError(
            f"recommender {str(path)!r} has no UGR confidence tokens, so it cannot be served by "
            "confidence; use a semantic-ID checkpoint (games-semids) or recommender_order=beam, "
            "recommender_reject=0"
        )


def served_scorer(config: Any, dataset: Any, split: Any) -> Callable[[Sequence], np.ndarray]:
    """TriRec's candidate scorer from `config.candidates.recommender` (histories -> (m, N))."""
    candidates = config.candidates
    served = load_served(
        candidates.recommender,
        dataset.catalog,
        _popularity(dataset, split),
        candidates.recommender_beams,
        candidates.recommender_order,
        candidates.recommender_reject,
    )
    return served.score_batch


def served_shortlists(
    config: Any, dataset: Any, split: Any
) -> Callable[[Sequence, int], np.ndarray]:
    """The grounded loop's shortlist from `config.recommender`: (histories, k) -> (m, k)."""
    beams = max(10, config.shortlist_size)
    served = load_served(config.recommender, dataset.catalog, _popularity(dataset, split), beams)
    return served.top_k


def _popularity(dataset: Any, split: Any) -> np.ndarray:
    return split.train_interactions.item_counts(len(dataset.catalog))
