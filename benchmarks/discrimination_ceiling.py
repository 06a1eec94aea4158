"""How far can the learned user's yes/no answers go? The 1:1 discrimination ceiling, on VALIDATION only.

    .venv/bin/python benchmarks/discrimination_ceiling.py [--dataset ml-100k] [--seed 0]

The suite's 1:1 protocol asks "would you watch i?" about the held-out item and about one
never-seen item drawn uniformly, each alone, "yes" = P >= 0.5. Its validation mirror is the
learned user's own calibration rows (`fit.calibration_samples`: the validation target two
steps after the history). On those rows, with 4 uniform never-seen negatives per target,
this script cross-validates (2 folds by user) the interest head on its features and prints:
- AUC and accuracy at 0.5 of the head; the best accuracy any single threshold reaches and
  the Bayes accuracy E[max(q, 1-q)] of the isotonic-calibrated scores (what any decision
  rule on these scores can reach);
- the AUC a binormal score would need for 0.90 (accuracy = Phi(d'/2), AUC = Phi(d'/sqrt 2));
- recall by the positive's training count, false "yes" by the negative's training count,
  and the share of negatives more popular than the positive (where the errors are);
- the same head with candidate signals added (popularity in a window around the user's last
  training event, days since the item's first training event, EASE over a recency-weighted
  history, the user's activity), so a feature is kept only if it helps here.
The model is the cached `user=learned` fit (fitted on first use). Test items are never read.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
import torch
from scipy.stats import norm
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import roc_auc_score

from recagora.agents.learned_user.fit import calibration_samples
from recagora.agents.learned_user.model import (
    LearnedUserConfig,
    fit_logistic,
    fused_features,
    interest_design,
)
from recagora.agents.user_models import build_user_model, item_facts
from recagora.item_space.datasets import load_dataset
from recagora.item_space.fidelity.heldout import sample_negatives

NEGATIVES = 4
BUCKETS = ((0, 10), (10, 50), (50, 150), (150, 10**9))
DAY = 86_400.0


def rows(name: str, seed: int) -> dict:
    """Validation rows: head features, candidate extras, training counts, users' activity."""
    dataset = load_dataset(name)
    split = dataset.split("loo")
    facts = item_facts(dataset, split)
    part = build_user_model("learned", dataset, split, seed, facts, show_progress=False).choice
    samples, seen = calibration_samples(split.valid, LearnedUserConfig(), seed)
    items = np.column_stack([[s.target for s in samples],
                             sample_negatives(np.ones(len(facts)), seen, NEGATIVES, np.random.default_rng(seed + 9))])
    histories = [s.history for s in samples]
    x, rank = fused_features(facts, part.encoder, histories, items, item_item=part.item_item)
    frame = split.train_interactions.frame.sort_values(["user", "timestamp"], kind="stable")
    times = {str(u): g.to_numpy(np.float64) for u, g in frame.groupby("user", sort=False)["timestamp"]}
    now = np.array([times[str(s.user)][len(s.history) - 1] for s in samples])
    events = (frame["item"].to_numpy(np.int64), frame["timestamp"].to_numpy(np.float64))
    extras = {
        "popularity +-14 days": _window_counts(events, items, now, 14 * DAY, len(facts)),
        "days since first event": _age(events, items, now, len(facts)),
        "EASE, recency-weighted history": _recent_ease(part.item_item, histories, items),
        "user activity": np.broadcast_to(np.log(np.array([len(h) for h in histories], float))[:, None], items.shape),
    }
    design = interest_design(x.reshape(-1, x.shape[-1]), rank.reshape(-1, 2))[:, :-1].reshape(*items.shape, -1)
    return {"design": design, "extras": extras, "counts": facts.popularity[items]}


def _window_counts(events, items, now, half_width: float, n_items: int) -> np.ndarray:
    """log(1 + training events of each item within +-half_width of the row's reference time)."""
    item, when = events
    order = np.lexsort((when, item))
    item, when = item[order], when[order]
    start = np.searchsorted(item, np.arange(n_items + 1))
    out = np.empty(items.shape)
    for (r, c), i in np.ndenumerate(items):
        block = when[start[i] : start[i + 1]]
        out[r, c] = np.searchsorted(block, now[r] + half_width, "right") - np.searchsorted(block, now[r] - half_width)
    return np.log1p(out)


def _age(events, items, now, n_items: int) -> np.ndarray:
    """signed log(1 + days) from the item's first training event to the row's reference time."""
    item, when = events
    first = np.full(n_items, np.inf)
    np.minimum.at(first, item, when)
    first[np.isinf(first)] = when.max()
    days = (now[:, None] - first[items]) / DAY
    return np.sign(days) * np.log1p(np.abs(days))


def _recent_ease(b: np.ndarray, histories, items, half_life: float = 10.0) -> np.ndarray:
    """EASE scores with history item k steps from the end weighted 2^(-k / half_life)."""
    r = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    c = np.concatenate([np.asarray(h, np.int64) for h in histories])
    w = np.concatenate([0.5 ** (np.arange(len(h))[::-1] / half_life) for h in histories])
    x = sp.csr_matrix((w.astype(np.float32), (r, c)), shape=(len(histories), len(b)))
    return np.take_along_axis(np.asarray(x @ b), items, axis=1)


def cross_validated(design: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, y, row) of the 1:1 pairs (target, first negative) of each held-out fold."""
    fold = np.random.default_rng(seed).random(len(design)) < 0.5
    out = []
    for train in (fold, ~fold):
        fit = design[train]
        positives, negatives = fit[:, 0], fit[:, 1:].reshape(-1, fit.shape[-1])
        x = np.concatenate([positives.repeat(NEGATIVES, 0), negatives])  # 1:1 weight: the suite's prior
        mu, sd = x.mean(0), x.std(0) + 1e-9
        beta = fit_logistic((x - mu) / sd, np.r_[np.ones(len(negatives)), np.zeros(len(negatives))])
        held = np.flatnonzero(~train)
        pairs = np.concatenate([design[held, 0], design[held, 1]])
        p = 1 / (1 + np.exp(-(np.c_[(pairs - mu) / sd, np.ones(len(pairs))] @ beta)))
        out.append((p, np.r_[np.ones(len(held)), np.zeros(len(held))], np.r_[held, held]))
    return tuple(np.concatenate(parts) for parts in zip(*out, strict=True))


def report(name: str, seed: int) -> None:
    start = time.process_time()
    data = rows(name, seed)
    p, y, row = cross_validated(data["design"], seed)
    calibrated = IsotonicRegression(out_of_bounds="clip").fit(p, y).predict(p)
    best = max(((p >= t) == y).mean() for t in np.unique(p))
    print(f"{name}: {len(data['design'])} validation targets x {NEGATIVES} uniform never-seen items")
    print(f"  head: AUC {roc_auc_score(y, p):.4f}, 1:1 accuracy at 0.5 {((p >= 0.5) == y).mean():.4f}, "
          f"best threshold {best:.4f}, Bayes accuracy of the calibrated scores {np.maximum(calibrated, 1 - calibrated).mean():.4f}")
    print(f"  binormal: 1:1 accuracy 0.90 needs AUC {norm.cdf(2 * norm.ppf(0.9) / np.sqrt(2)):.3f}")
    counts = data["counts"]
    print(f"  uniform negatives more popular than the positive: {(counts[:, 1:] > counts[:, :1]).mean():.3f}")
    column = np.where(y == 1, 0, 1)
    for lo, hi in BUCKETS:
        for label, side in (("positives", 1), ("negatives", 0)):
            mask = (y == side) & (counts[row, column] >= lo) & (counts[row, column] < hi)
            said_yes = (p[mask] >= 0.5).mean() if mask.any() else float("nan")
            print(f"  {label} with training count in [{lo}, {hi}): share {mask.sum() / (y == side).sum():.3f}, "
                  f"'yes' {said_yes:.3f}")
    for extra, values in data["extras"].items():
        q, yy, _ = cross_validated(np.concatenate([data["design"], values[..., None]], -1), seed)
        print(f"  + {extra}: AUC {roc_auc_score(yy, q):.4f}, accuracy {((q >= 0.5) == yy).mean():.4f}")
    q, yy, _ = cross_validated(np.concatenate([data["design"], *(v[..., None] for v in data["extras"].values())], -1), seed)
    print(f"  + all four: AUC {roc_auc_score(yy, q):.4f}, accuracy {((q >= 0.5) == yy).mean():.4f}")
    print(f"  CPU {time.process_time() - start:.1f} s")


def main() -> None:
    torch.set_num_threads(1)  # a shared machine: more threads than free cores make OpenMP spin
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report(args.dataset, args.seed)


if __name__ == "__main__":
    main()
