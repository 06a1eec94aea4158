"""Who takes part in an episode: real users of the dataset, or a synthetic population.

Leave-one-out split (TriRec's protocol): each user's LAST interaction is the held-out
item; everything before it is the user's training history. Item popularity (the
fairness target and the surrogates' prior) counts every interaction except the
held-out ones, so nothing about the test items leaks into the platform.

`--users N` samples N distinct real users (seeded). `--population N` builds N
synthetic users, each a copy of a real user's history and held-out item drawn
uniformly WITH replacement (seeded); synthetic user j of real user u is keyed
"u#j". This lets a 943-user dataset drive a 100k-user benchmark.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields, replace

import numpy as np

from recagora.agents.roles.base import UserCohort
from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Split


@dataclass(frozen=True)
class CohortDraw:
    """The drawn users. histories: n tuples of item ids (oldest first); ratings: aligned
    (NaN = implicit); targets: (n,) int64 held-out items; sources: the real user behind each."""

    keys: tuple[str, ...]
    histories: tuple[tuple[int, ...], ...]
    ratings: tuple[tuple[float, ...], ...]
    targets: np.ndarray
    sources: tuple[str, ...]
    synthetic: bool


def draw_cohort(
    dataset: Dataset,
    split: Split,
    users: int,
    population: int | None,
    rng: np.random.Generator,
    max_history: int | None = None,
) -> CohortDraw:
    """Sample the episode's users (see module docstring) from a leave-one-out `split`.

    Raises:
        ConfigError: more real users asked for than the dataset has (and no population).
    """
    tests = split.test
    if not tests:
        raise ConfigError(
            f"dataset {dataset.name!r} has no user with a held-out item; pick another dataset"
        )
    if population is not None:
        rows = rng.integers(0, len(tests), size=population)
        keys = tuple(f"{tests[r].user}#{j}" for j, r in enumerate(rows.tolist()))
    else:
        if users > len(tests):
            raise ConfigError(
                f"--users {users} exceeds the {len(tests)} users of {dataset.name!r}; "
                f"lower --users or pass --population {users} to resample real users"
            )
        rows = rng.choice(len(tests), size=users, replace=False)
        keys = tuple(tests[r].user for r in rows.tolist())
    drawn = [tests[r] for r in rows.tolist()]
    keep = max_history or None
    return CohortDraw(
        keys=keys,
        histories=tuple(tuple(s.history[-keep:] if keep else s.history) for s in drawn),
        ratings=_history_ratings(dataset, drawn, keep),
        targets=np.asarray([s.target for s in drawn], dtype=np.int64),
        sources=tuple(s.user for s in drawn),
        synthetic=population is not None,
    )


def _history_ratings(
    dataset: Dataset, samples: list, keep: int | None
) -> tuple[tuple[float, ...], ...]:
    """Ratings aligned with each sample's (truncated) history: the events just before its target."""
    frame = dataset.interactions.frame.sort_values(["user", "timestamp"], kind="stable")
    by_user = {
        str(user): group["rating"].to_numpy(float)
        for user, group in frame.groupby("user", sort=False)
    }
    memo: dict[str, tuple[float, ...]] = {}
    for sample in samples:
        if sample.user not in memo:
            length = min(len(sample.history), keep or len(sample.history))
            before_target = by_user[str(sample.user)][:-1]
            memo[sample.user] = tuple(before_target[len(before_target) - length :].tolist())
    return tuple(memo[s.user] for s in samples)


def training_popularity(dataset: Dataset, split: Split) -> np.ndarray:
    """(N,) int64 interactions per item, the held-out (last) interaction of each user excluded."""
    counts = dataset.interactions.item_counts(len(dataset.catalog))
    held_out = np.bincount([s.target for s in split.test], minlength=len(dataset.catalog))
    return counts - held_out


def cohort_slice(cohort: UserCohort, start: int, stop: int) -> UserCohort:
    """Users start..stop-1 of `cohort` as a cohort of their own (a shard's users)."""
    return replace(cohort, **{f.name: getattr(cohort, f.name)[start:stop] for f in fields(cohort)})


def concat_cohorts(parts: list[UserCohort]) -> UserCohort:
    """The cohort of `parts` one after another (the inverse of slicing into shards)."""
    joined = {}
    for f in fields(UserCohort):
        values = [getattr(part, f.name) for part in parts]
        if isinstance(values[0], tuple):
            joined[f.name] = tuple(itertools.chain.from_iterable(values))
        else:
            joined[f.name] = np.concatenate(values)
    return UserCohort(**joined)
