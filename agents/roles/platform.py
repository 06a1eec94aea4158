"""TriRec's platform agent: candidates from the shared item space, then the sequential re-ranking.

Gong et al., arXiv 2603.10673: stage 1 retrieves K candidates per user (SASRec in the
paper; here the content-based neighbourhood of the user's history in the shared item
space, or any `Recommender`); stage 2 re-ranks them for the user's relevance scores, item
utility and popularity-group exposure fairness (`recagora.agents.rerank`). The fairness
target is the TRAINING exposure distribution over equal-size popularity groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from recagora.agents.rerank import TriRecConfig, rerank
from recagora.agents.roles.base import (
    ExposureState,
    ItemFacts,
    Reranked,
    Scores,
    UserCohort,
    history_coordinates,
    pair_cosine,
)
from recagora.item_space.popularity import popularity_groups
from recagora.item_space.recommender import Recommender
from recagora.item_space.types import UserHistory

# Users per gathered (block, K, d) tensor: small enough to stay in cache (~3x faster
# than 8192 at 100k users; the same numbers, each product being computed alone).
CACHE_BLOCK = 256


@runtime_checkable
class NeighbourSource(Protocol):
    """An item space: top-k items near each history's mean vector, (U, k) int64, -1 padded."""

    def neighbours_batch(self, histories: Any, k: int) -> np.ndarray: ...


@dataclass(frozen=True)
class PlatformConfig:
    """How the platform builds and orders each user's candidate list."""

    n_candidates: int = field(
        default=10,
        metadata={"help": "Candidates K per user and round (paper: 10 = 1 target + 9 negatives)."},
    )
    trirec: TriRecConfig = field(
        default_factory=TriRecConfig, metadata={"help": "Re-ranking weights (paper defaults)."}
    )
    log_slates: bool = field(
        default=True,
        metadata={"help": "Emit one 'rerank' event per user (False: one summary per call)."},
    )


class TriRecPlatform:
    """Candidates + TriRec re-ranking; the exposure state travels in and out (never kept here).

    Args:
        facts: catalog vectors and TRAINING popularity (the fairness target).
        source: an `ItemSpace` (anything with `neighbours_batch`) or a `Recommender`;
            None = exact cosine search over `facts.vectors` (the same maths as a flat index).
    """

    name = "trirec"

    def __init__(
        self,
        facts: ItemFacts,
        source: NeighbourSource | Recommender | None = None,
        config: PlatformConfig | None = None,
    ) -> None:
        self.facts = facts
        self.source = source
        self.config = config or PlatformConfig()
        groups = popularity_groups(facts.popularity, self.config.trirec.n_groups, scheme="trirec")
        self.item_group, self.p_train = groups.group, groups.share

    def init_exposure(self) -> ExposureState:
        """No exposure yet."""
        return ExposureState.empty(self.config.trirec.n_groups)

    def candidates(
        self,
        cohort: UserCohort,
        idx: np.ndarray,
        rng: np.random.Generator,
        targets: np.ndarray | None = None,
    ) -> np.ndarray:
        """(m, K) int64 candidate ids per user, never an item of the user's history.

        targets: (m,) held-out item per user (-1 = none). When given, the paper's protocol:
            the target replaces the last candidate if retrieval missed it, and every row is
            shuffled with `rng` (so the stage-1 order carries no hint of the target).
        """
        k = self.config.n_candidates
        histories = [cohort.histories[i] for i in idx.tolist()]
        found = self._retrieve(histories, cohort.taste_vectors(idx), k)
        found = _fill_missing(found, histories, self.facts.popularity)
        if targets is None:
            return found
        return _insert_targets(found, np.asarray(targets, np.int64), rng)

    def _retrieve(
        self, histories: list[tuple[int, ...]], profiles: np.ndarray, k: int
    ) -> np.ndarray:
        if isinstance(self.source, NeighbourSource):
            return np.asarray(self.source.neighbours_batch(histories, k), np.int64)
        if isinstance(self.source, Recommender):
            return _recommend_each(self.source, histories, k)
        return exact_neighbours(self.facts.vectors, profiles, histories, k)

    def rerank(
        self,
        exposure: ExposureState,
        cohort: UserCohort,
        idx: np.ndarray,
        candidates: np.ndarray,
        scores: Scores,
    ) -> Reranked:
        """TriRec stage 2 over the cohort, users in `idx` order; returns slates and new exposure."""
        users = cohort.taste_vectors(idx)  # (m, d)
        affinity = pair_cosine(users, self.facts.vectors, candidates, block=CACHE_BLOCK)
        order, after = rerank(
            scores.scores,
            affinity,
            self.item_group[candidates],
            exposure,
            self.p_train,
            self.config.trirec,
        )
        slates = np.take_along_axis(candidates, order, axis=1)
        return Reranked(
            slates=slates,
            order=order,
            exposure=after,
            events=self._events(cohort, idx, slates, after),
        )

    def _events(self, cohort, idx, slates, after: ExposureState) -> list[dict]:
        summary = {
            "role": "platform",
            "impl": self.name,
            "kind": "exposure",
            "group_weight": after.group_weight.round(6).tolist(),
            "total": round(after.total, 6),
        }
        if not self.config.log_slates:
            return [summary]
        per_user = [
            {
                "role": "platform",
                "impl": self.name,
                "kind": "rerank",
                "user": cohort.keys[u],
                "slate": row,
            }
            for u, row in zip(idx.tolist(), slates.tolist(), strict=True)
        ]
        return per_user + [summary]


def exact_neighbours(
    vectors: np.ndarray,
    profiles: np.ndarray,
    histories: list[tuple[int, ...]],
    k: int,
    block: int = 4096,
) -> np.ndarray:
    """(U, k) int64 items with the highest cosine to each profile, the user's history excluded.

    profiles: (U, d) unit history mean vectors (the cohort keeps them up to date).
    Blocked brute force (one matrix product per block); used when no item space is wired in.
    """
    out = np.full((len(histories), k), -1, np.int64)
    for start in range(0, len(histories), block):
        part = histories[start : start + block]
        rows, flat, _ = history_coordinates(part)
        similarity = profiles[start : start + block] @ vectors.T  # (B, N)
        similarity[rows, flat] = -np.inf
        top = (
            np.argpartition(similarity, -k, axis=1)[:, -k:]
            if k < vectors.shape[0]
            else np.tile(np.arange(vectors.shape[0]), (len(part), 1))
        )
        ranked = np.take_along_axis(top, np.argsort(-np.take_along_axis(similarity, top, 1), 1), 1)
        out[start : start + len(part), : ranked.shape[1]] = ranked
    return out


def _recommend_each(
    recommender: Recommender, histories: list[tuple[int, ...]], k: int
) -> np.ndarray:
    out = np.full((len(histories), k), -1, np.int64)
    for row, history in enumerate(histories):
        ranking = recommender.recommend(UserHistory(user=str(row), items=list(history)), k)
        out[row, : len(ranking)] = ranking.items[:k]
    return out


def _fill_missing(
    found: np.ndarray, histories: list[tuple[int, ...]], popularity: np.ndarray
) -> np.ndarray:
    """Replace -1 slots by the most popular items not yet in the row nor the history."""
    found = found.copy()
    by_popularity = np.argsort(-popularity, kind="stable")
    for row in np.flatnonzero((found < 0).any(axis=1)):
        taken = set(found[row][found[row] >= 0].tolist()) | set(histories[row])
        fillers = (int(i) for i in by_popularity if int(i) not in taken)
        for col in np.flatnonzero(found[row] < 0):
            found[row, col] = next(fillers)
    return found


def _insert_targets(found: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Put each row's target in (replacing the last candidate when missing), then shuffle rows."""
    found = found.copy()
    missing = (targets >= 0) & ~(found == targets[:, None]).any(axis=1)
    found[missing, -1] = targets[missing]
    return rng.permuted(found, axis=1)
