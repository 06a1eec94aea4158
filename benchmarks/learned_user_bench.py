"""Held-out fidelity of the learned user vs the v0 surrogate vs popularity.

    .venv/bin/python benchmarks/learned_user_bench.py [--datasets ml-100k,video-games,cds-vinyl] [--seed 0]

Per dataset, on the leave-one-out TEST items (models fitted on train, calibrated on valid):
- choice: the held-out item among K = 10 candidates (9 negatives drawn by training
  popularity, never the user's training items), NDCG@5 and ECE of the top-1 choice
  probability (10 equal-width bins, probabilities renormalised over the K candidates);
- discrimination 1:1: the held-out item vs one never-interacted item (uniform), accuracy of
  the interest probability thresholded at 0.5;
- ratings (datasets with ratings): RMSE of the expected rating on the held-out item, and
  on ML-100K the mean RMSE, rating JSD (base 2, the divergence) and 1-2 star share over
  the official u1..u5 folds (rating head only, refitted on each fold's 80,000 ratings);
- fit time (a cached fit loads in about a second: the first run fits).
Encoder training is capped at `TrainConfig.max_epochs` (30) with early stopping (patience 3).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from scipy.spatial.distance import jensenshannon

from recagora.agents.learned_user.rating import RatingConfig, fit_rating_head
from recagora.agents.user_models import build_user_model, item_facts, user_keys
from recagora.item_space.datasets import load_dataset


def popularity_negatives(split, popularity: np.ndarray, k: int, rng) -> np.ndarray:
    """(n, k) test target first, then k - 1 popularity-drawn items outside the history."""
    rows = []
    for sample in split.test:
        p = popularity.astype(np.float64) + 1e-9
        p[list(sample.history)] = 0.0
        p[sample.target] = 0.0
        rows.append(np.r_[sample.target, rng.choice(len(p), k - 1, replace=False, p=p / p.sum())])
    return np.asarray(rows, np.int64)


def choice_metrics(probs: np.ndarray) -> dict[str, float]:
    """NDCG@5 of column 0 and ECE of the top-1 choice (rows renormalised)."""
    probs = probs / probs.sum(axis=1, keepdims=True)
    rank = (probs[:, 1:] > probs[:, :1]).sum(axis=1)
    ndcg = np.where(rank < 5, 1.0 / np.log2(rank + 2.0), 0.0).mean()
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == 0
    bins = np.minimum((confidence * 10).astype(int), 9)
    ece = sum(abs(confidence[bins == b].mean() - correct[bins == b].mean()) * (bins == b).mean()
              for b in range(10) if (bins == b).any())
    return {"ndcg@5": float(ndcg), "ece": float(ece)}


def discrimination(model, users, histories, split, dataset, rng) -> float:
    seen = dataset.interactions.frame.groupby("user")["item"].agg(set).to_dict()
    negatives = []
    for sample in split.test:
        item = int(rng.integers(len(dataset.catalog)))
        while item in seen[sample.user]:
            item = int(rng.integers(len(dataset.catalog)))
        negatives.append(item)
    items = np.r_[[s.target for s in split.test], negatives]
    p = model.interest_probabilities(users + users, histories + histories, items)
    labels = np.r_[np.ones(len(split.test)), np.zeros(len(split.test))]
    return float(((p >= 0.5) == labels).mean())


class Popularity:
    """Training popularity as a user model (P(choose) proportional to popularity)."""

    name = "popularity"

    def __init__(self, popularity: np.ndarray) -> None:
        self.pop = popularity.astype(np.float64) + 1.0

    def choice_probabilities(self, users, histories, candidates):
        return self.pop[candidates] / self.pop[candidates].sum(axis=1, keepdims=True)

    def interest_probabilities(self, users, histories, items):
        return (self.pop[items] >= np.median(self.pop)).astype(float)


def u_folds(dataset, seed: int) -> dict[str, float]:
    """ML-100K u1..u5 (consecutive 20,000-rating chunks of u.data): rating-head metrics."""
    frame = dataset.interactions.frame
    rmse, jsd, low_sim, low_real = [], [], [], []
    for fold in range(5):
        test = np.zeros(len(frame), bool)
        test[fold * 20_000 : (fold + 1) * 20_000] = True
        train, held = frame[~test], frame[test]
        histories = {str(u): g.tolist() for u, g in train.groupby("user")["item"]}
        head = fit_rating_head(train["user"].astype(str).to_numpy(), train["item"].to_numpy(),
                               train["rating"].to_numpy(np.float64), histories, len(dataset.catalog),
                               RatingConfig(), seed)
        p = head.probabilities(held["user"].astype(str).tolist(),
                               [histories.get(str(u), []) for u in held["user"]], held["item"].to_numpy())
        real = held["rating"].to_numpy()
        rmse.append(float(np.sqrt(((p @ head.levels - real) ** 2).mean())))
        draws = head.levels[(p.cumsum(1) > np.random.default_rng(seed).random((len(p), 1))).argmax(1)]
        real_dist = np.array([(real == lv).mean() for lv in head.levels])
        sim_dist = np.array([(draws == lv).mean() for lv in head.levels])
        jsd.append(float(jensenshannon(real_dist, sim_dist, base=2) ** 2))
        low_sim.append(float((draws <= 2).mean()))
        low_real.append(float((real <= 2).mean()))
    return {"u1-u5 rmse": np.mean(rmse), "u1-u5 jsd": np.mean(jsd),
            "u1-u5 1-2 star sim": np.mean(low_sim), "u1-u5 1-2 star real": np.mean(low_real)}


def bench(name: str, seed: int) -> None:
    dataset = load_dataset(name)
    split = dataset.split("loo")
    facts = item_facts(dataset, split)
    popularity = split.train_interactions.item_counts(len(dataset.catalog))
    keys = {k: i for i, k in enumerate(user_keys(split))}
    users = [keys.get(s.user, -1) for s in split.test]
    histories = [list(s.history) for s in split.test]
    candidates = popularity_negatives(split, popularity, 10, np.random.default_rng(seed))
    for model_name in ("learned", "surrogate", "popularity"):
        start = time.monotonic()
        model = (Popularity(popularity) if model_name == "popularity"
                 else build_user_model(model_name, dataset, split, seed, facts=facts))
        if model_name == "learned":
            _ = model.choice, model.rating  # the sides fit on first use: time them here
        fit_s = time.monotonic() - start
        row = choice_metrics(model.choice_probabilities(users, histories, candidates))
        row["disc 1:1 acc"] = discrimination(model, users, histories, split, dataset, np.random.default_rng(seed))
        if model_name == "learned" and model.rating is not None:
            row.update(_loo_rmse(model, users, histories, split, dataset))
            row["encoder epochs"] = model.choice.log["encoder"]["epochs"]
        row["fit s"] = fit_s
        print(name, model_name, " ".join(f"{k}={v:.4f}" for k, v in row.items()), flush=True)
    if name == "ml-100k":
        print(name, "learned", " ".join(f"{k}={v:.4f}" for k, v in u_folds(dataset, seed).items()), flush=True)


def _loo_rmse(model, users, histories, split, dataset) -> dict[str, float]:
    """RMSE of the expected rating on each user's held-out (last) item, where it is rated."""
    events = dataset.interactions.frame.drop_duplicates(["user", "item", "timestamp"])
    tests = pd.DataFrame([(s.user, s.target, s.timestamp) for s in split.test], columns=["user", "item", "timestamp"])
    real = tests.merge(events, how="left", on=["user", "item", "timestamp"])["rating"].to_numpy(np.float64)
    keep = np.flatnonzero(~np.isnan(real))
    levels = model.rating.levels
    p = model.rating_probabilities([users[i] for i in keep], [histories[i] for i in keep],
                                   np.array([split.test[i].target for i in keep]), levels)
    return {"loo rmse": float(np.sqrt(((p @ levels - real[keep]) ** 2).mean()))}


def main() -> None:
    torch.set_num_threads(1)  # a shared 2-core machine: more threads than free cores make OpenMP spin
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="ml-100k,video-games,cds-vinyl")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for name in args.datasets.split(","):
        bench(name, args.seed)


if __name__ == "__main__":
    main()
