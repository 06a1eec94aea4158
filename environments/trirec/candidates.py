"""Candidate sets with TriRec's hard-negative protocol (Gong et al. 2026, arXiv 2603.10673).

The paper scores every item with SASRec, takes the top 10, drops the ground truth if it
is there, keeps 9 hard negatives, adds the ground truth and shuffles (|C| = 10). Sources:
  - "itemspace": the platform agent's own retrieval (nearest neighbours of the history
    in the shared item space). Under TriRec's item-utility gate the held-out item is then
    nearly always the least similar candidate, so it lands last (NDCG@5 = 0): kept for
    comparison, not as the default.
  - "sasrec": the protocol above over a scorer (histories -> (m, N) scores) that
    experiments/ trains on the run's training split and passes in (floor 4 wires it).
  - "popularity": k - 1 negatives sampled without replacement in proportion to training
    popularity (+1 smoothing), the usual popularity-sampled negatives of offline ranking.
  - "recommender": the same top-(k-1) protocol over a trained checkpoint's scores
    (`candidates.recommender`, served by experiments/wiring.py): the platform recommends
    what that policy ranks highest.
Neither the user's history nor the ground truth is ever a negative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from recagora.agents.roles.base import history_coordinates

CANDIDATE_SOURCES = ("itemspace", "sasrec", "popularity", "recommender")
# Sources whose negatives are the top of a scorer's ranking (floor 4 supplies the scorer).
SCORED_SOURCES = ("sasrec", "recommender")

# histories (m lists of item ids) -> (m, N) float scores, higher = more likely next item.
Scorer = Callable[[Sequence[Sequence[int]]], np.ndarray]


def hard_negative_candidates(
    scores: np.ndarray,
    histories: Sequence[Sequence[int]],
    targets: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(m, k) int64: the top k-1 scored items (history and target excluded) + the target, shuffled.

    scores: (m, N); targets: (m,) held-out item, -1 = none (then the top k items are kept).
    """
    masked = _exclude(np.array(scores, dtype=np.float64), histories, targets)
    top = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    return _with_targets(top, targets, rng)


def popularity_candidates(
    popularity: np.ndarray,
    histories: Sequence[Sequence[int]],
    targets: np.ndarray,
    k: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(m, k) int64: k-1 negatives drawn by popularity (history and target excluded) + the target.

    Sampling without replacement in proportion to popularity (+1 smoothing), vectorised:
    each row draws a stream of i.i.d. items and keeps the first k distinct allowed ones,
    which is exactly successive sampling without replacement from the allowed items. A
    row whose stream is too short draws more (never restarts: a restart would favour
    popular sets), and after `PASSES` the few rows left finish through `rng.choice`.
    """
    weights = np.asarray(popularity, np.float64) + 1.0  # +1: unseen items stay drawable
    cdf = _BucketedCdf(np.cumsum(weights) / weights.sum())
    out = np.empty((len(histories), k), np.int64)
    n, block = len(weights), max(1, MASK_BUDGET // len(weights))
    for start in range(0, len(histories), block):
        rows = np.arange(start, min(start + block, len(histories)))
        forbidden = _forbidden_mask(histories, targets, rows, n)
        out[rows] = _draw_block(cdf, weights, forbidden, k, rng)
    return _with_targets(out, targets, rng)


# Vectorised passes (each adds k * DRAWS_PER_SLOT draws to unfinished rows) before the
# rows still short finish one at a time; rows per block of the dense (rows, N) mask.
PASSES, DRAWS_PER_SLOT, MASK_BUDGET = 3, 4, 1 << 25


def _draw_block(cdf, weights, forbidden: np.ndarray, k: int, rng) -> np.ndarray:
    """(B, k) the first k distinct allowed items of each row's i.i.d. stream."""
    out = np.empty((len(forbidden), k), np.int64)
    pending = np.arange(len(forbidden))
    stream = np.zeros((len(forbidden), 0), np.int64)
    for _ in range(PASSES):
        more = cdf.search(rng.random((len(pending), k * DRAWS_PER_SLOT)))
        stream = np.concatenate([stream, np.minimum(more, len(cdf) - 1)], axis=1)
        good = _first_occurrence(stream) & ~np.take_along_axis(forbidden[pending], stream, 1)
        rank = np.cumsum(good, axis=1)
        done = rank[:, -1] >= k
        kept = good & (rank <= k)
        out[pending[done]] = stream[done][kept[done]].reshape(-1, k)
        pending, stream, kept = pending[~done], stream[~done], kept[~done]
        if not len(pending):
            return out
    for row, found, drawn in zip(pending.tolist(), kept, stream, strict=True):
        out[row] = _finish_row(weights, forbidden[row], drawn[found], k, rng)
    return out


class _BucketedCdf:
    """`np.searchsorted(cdf, u)` (side left) for u in [0, 1), through 2**16 equal buckets:
    a u in bucket b = floor(u * 2**16) has its answer between the answers for the
    bucket's two ends, and where those agree (all but the few buckets holding a cdf
    value) that IS the answer; the rest are searched. The same indices, ~3x faster on
    the 4M draws of a 100k-user round (the bucket of u is exact: scaling by 2**16 is)."""

    BUCKETS = 1 << 16

    def __init__(self, cdf: np.ndarray) -> None:
        self.cdf = cdf
        ends = np.searchsorted(cdf, np.arange(self.BUCKETS + 1) / self.BUCKETS)
        self.low, self.high = ends[:-1], ends[1:]

    def __len__(self) -> int:
        return len(self.cdf)

    def search(self, draws: np.ndarray) -> np.ndarray:
        bucket = (draws * self.BUCKETS).astype(np.int64)
        found = self.low[bucket]
        unsure = np.flatnonzero(found != self.high[bucket])
        flat = found.reshape(-1)
        flat[unsure] = np.searchsorted(self.cdf, draws.reshape(-1)[unsure])
        return found


def _first_occurrence(draws: np.ndarray) -> np.ndarray:
    """(B, D) bool: True where the value has not appeared earlier in its row."""
    order = np.argsort(draws, axis=1, kind="stable")
    ranked = np.take_along_axis(draws, order, axis=1)
    first = np.ones(draws.shape, bool)
    first[:, 1:] = ranked[:, 1:] != ranked[:, :-1]
    out = np.empty_like(first)
    np.put_along_axis(out, order, first, axis=1)
    return out


def _forbidden_mask(histories, targets, rows: np.ndarray, n: int) -> np.ndarray:
    """(B, N) bool: True for the items in the row's history and for its target."""
    mask = np.zeros((len(rows), n), bool)
    history_rows, items, _ = history_coordinates([histories[r] for r in rows.tolist()])
    mask[history_rows, items] = True
    wanted = targets[rows]
    has = np.flatnonzero(wanted >= 0)
    mask[has, wanted[has]] = True
    return mask


def _finish_row(weights, forbidden_row, found: np.ndarray, k: int, rng) -> np.ndarray:
    """The found items, then successive draws without replacement among the rest."""
    p = np.where(forbidden_row, 0.0, weights)
    p[found] = 0.0
    rest = rng.choice(len(p), size=k - len(found), replace=False, p=p / p.sum())
    return np.concatenate([found, rest])


def _exclude(
    scores: np.ndarray, histories: Sequence[Sequence[int]], targets: np.ndarray
) -> np.ndarray:
    for row, history in enumerate(histories):
        scores[row, list(history)] = -np.inf
    has_target = targets >= 0
    scores[np.flatnonzero(has_target), targets[has_target]] = -np.inf
    return scores


def _with_targets(
    negatives: np.ndarray, targets: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """The last column becomes the target (when there is one); each row is then shuffled."""
    rows = negatives.copy()
    has_target = targets >= 0
    rows[has_target, -1] = targets[has_target]
    return rng.permuted(rows, axis=1)


def candidate_function(
    source: str, k: int, popularity: np.ndarray, scorer: Scorer | None = None, block: int = 4096
) -> Callable | None:
    """The `(cohort, idx, rng, targets=) -> (m, k)` hook for `source`; None = platform retrieval.

    popularity: (N,) TRAINING interaction counts; scorer: required for `SCORED_SOURCES`.
    """
    if source == "itemspace":
        return None
    if source in SCORED_SOURCES and scorer is None:
        raise ValueError(f"candidates.source={source!r} needs a scorer")

    def generate(cohort, idx: np.ndarray, rng: np.random.Generator, targets=None) -> np.ndarray:
        histories = [cohort.histories[i] for i in np.asarray(idx).tolist()]
        wanted = np.full(len(histories), -1, np.int64) if targets is None else np.asarray(targets)
        if source == "popularity":
            return popularity_candidates(popularity, histories, wanted, k, rng)
        blocks = [  # (block, N) scores at a time: 100k-user cohorts stay in memory
            hard_negative_candidates(
                scorer(histories[s : s + block]),
                histories[s : s + block],
                wanted[s : s + block],
                k,
                rng,
            )
            for s in range(0, len(histories), block)
        ]
        return np.concatenate(blocks) if blocks else np.zeros((0, k), np.int64)

    return generate
