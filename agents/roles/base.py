"""Shared types of the TriRec roles: the user cohort, each role's batch output, the role protocols.

Every role works on a whole COHORT at once: `idx` (m,) int64 are the positions of the
users handled this call (usually the active ones) in the `UserCohort`; every array an
output carries is aligned with `idx`. Outputs carry `events`: plain JSON-able dicts the
environment appends to its event log. Agents never write files and never mutate their
inputs: state goes in, new state comes out (so a LangGraph checkpoint can hold it).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

import numpy as np

from recagora.item_space.types import Catalog

RECENT_DECAY = 0.9  # weight of an item one step older in the "recent taste" vector
# Rows per block of a row-wise update: a 100k-user (n, d) float64 temporary is 300 MB of
# fresh pages the kernel zeroes on every call; 2048-row blocks stay cached (~6x faster).
ROW_BLOCK = 2048


@dataclass(frozen=True, repr=False)
class UserCohort:
    """The simulated users and what they have consumed so far.

    keys: (n,) dataset user keys.
    histories: n lists of dense item ids, oldest first (training history + consumed in the run).
    memories: (n,) persona/memory text the LLM roles read and rewrite.
    history_sum: (n, d) float32 sum of the history items' vectors.
    history_len: (n,) int64 number of items in the history.
    recent_sum: (n, d) float32 sum of history vectors weighted RECENT_DECAY**age (age 0 = last).
    category_counts: (n, C) float32 how often each catalog category occurs in the history.
    satisfaction: (n,) float64 in [0, 1], see `satisfaction.py`.
    idle_rounds: (n,) int64 consecutive rounds without consumption.
    active: (n,) bool, False once the user left the platform.
    """

    keys: tuple[str, ...]
    histories: tuple[tuple[int, ...], ...]
    memories: tuple[str, ...]
    history_sum: np.ndarray
    history_len: np.ndarray
    recent_sum: np.ndarray
    category_counts: np.ndarray
    satisfaction: np.ndarray
    idle_rounds: np.ndarray
    active: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        # A summary: the full field dump of a 100k-user cohort is ~100 MB of text, and
        # asyncio.run builds it (Python 3.11 puts the finished main task's result in an
        # error message while restoring the SIGINT handler): 0.7 s twice per episode.
        return f"UserCohort({len(self)} users, {int(self.active.sum())} active)"

    def taste_vectors(self, idx: np.ndarray) -> np.ndarray:
        """(m, d) float32 L2-normalised mean history vector (TriRec's user embedding)."""
        return unit_rows(_gathered(self.history_sum, idx))

    def recent_vectors(self, idx: np.ndarray) -> np.ndarray:
        """(m, d) float32 L2-normalised recency-weighted history vector."""
        return unit_rows(_gathered(self.recent_sum, idx))

    def active_indices(self) -> np.ndarray:
        """(m,) int64 positions of the users still on the platform."""
        return np.flatnonzero(self.active).astype(np.int64)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _gathered(array: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """array[idx] as an array of its own (fancy indexing copies; a view is copied here)."""
    rows = array[idx]
    return rows.copy() if np.shares_memory(rows, array) else rows


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """(m, d) float32 rows L2-normalised IN PLACE: `_normalise`'s arithmetic bit for bit
    (np.linalg.norm is sqrt(add.reduce(x * x)) for real rows), in row blocks, without its
    three (m, d) temporaries (150 MB each at 100k users: fresh pages every round)."""
    if rows.dtype != np.float32 or rows.ndim != 2:
        return _normalise(rows)
    for start in range(0, len(rows), ROW_BLOCK):  # per row the same sums, no (m, d) temporary
        part = rows[start : start + ROW_BLOCK]
        norms = np.sqrt(np.add.reduce(part * part, axis=-1, keepdims=True))
        np.divide(part, np.maximum(norms, 1e-12), out=part)
    return rows


@dataclass(frozen=True)
class ItemFacts:
    """What the roles read from the catalog, computed once.

    vectors: (N, d) float32 L2-normalised item vectors.
    categories: (N, C) float32 indicator over the C most frequent category labels (C may be 0).
    popularity: (N,) int64 training interactions per item.
    """

    catalog: Catalog
    vectors: np.ndarray
    categories: np.ndarray
    category_labels: tuple[str, ...]
    popularity: np.ndarray

    @classmethod
    def from_catalog(
        cls, catalog: Catalog, popularity: np.ndarray | None = None, max_categories: int = 64
    ) -> ItemFacts:
        """Needs `catalog.vectors`.

        popularity: (N,) TRAINING interactions per item (e.g. `split.train_interactions.item_counts(N)`);
            None = `catalog.popularity`, else zeros.
        """
        if catalog.vectors is None:
            raise ValueError(f"catalog {catalog.name!r} has no vectors: embed it first")
        matrix, labels = _category_matrix(catalog, max_categories)
        popularity = catalog.popularity if popularity is None else popularity
        if popularity is None:
            popularity = np.zeros(len(catalog), np.int64)
        vectors = _normalise(np.asarray(catalog.vectors, np.float32))
        return cls(catalog, vectors, matrix, tuple(labels), np.asarray(popularity, np.int64))

    def __len__(self) -> int:
        return len(self.catalog)


def _category_matrix(catalog: Catalog, max_categories: int) -> tuple[np.ndarray, list[str]]:
    """(N, C) float32 item x category indicator over the C most frequent labels, and the labels."""
    counts: dict[str, int] = {}
    for item in catalog.items:
        for label in item.categories:
            counts[label] = counts.get(label, 0) + 1
    labels = sorted(counts, key=lambda name: (-counts[name], name))[:max_categories]
    column = {name: j for j, name in enumerate(labels)}
    matrix = np.zeros((len(catalog), len(labels)), dtype=np.float32)
    for item in catalog.items:
        for label in item.categories:
            if label in column:
                matrix[item.id, column[label]] = 1.0
    return matrix, labels


def build_cohort(
    facts: ItemFacts,
    keys: Sequence[str],
    histories: Sequence[Sequence[int]],
    memories: Sequence[str],
    initial_satisfaction: float = 0.5,
) -> UserCohort:
    """A fresh cohort from training histories (never the held-out items: that is the caller's split).

    Args:
        facts: the catalog's vectors and categories.
        keys, histories, memories: one entry per user (see `persona.persona_memory`).
        initial_satisfaction: everyone's satisfaction in round 0, in [0, 1].
    """
    n, dim = len(keys), facts.vectors.shape[1]
    cohort = UserCohort(
        keys=tuple(str(key) for key in keys),
        histories=tuple(() for _ in range(n)),
        memories=tuple(memories),
        history_sum=np.zeros((n, dim), np.float32),
        history_len=np.zeros(n, np.int64),
        recent_sum=np.zeros((n, dim), np.float32),
        category_counts=np.zeros((n, facts.categories.shape[1]), np.float32),
        satisfaction=np.full(n, initial_satisfaction, np.float64),
        idle_rounds=np.zeros(n, np.int64),
        active=np.ones(n, bool),
    )
    return append_consumed(cohort, facts, np.arange(n), [list(h) for h in histories])


def history_coordinates(
    histories: Sequence[Sequence[int]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, items, lengths) int64: one (row, item) pair per history entry, oldest first,
    and each history's length (the coordinates of a sparse user x item matrix)."""
    lengths = np.fromiter((len(h) for h in histories), np.int64, count=len(histories))
    rows = np.repeat(np.arange(len(histories)), lengths)
    items = np.fromiter(
        itertools.chain.from_iterable(histories), np.int64, count=int(lengths.sum())
    )
    return rows, items, lengths


def history_weights(histories: Sequence[Sequence[int]], n_items: int):
    """Sparse (U, N) user x item matrices of many histories: counts, and RECENT_DECAY**age weights.

    `counts @ vectors` sums each history's vectors; `decayed @ vectors` is the recent-taste sum.
    """
    import scipy.sparse

    rows, cols, lengths = history_coordinates(histories)
    age = np.repeat(np.cumsum(lengths), lengths) - 1 - np.arange(len(cols))  # 0 = most recent
    shape = (len(histories), n_items)
    counts = scipy.sparse.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=shape)
    decayed = scipy.sparse.csr_matrix(
        ((RECENT_DECAY**age).astype(np.float32), (rows, cols)), shape=shape
    )
    return counts, decayed, lengths


def append_consumed(
    cohort: UserCohort, facts: ItemFacts, idx: np.ndarray, consumed: Sequence[Sequence[int]]
) -> UserCohort:
    """A new cohort where user idx[r] (distinct rows) has consumed `consumed[r]` (oldest first)."""
    rows = np.asarray(idx, np.int64)
    history_add, recent_add, category_add, lengths = _consumed_sums(facts, consumed)
    history_sum, recent_sum = cohort.history_sum.copy(), cohort.recent_sum.copy()
    history_len, category_counts = cohort.history_len.copy(), cohort.category_counts.copy()
    history_sum[rows] += history_add
    decay = RECENT_DECAY**lengths  # (r,) float64: the update below is computed in float64
    for start in range(0, len(rows), ROW_BLOCK):  # blocks: no (r, d) float64 temporaries
        part, block = rows[start : start + ROW_BLOCK], slice(start, start + ROW_BLOCK)
        recent_sum[part] = recent_sum[part] * decay[block, None] + recent_add[block]
    history_len[rows] += lengths
    category_counts[rows] += category_add
    histories = list(cohort.histories)
    for row, items in zip(rows.tolist(), consumed, strict=True):
        if len(items):
            histories[row] = histories[row] + tuple(map(int, items))
    return replace(
        cohort,
        histories=tuple(histories),
        history_sum=history_sum,
        history_len=history_len,
        recent_sum=recent_sum,
        category_counts=category_counts,
    )


def _consumed_sums(
    facts: ItemFacts, consumed: Sequence[Sequence[int]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row of `consumed`: (r, d) sum and recency-weighted sum of the items' vectors,
    (r, C) category counts, (r,) int64 lengths.

    One item per row (a round's consumption) is a gather: the sparse product computes
    0 + 1 * v per entry, which `v + 0` reproduces bit for bit (-0.0 included) without
    building three sparse matrices (~3x faster at 100k users).
    """
    if len(consumed) and all(len(items) == 1 for items in consumed):
        items = np.fromiter((items[0] for items in consumed), np.int64, count=len(consumed))
        vectors = facts.vectors[items] + np.float32(0.0)
        categories = facts.categories[items] + np.float32(0.0)
        return vectors, vectors, categories, np.ones(len(items), np.int64)
    counts, decayed, lengths = history_weights(consumed, len(facts))
    return (
        counts @ facts.vectors,
        decayed @ facts.vectors,
        np.asarray(counts @ facts.categories),
        lengths,
    )


@dataclass(frozen=True)
class Promotions:
    """Item agents' self-promotions for one round, as rows of a table of distinct texts.

    table: distinct texts, table[0] == "" (no promotion); ids: (m, K) int32 table rows
    aligned with the candidates. At 100k users a round holds a million promotions but
    few distinct texts, so agents pass ids around, never a million strings.
    """

    table: tuple[str, ...]
    ids: np.ndarray
    events: list[dict] = field(default_factory=list)

    @classmethod
    def from_texts(cls, texts: Sequence[Sequence[str]], events: list[dict] | None = None):
        """From m lists of K strings ("" = no promotion)."""
        rows: dict[str, int] = {"": 0}
        ids = [[rows.setdefault(text, len(rows)) for text in row] for row in texts]
        width = len(texts[0]) if len(texts) else 0
        return cls(tuple(rows), np.asarray(ids, np.int32).reshape(len(texts), width), events or [])

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Promotions:
        """No promotion for any of (m, K) candidates."""
        return cls(("",), np.zeros(shape, np.int32))

    @property
    def texts(self) -> list[list[str]]:
        """m lists of K strings (materialised: prefer `row` or `ids` in loops)."""
        return [self.row(r) for r in range(len(self.ids))]

    def row(self, r: int) -> list[str]:
        """The K texts of row r."""
        return [self.table[i] for i in self.ids[r].tolist()]

    def any(self) -> bool:
        """True when at least one candidate carries a promotion."""
        return bool(self.ids.any())

    def take(self, order: np.ndarray) -> Promotions:
        """The same promotions re-aligned with re-ranked slates: row r takes columns order[r]."""
        return Promotions(self.table, np.take_along_axis(self.ids, order, axis=1))


@dataclass(frozen=True)
class Scores:
    """The user agent's relevance scores r(u, i) in [0, 10].

    scores: (m, k) float64 aligned with the candidates; an unscored candidate gets 0.
    complete: (m,) bool, True when every candidate got a score (after the retries).
    reasons: (m,) the user's one-line reason ("" when none).
    """

    scores: np.ndarray
    complete: np.ndarray
    reasons: list[str]
    events: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Reranked:
    """The platform's final slates.

    slates: (m, K) int64 item ids, best first; order: (m, K) int64 candidate columns, best
    first (slates = take_along_axis(candidates, order)); exposure: the state after these users.
    """

    slates: np.ndarray
    order: np.ndarray
    exposure: ExposureState
    events: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Responses:
    """What users did with their slate.

    chosen: (m,) int64 consumed item id, -1 = consumed nothing.
    round_satisfaction: (m,) float64 in [0, 1], this round's satisfaction signal q_t.
    """

    chosen: np.ndarray
    round_satisfaction: np.ndarray
    events: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class ExposureState:
    """The platform's position-weighted exposure per popularity group, across users AND rounds.

    group_weight: (G,) float64 sum of w(k) over every slot filled from group g; total: its sum.
    """

    group_weight: np.ndarray
    total: float = 0.0

    @classmethod
    def empty(cls, n_groups: int) -> ExposureState:
        return cls(group_weight=np.zeros(n_groups, np.float64), total=0.0)


@runtime_checkable
class UserAgent(Protocol):
    """Scores candidates, consumes from the slate, may leave, reflects (TriRec user agent)."""

    name: str

    async def score(
        self, cohort: UserCohort, idx: np.ndarray, candidates: np.ndarray, promotions: Promotions
    ) -> Scores: ...

    async def respond(
        self,
        cohort: UserCohort,
        idx: np.ndarray,
        slates: np.ndarray,
        promotions: Promotions,
        rng: np.random.Generator,
    ) -> Responses: ...

    async def reflect(
        self,
        cohort: UserCohort,
        idx: np.ndarray,
        slates: np.ndarray,
        responses: Responses,
        rng: np.random.Generator,
    ) -> tuple[UserCohort, list[dict]]: ...


@runtime_checkable
class ItemAgent(Protocol):
    """Writes self-promotions and keeps a buffered memory per item (TriRec item agent)."""

    name: str

    def init_state(self) -> ItemMemoryState: ...

    async def promote(
        self, state: ItemMemoryState, cohort: UserCohort, idx: np.ndarray, candidates: np.ndarray
    ) -> Promotions: ...

    async def update_memory(
        self,
        state: ItemMemoryState,
        cohort: UserCohort,
        idx: np.ndarray,
        candidates: np.ndarray,
        promotions: Promotions,
    ) -> tuple[ItemMemoryState, list[dict]]: ...


@runtime_checkable
class PlatformAgent(Protocol):
    """Generates candidates and re-ranks them (TriRec platform agent)."""

    name: str

    def init_exposure(self) -> ExposureState: ...

    def candidates(
        self,
        cohort: UserCohort,
        idx: np.ndarray,
        rng: np.random.Generator,
        targets: np.ndarray | None = None,
    ) -> np.ndarray: ...

    def rerank(
        self,
        exposure: ExposureState,
        cohort: UserCohort,
        idx: np.ndarray,
        candidates: np.ndarray,
        scores: Scores,
    ) -> Reranked: ...


@dataclass(frozen=True)
class ItemMemoryState:
    """Item memories that differ from the catalog facts, and the promotions waiting to be folded in.

    memories: item id -> current memory text (absent = the catalog facts).
    buffers: item id -> served (audience, promotion) pairs not yet folded into the memory.
    rewrites: item id -> how many times the memory was rewritten.
    """

    memories: dict[int, str] = field(default_factory=dict)
    buffers: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    rewrites: dict[int, int] = field(default_factory=dict)


def pair_cosine(
    users: np.ndarray,
    vectors: np.ndarray,
    candidates: np.ndarray,
    block: int = 8192,
    dtype: type = np.float32,
) -> np.ndarray:
    """(m, K) dot products users[r] . vectors[candidates[r, j]], in blocks of users.

    users: (m, d); vectors: (N, d); candidates: (m, K) int64. Blocking keeps the gathered
    (block, K, d) tensor small at 100k users. dtype: of the products and the result.
    """
    out = np.empty(candidates.shape, dtype)
    for start in range(0, len(candidates), block):
        part = slice(start, start + block)
        out[part] = np.einsum("md,mkd->mk", users[part], vectors[candidates[part]], dtype=dtype)
    return out
