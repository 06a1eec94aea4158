"""The fidelity suite: every user model through the same held-out protocols, plus baselines.

Sections (definitions of each metric in `recagora.item_space.metrics.fidelity`):
- choice: the held-out test item among K candidates (K-1 negatives drawn by training
  popularity + 1 or uniformly, never an item the user ever interacted with); top-1
  accuracy, NDCG@5, mean log-likelihood, reliability bins and ECE of the top-1 confidence.
- discrimination (Agent4Rec, Zhang et al., SIGIR 2024, held-out variant): the held-out
  item against m never-seen items drawn uniformly (1:1, 1:3, 1:9: the first m of one
  sorted draw); accuracy, precision, recall, F1 of "yes" = P >= 0.5, and ECE, asked two ways:
  "alone" (each item on its own: `interest_probabilities`) and "list" (Agent4Rec's own
  protocol: the m+1 items shown together in a seeded random order, the user picks those it
  would watch: `list_interest_probabilities`; a model without it answers each item alone).
- ratings (`ratings.py`): RMSE/MAE, the simulated rating distribution, ML-100K's folds.
- population: one candidate sampled per user from its choice probabilities (seeded) on
  each choice protocol; the popularity-group distribution (TriRec's equal-size groups of
  training counts, `item_space.popularity`) of those choices vs of the real held-out
  items (JSD in bits), and the Gini of how often each item is chosen.
Everything random comes from generators seeded by (seed, section, model name), so the
candidates are identical for every model and a report does not depend on model order.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from recagora.item_space.datasets.dataset import Dataset
from recagora.item_space.fidelity import ratings as rating_section
from recagora.item_space.fidelity.baselines import baseline_factories
from recagora.item_space.fidelity.checks import (
    checked_model,
    checked_probabilities,
    checked_ratings,
)
from recagora.item_space.fidelity.heldout import (
    FidelityError,
    HeldOut,
    build_heldout,
    sample_negatives,
    with_positive,
)
from recagora.item_space.metrics import fidelity as m
from recagora.item_space.popularity import popularity_groups
from recagora.item_space.types import Split
from recagora.item_space.user_model import ListUserModel, UserModel

NEGATIVE_KINDS = ("popularity", "uniform")
# Seeds of the random streams, one per use (with the model's name for model samples).
USERS, CHOICE_NEGATIVES, CHOICE_ORDER, DISCRIMINATION, POPULATION, RATINGS, LIST_ORDER = range(7)

ModelFactory = Callable[[Split], UserModel]
StepHook = Callable[[str, int], None]


class SuiteConfig(BaseModel):
    """What the suite measures and how its inputs are drawn."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    users: int | None = Field(
        None,
        description="Users evaluated, drawn (seeded) among those with a held-out item; None = all.",
    )
    seed: int = Field(
        0,
        description="Seeds the user draw, candidates, negatives and every sampled choice and rating.",
    )
    ks: tuple[int, ...] = Field(
        (5, 10),
        description="Candidate-set sizes K of the choice protocol (held-out item + K-1 negatives).",
    )
    negatives: tuple[str, ...] = Field(
        NEGATIVE_KINDS,
        description="How choice negatives are drawn: 'popularity' (training count + 1) and/or 'uniform'.",
    )
    ratios: tuple[int, ...] = Field(
        (1, 3, 9),
        description="Never-seen items per held-out item in the yes/no discrimination protocol (1:m).",
    )
    n_groups: int = Field(
        8,
        description="Equal-size popularity groups (TriRec scheme, training counts) of the population section.",
    )
    ndcg_k: int = Field(5, description="Cut-off of the choice NDCG.")
    folds: bool = Field(
        True,
        description="Also score ratings on ML-100K's official u1..u5 folds (one model build per fold).",
    )
    fold_workers: int = Field(
        1,
        ge=1,
        description="Processes scoring the u1..u5 folds at once (forked; 1 = one after another here). Same numbers.",
    )

    def checked(self, n_items: int) -> SuiteConfig:
        """This config, or a FidelityError naming the bad field."""
        bad_kinds = [kind for kind in self.negatives if kind not in NEGATIVE_KINDS]
        if bad_kinds or not self.negatives:
            raise FidelityError(
                f"negatives {bad_kinds or '()'}: choose from {', '.join(NEGATIVE_KINDS)}"
            )
        if not self.ks or min(self.ks) < 2:
            raise FidelityError(f"K {self.ks}: a choice needs at least 2 candidates")
        if max(self.ks) > n_items:
            raise FidelityError(f"K={max(self.ks)} is larger than the catalog ({n_items} items)")
        if not self.ratios or min(self.ratios) < 1 or self.n_groups < 1 or self.ndcg_k < 1:
            raise FidelityError("ratios, n_groups and ndcg_k must be >= 1")
        return self


@dataclass(frozen=True)
class Protocols:
    """The inputs every model sees. choice: "K10-popularity" -> ((n, K) candidates, (n,)
    column of the held-out item); discrimination: (n, 1 + max ratio), column 0 held out;
    lists: ratio m -> ((n, m+1) columns of `discrimination` in the order the list shows
    them, (n,) position of the held-out item in it)."""

    choice: dict[str, tuple[np.ndarray, np.ndarray]]
    discrimination: np.ndarray
    lists: dict[int, tuple[np.ndarray, np.ndarray]]

    def shown(self, ratio: int) -> np.ndarray:
        """(n, ratio+1) the items of the 1:ratio lists, in the order shown."""
        return np.take_along_axis(self.discrimination, self.lists[ratio][0], axis=1)


def run_suite(
    dataset: Dataset,
    split: Split,
    factories: Mapping[str, ModelFactory],
    config: SuiteConfig,
    on_step: StepHook | None = None,
    *,
    fold_models: Collection[str] | None = None,
) -> dict:
    """Score every model (plus the random and popularity baselines) on held-out data.

    factories: name -> a function building the model from a split's TRAINING part (it is
        called once with `split`, and once per ML-100K fold with that fold's split).
    on_step: called with (what is done next, total steps) before each step.
    fold_models: the models also rebuilt and scored on ML-100K's folds (None = all; leave
        out the slow ones, e.g. LLM users, whose fold ratings would be 100,000 questions).
    Returns the JSON-ready report (see `fidelity.report` for the leaderboard).
    """
    n_items = len(dataset.catalog)
    config = config.checked(n_items)
    factories = {**factories, **_missing_baselines(factories, n_items, config.seed)}
    heldout = build_heldout(dataset, split, n_users=config.users, rng=_rng(config, USERS))
    counts = np.bincount(
        split.train_interactions.frame["item"].to_numpy(np.int64), minlength=n_items
    )
    protocols = build_protocols(heldout, counts, config)
    groups = popularity_groups(counts, config.n_groups, scheme="trirec").group
    levels = rating_section.rating_levels(dataset)
    folds = rating_section.official_folds(dataset) if config.folds and levels is not None else None
    step = _Steps(on_step, len(factories) * (3 + len(protocols.choice)))
    report = _header(dataset, split, heldout, config, list(factories))
    report["ratings"]["levels"] = None if levels is None else levels.tolist()
    report["population"]["real"] = _population_of(heldout.targets, groups, config, n_items)
    for name, factory in factories.items():
        _score_model(
            report, name, factory, split, heldout, protocols, groups, config, n_items, step
        )
    if folds:
        refit = _fold_factories(factories, fold_models, report["ratings"]["heldout"])
        step.total += len(refit) * len(folds)
        started = time.perf_counter()
        report["ratings"]["folds"] = rating_section.fold_section(
            folds,
            refit,
            levels,
            lambda name, fold: _rng(config, RATINGS, name, fold),
            step,
            workers=config.fold_workers,
        )
        report["timing"]["u1..u5 folds"] = {"build_and_score_s": time.perf_counter() - started}
    return report


def _missing_baselines(factories: Mapping, n_items: int, seed: int) -> dict[str, ModelFactory]:
    baselines = baseline_factories(n_items, seed)
    return {name: build for name, build in baselines.items() if name not in factories}


class _Steps:
    """step(description) -> on_step(description, total); the total grows once the fold
    section knows which models rate."""

    def __init__(self, on_step: StepHook | None, total: int) -> None:
        self.on_step, self.total = on_step, total

    def __call__(self, what: str) -> None:
        if self.on_step is not None:
            self.on_step(what, self.total)


def _fold_factories(factories: Mapping, fold_models, heldout_ratings: dict) -> dict:
    """The models rebuilt per fold: those asked for, minus any that does not rate."""
    return {
        name: build
        for name, build in factories.items()
        if (fold_models is None or name in fold_models)
        and heldout_ratings[name].get("reason") != "the model does not rate"
    }


def build_protocols(heldout: HeldOut, counts: np.ndarray, config: SuiteConfig) -> Protocols:
    """Candidate sets and discrimination items, drawn once for all models."""
    choice = {}
    for index, kind in enumerate(config.negatives):
        weights = counts + 1.0 if kind == "popularity" else np.ones(len(counts))
        rng = _rng(config, CHOICE_NEGATIVES, index)
        negatives = sample_negatives(
            weights, heldout.seen, max(config.ks) - 1, rng, f"choice at K={max(config.ks)}"
        )
        for k in config.ks:
            order = _rng(config, CHOICE_ORDER, index, k)
            choice[f"K{k}-{kind}"] = with_positive(negatives[:, : k - 1], heldout.targets, order)
    unseen = sample_negatives(
        np.ones(len(counts)),
        heldout.seen,
        max(config.ratios),
        _rng(config, DISCRIMINATION),
        f"discrimination at 1:{max(config.ratios)}",
    )
    return Protocols(choice, np.column_stack([heldout.targets, unseen]), _list_orders(config, len(heldout)))


def _list_orders(config: SuiteConfig, n: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per ratio m: each list's columns (0 = held out, 1..m the first m never-seen items) in a
    seeded random order (the held-out item at a uniform position, never always first)."""
    rng = _rng(config, LIST_ORDER)
    columns = np.tile(np.arange(1, max(config.ratios) + 1), (n, 1))
    return {m: with_positive(columns[:, :m], np.zeros(n, np.int64), rng) for m in config.ratios}


def _rng(config: SuiteConfig, section: int, *more: int | str) -> np.random.Generator:
    words = [zlib.crc32(x.encode()) if isinstance(x, str) else int(x) for x in more]
    return np.random.default_rng([config.seed, section, *words])


def _header(dataset, split, heldout: HeldOut, config: SuiteConfig, names: list[str]) -> dict:
    return {
        "dataset": dataset.name,
        "split": split.protocol,
        "users": len(heldout),
        "skipped_users": heldout.skipped,
        "config": config.model_dump(mode="json"),
        "models": names,
        "choice": {},
        "discrimination": {},
        "ratings": {"levels": None, "heldout": {}, "folds": None},
        "population": {"models": {}},
        "fitted": {},
        "timing": {},
    }


def _score_model(report, name, factory, split, heldout, protocols, groups, config, n_items, step):
    step(f"{name}: building")
    started = time.perf_counter()
    model = checked_model(name, factory(split))
    built = time.perf_counter()
    summary = getattr(model, "fit_summary", None)
    if callable(summary):  # optional: what was fitted (e.g. the hybrid's validation-picked w)
        report["fitted"][name] = summary()
    for key, (candidates, positives) in protocols.choice.items():
        step(f"{name}: choice {key}")
        probs = checked_probabilities(
            name,
            "choice_probabilities",
            model.choice_probabilities(heldout.users, heldout.histories, candidates),
            candidates.shape,
        )
        report["choice"].setdefault(key, {})[name] = _choice_scores(probs, positives, config)
        chosen = _sample_choices(probs, candidates, _rng(config, POPULATION, name, key))
        report["population"]["models"].setdefault(key, {})[name] = _population_vs(
            chosen, heldout.targets, groups, config, n_items
        )
    step(f"{name}: discrimination")
    report["discrimination"][name] = _discrimination(model, name, heldout, protocols, config)
    step(f"{name}: ratings")
    report["ratings"]["heldout"][name] = _heldout_ratings(
        model, name, heldout, split, report, config
    )
    report["timing"][name] = {"build_s": built - started, "score_s": time.perf_counter() - built}


def _choice_scores(probs: np.ndarray, positives: np.ndarray, config: SuiteConfig) -> dict:
    reliability = m.choice_reliability(probs, positives)
    return {
        "top1": m.top1_accuracy(probs, positives),
        f"ndcg@{config.ndcg_k}": m.ndcg_of_positive(probs, positives, config.ndcg_k),
        "log_likelihood": m.mean_log_likelihood(probs, positives),
        "ece": reliability.ece,
        "reliability": reliability.as_dict(),
    }


def _sample_choices(probs: np.ndarray, candidates: np.ndarray, rng) -> np.ndarray:
    """(n,) the candidate each simulated user picks (a choice is made: rows renormalised)."""
    cdf = np.cumsum(m.renormalise(probs), axis=1)
    column = np.minimum((rng.random(len(cdf))[:, None] > cdf).sum(axis=1), cdf.shape[1] - 1)
    return candidates[np.arange(len(candidates)), column]


def _population_of(
    items: np.ndarray, groups: np.ndarray, config: SuiteConfig, n_items: int
) -> dict:
    return {
        "groups": m.group_distribution(items, groups, config.n_groups).tolist(),
        "gini": m.choice_gini(items, n_items),
    }


def _population_vs(chosen, real, groups, config: SuiteConfig, n_items: int) -> dict:
    return {
        **_population_of(chosen, groups, config, n_items),
        "jsd": m.popularity_group_jsd(chosen, real, groups, config.n_groups),
    }


def _discrimination(
    model: UserModel, name: str, heldout: HeldOut, protocols: Protocols, config
) -> dict:
    """{"alone": {"1:m": scores}, "list": {"1:m": scores}, "list_answers": who answered the list}."""
    alone = _alone_answers(model, name, heldout, protocols.discrimination)
    own = isinstance(model, ListUserModel)
    report = {"alone": {}, "list": {}}
    for ratio in config.ratios:
        report["alone"][f"1:{ratio}"] = _binary_scores(alone[:, : ratio + 1], np.zeros(len(alone), np.int64))
        columns, positives = protocols.lists[ratio]
        picks = (
            _list_answers(model, name, heldout, protocols.shown(ratio))
            if own
            else np.take_along_axis(alone, columns, axis=1)  # the alone answers, in list order
        )
        report["list"][f"1:{ratio}"] = _binary_scores(picks, positives)
    report["list_answers"] = "the model, comparing the list" if own else "each item alone (no list method)"
    return report


def _alone_answers(model: UserModel, name: str, heldout: HeldOut, items: np.ndarray) -> np.ndarray:
    """(n, 1 + max ratio) P(yes) of each item asked about alone."""
    width = items.shape[1]
    users = np.repeat(heldout.users, width)
    histories = [history for history in heldout.histories for _ in range(width)]
    answer = model.interest_probabilities(users, histories, items.reshape(-1))
    return checked_probabilities(name, "interest_probabilities", answer, (items.size,)).reshape(items.shape)


def _list_answers(model: ListUserModel, name: str, heldout: HeldOut, lists: np.ndarray) -> np.ndarray:
    """(n, L) P(pick) of each item of each user's list; checked entry by entry (a row may sum
    to more than 1: several picks)."""
    answer = np.asarray(model.list_interest_probabilities(heldout.users, heldout.histories, lists), np.float64)
    if answer.shape != lists.shape:
        raise FidelityError(
            f"user model {name!r}: list_interest_probabilities has shape {answer.shape}, expected {lists.shape}"
        )
    flat = checked_probabilities(name, "list_interest_probabilities", answer.reshape(-1), (lists.size,))
    return flat.reshape(lists.shape)


def _binary_scores(p: np.ndarray, positives: np.ndarray) -> dict:
    """Accuracy, precision, recall, F1 of p >= 0.5 and ECE; (n, L) p, (n,) the held-out column."""
    labels = np.zeros(p.shape, bool)
    labels[np.arange(len(p)), positives] = True
    p, y = p.reshape(-1), labels.reshape(-1)
    return {**m.binary_report(p, y), "ece": m.reliability_bins(p, y).ece}


def _heldout_ratings(model, name, heldout: HeldOut, split, report, config) -> dict:
    levels = report["ratings"]["levels"]
    if levels is None:
        return {"available": False, "reason": "the dataset has no ratings"}
    rated = np.flatnonzero(~np.isnan(heldout.ratings))
    if len(rated) == 0:
        return {"available": False, "reason": "no held-out item has a rating"}
    levels = np.asarray(levels)
    answer = model.rating_probabilities(
        heldout.users[rated], [heldout.histories[i] for i in rated], heldout.targets[rated], levels
    )
    if answer is None:
        return {"available": False, "reason": "the model does not rate"}
    probs = checked_ratings(name, answer, len(rated), len(levels))
    real = heldout.ratings[rated]
    scores = rating_section.score_ratings(
        probs, real, heldout.keys[rated], levels, _rng(config, RATINGS, name)
    )
    return {
        "available": True,
        **scores,
        "real_distribution": m.level_distribution(real, levels).tolist(),
    }
