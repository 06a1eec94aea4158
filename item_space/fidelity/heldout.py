"""The held-out inputs of the fidelity suite, built ONCE and shown identically to every model.

Protocol: leave-one-out, chronological by default (the split the suite is given, normally
`dataset.split("loo")`: the held-out item is the user's last) or random
(`dataset.split("random_loo", seed=S)`: a seeded random one, as Agent4Rec and most
simulator fidelity studies hold out); the report's header names it (`split`, `split_seed`).
A user's held-out items are their valid and test targets; the
test target is what the choice, discrimination, rating and population sections ask
about. The history a model sees is the user's TRAINING events only (oldest first), never
a held-out item: `check_no_leakage` enforces it before any model is called. A user whose
held-out item also occurs in their training events (a re-purchase) cannot be asked about
it without leaking, so that user is skipped and counted.

User ids: the protocol's `users` are ints; a user's int is its position in the sorted
unique user keys of the split's TRAINING interactions (`training_user_keys`, the same
convention as `agents.user_models.user_keys`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.errors import RecAgoraError
from recagora.item_space.types import Split

# Negatives are drawn in blocks of rows whose dense (rows, N) key matrix stays this small.
MASK_BUDGET = 1 << 24


class FidelityError(RecAgoraError):
    """The fidelity suite cannot run on this input (too few held-out users, K too large,
    an unknown user model, ...)."""


@dataclass(frozen=True)
class HeldOut:
    """One row per evaluated user.

    keys: (n,) user keys; users: (n,) int64 ids (positions in `user_keys`);
    histories: n tuples of training item ids, oldest first; targets: (n,) int64 test item;
    ratings: (n,) float64 rating of the test item (NaN when unrated);
    seen: n frozensets of every item the user ever interacted with (never a negative);
    held_out: n frozensets of the user's held-out items (valid and test targets).
    """

    keys: np.ndarray
    users: np.ndarray
    histories: list[tuple[int, ...]]
    targets: np.ndarray
    ratings: np.ndarray
    seen: list[frozenset[int]]
    held_out: list[frozenset[int]]
    user_keys: np.ndarray
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.targets)


def build_heldout(
    dataset: Dataset, split: Split, *, n_users: int | None, rng: np.random.Generator
) -> HeldOut:
    """The held-out rows of `n_users` users drawn (seeded) among the eligible ones.

    Eligible: the user has a test target, at least one training event, and no held-out
    item among their training events. n_users None = every eligible user.
    Raises:
        FidelityError: no eligible user, or fewer than n_users.
    """
    train = _items_by_user(split.train_interactions.frame)
    held = defaultdict(set)
    for sample in (*split.valid, *split.test):
        held[sample.user].add(sample.target)
    tests = {sample.user: sample.target for sample in split.test}
    eligible, skipped = _eligible(tests, train, held)
    chosen = _choose(eligible, n_users, rng, dataset.name)
    frame = dataset.interactions.frame if dataset.interactions is not None else None
    user_keys = training_user_keys(split)
    everything = _items_by_user(frame) if frame is not None else {}
    targets = np.array([tests[key] for key in chosen], np.int64)
    heldout = HeldOut(
        keys=np.array(chosen),
        users=np.searchsorted(user_keys, np.array(chosen, str)).astype(np.int64),
        histories=[tuple(train[key]) for key in chosen],
        targets=targets,
        ratings=_target_ratings(frame, chosen, targets),
        seen=[frozenset(everything.get(key, ())) | held[key] | set(train[key]) for key in chosen],
        held_out=[frozenset(held[key]) for key in chosen],
        user_keys=user_keys,
        skipped=skipped,
    )
    check_no_leakage(heldout.histories, heldout.held_out)
    return heldout


def training_user_keys(split: Split) -> np.ndarray:
    """(U,) sorted unique user keys of the training interactions: user id r is row r."""
    return np.unique(split.train_interactions.frame["user"].to_numpy(str))


def _items_by_user(frame) -> dict[str, list[int]]:
    """Each user's items, oldest first (ties in file order)."""
    ordered = frame.sort_values(["user", "timestamp"], kind="stable")
    return {
        str(user): items.tolist() for user, items in ordered.groupby("user", sort=False)["item"]
    }


def _eligible(tests: dict, train: dict, held: dict) -> tuple[list[str], dict[str, int]]:
    no_history = [key for key in tests if not train.get(key)]
    repeated = [key for key in tests if train.get(key) and held[key] & set(train[key])]
    dropped = set(no_history) | set(repeated)
    eligible = sorted(key for key in tests if key not in dropped)
    return eligible, {
        "no_training_history": len(no_history),
        "held_out_item_in_training": len(repeated),
    }


def _choose(eligible: list[str], n_users: int | None, rng, name: str) -> list[str]:
    if not eligible:
        raise FidelityError(
            f"dataset {name!r} has no user with a held-out item and a training history; "
            "the fidelity suite needs at least one"
        )
    if n_users is None:
        return eligible
    if n_users < 1 or n_users > len(eligible):
        raise FidelityError(
            f"--users {n_users}: dataset {name!r} has {len(eligible)} users with a held-out item "
            f"(ask for 1..{len(eligible)})"
        )
    picked = rng.choice(len(eligible), size=n_users, replace=False)
    return [eligible[i] for i in np.sort(picked)]


def _target_ratings(frame, chosen: list[str], targets: np.ndarray) -> np.ndarray:
    """(n,) the user's (last) rating of their test item; NaN when absent."""
    if frame is None:
        return np.full(len(chosen), np.nan)
    last = frame.drop_duplicates(["user", "item"], keep="last").set_index(["user", "item"])
    index = list(zip(chosen, targets.tolist(), strict=True))
    return last["rating"].reindex(index).to_numpy(np.float64)


def check_no_leakage(histories: list[tuple[int, ...]], held_out: list[frozenset[int]]) -> None:
    """Raise FidelityError if any held-out item appears in the same row's history."""
    for row, (history, items) in enumerate(zip(histories, held_out, strict=True)):
        leaked = items.intersection(history)
        if leaked:
            raise FidelityError(
                f"held-out item {sorted(leaked)[0]} is in the history of row {row}: "
                "histories must be training-only"
            )


def sample_negatives(
    weights: np.ndarray,
    forbidden: list[frozenset[int]],
    count: int,
    rng: np.random.Generator,
    protocol: str = "the protocol",
) -> np.ndarray:
    """(n, count) int64 negatives per row, without replacement, proportional to `weights`,
    never an item of that row's `forbidden` set.

    Gumbel top-k (Efraimidis & Spirakis 2006; Kool et al., ICML 2019): the `count` largest
    log w_i + Gumbel keys are a weighted sample without replacement, and sorted by key
    every PREFIX is one too, so the first m columns serve a protocol needing m negatives.
    Raises:
        FidelityError: a row has fewer than `count` allowed items.
    """
    log_weights = np.log(np.asarray(weights, np.float64))
    n_items = len(log_weights)
    _check_room(forbidden, count, n_items, protocol)
    out = np.empty((len(forbidden), count), np.int64)
    block = max(1, MASK_BUDGET // max(n_items, 1))
    for start in range(0, len(forbidden), block):
        rows = forbidden[start : start + block]
        keys = log_weights[None, :] + rng.gumbel(size=(len(rows), n_items))
        rows_index = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
        cols = np.fromiter((i for r in rows for i in r), np.int64, len(rows_index))
        keys[rows_index, cols] = -np.inf
        top = np.argpartition(-keys, count - 1, axis=1)[:, :count]
        order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1, kind="stable")
        out[start : start + len(rows)] = np.take_along_axis(top, order, axis=1)
    return out


def _check_room(forbidden: list[frozenset[int]], count: int, n_items: int, protocol: str) -> None:
    if count > n_items:
        raise FidelityError(
            f"{count + 1} candidates need {count} negatives but the catalog has {n_items} items "
            f"(choose K <= {n_items})"
        )
    room = n_items - np.array([len(f) for f in forbidden], np.int64)
    if len(room) and room.min() < count:
        row = int(room.argmin())
        raise FidelityError(
            f"a user has only {int(room[row])} items they never interacted with, "
            f"fewer than the {count} negatives {protocol} needs (lower K or the ratio)"
        )


def with_positive(
    negatives: np.ndarray, targets: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(n, m+1) candidates (target among the negatives at a uniform random column) and (n,)
    the target's column."""
    n, m = negatives.shape
    positives = rng.integers(0, m + 1, size=n)
    candidates = np.empty((n, m + 1), np.int64)
    columns = np.arange(m + 1)[None, :]
    slot = columns - (columns > positives[:, None])
    candidates[:] = np.take_along_axis(negatives, np.minimum(slot, m - 1), axis=1)
    candidates[np.arange(n), positives] = targets
    return candidates, positives
