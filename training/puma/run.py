"""`recagora train puma`: stage 1 on A, then every migration the paper compares, one report.

Compute is counted two ways: LM passes (training ratings through the LM, forward +
backward) and seconds. The prefix before each user's soft row (title + template) is
cached once per title and backbone, so a fit's own seconds are "warm"; `seconds_cold`
adds what running its distinct titles' prefixes would cost at the measured fill rate.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from recagora.training.puma.adapter import make_adapter, source_prompts
from recagora.training.puma.config import PumaConfig
from recagora.training.puma.data import RatingData, load_ratings
from recagora.training.puma.model import RatingLM
from recagora.training.puma.selection import random_users, select_users
from recagora.training.puma.stats import paired_rmse_difference
from recagora.training.puma.train import (
    Cost,
    apply_adapter,
    fit_adapter,
    fit_head,
    fit_prompts,
    predict,
    rmse_mae,
)
from recagora.training.soft_tokens import load_frozen_lm

RETRAIN, SOURCE = "full retraining on B", "source A (unmigrated)"
GROUP, RANDOM = "PUMA A->B (K-means x variance)", "A->B, random users (same budget)"


class Book:
    """Each method's test predictions and report row (errors, LM passes, seconds)."""

    def __init__(self, data: RatingData, fill_rate: dict[str, float], log):
        self.data, self.fill_rate, self.log = data, fill_rate, log
        self.rows: dict[str, dict] = {}
        self.predictions: dict[str, np.ndarray] = {}

    def references(self) -> None:
        """No-LM yardsticks: the training mean, and each user's own mean (shrunk to it by 1 rating)."""
        train, test = self.data.train, self.data.test
        mean = train["rating"].mean()
        sums, counts = train.groupby("user_row")["rating"].sum(), train.groupby("user_row")["rating"].count()
        user_mean = ((sums + mean) / (counts + 1)).reindex(test["user_row"]).fillna(mean).to_numpy()
        for name, predicted in (("reference: training mean", np.full(len(test), mean)),
                                ("reference: user's mean rating", user_mean)):
            self.predictions[name] = predicted
            self.rows[name] = {**rmse_mae(predicted, test["rating"].to_numpy()), "lm_passes": 0, "seconds": 0.0,
                               "seconds_cold": 0.0}

    def record(self, name: str, rlm: RatingLM, table: torch.Tensor, cost: Cost, backbone: str) -> None:
        predicted = predict(rlm, table, self.data.test)
        self.predictions[name] = predicted
        cold = cost.seconds + cost.prefixes * self.fill_rate[backbone]
        self.rows[name] = {**rmse_mae(predicted, self.data.test["rating"].to_numpy()), "lm_passes": cost.lm_passes,
                           "valid_passes": cost.valid_passes, "epochs": cost.epochs, "best_epoch": cost.best_epoch,
                           "seconds": round(cost.seconds, 1), "seconds_cold": round(cold, 1)}
        self.log(f"{name}: {self.rows[name]}")


def run_puma(cfg: PumaConfig, dataset, log=print) -> dict:
    """Train, migrate and evaluate; write <output_dir>/report.json, predictions.csv and prompts.pt."""
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # the adapters' nn.Linear inits draw from the global generator
    data = load_ratings(dataset, cfg.n_users, cfg.max_train_per_user, cfg.max_test_per_user, cfg.test_share, rng,
                        cfg.val_per_user)
    log(f"{len(data.users)} users, {len(data.train)} train / {_size(data.valid)} valid / {len(data.test)} test ratings")
    a = RatingLM(*load_frozen_lm(cfg.backbone_a), cfg.template)
    b = RatingLM(*load_frozen_lm(cfg.backbone_b), cfg.template)
    make_adapter(cfg.adapter, a.hidden_size, b.hidden_size, 8, 1.0)  # refuse a shapeless pair before training
    book = Book(data, {"a": _fill(a, data, log), "b": _fill(b, data, log)}, log)
    book.references()
    prompts_a, cost = _source_prompts(a, data, cfg, gen)
    heads = {"a": {k: v.clone() for k, v in a.head.state_dict().items()}}
    book.record(SOURCE, a, prompts_a, cost, "a")
    prompts_b, cost = fit_prompts(b, data, cfg, gen)
    book.record(RETRAIN, b, prompts_b, cost, "b")
    random_b = torch.randn(prompts_b.shape, generator=gen) * b.lm.scale
    cost = fit_head(b, random_b, data, random_users(len(data.users), cfg.budget, rng), cfg, gen)
    book.record("B with random prompts (head only)", b, random_b, cost, "b")
    chosen, migrated_b = _selection_seeds(b, prompts_a, data, cfg, gen, book)
    _migrate(a, migrated_b, data, chosen, cfg, gen, book, "chained A->B->A", "a")
    if cfg.adapter == "mlp":  # [A; B] is wider than A: only the MLP adapter has a shape for it
        _migrate(a, torch.cat([prompts_a, prompts_b], -1), data, chosen, cfg, gen, book, "aggregated [A; B] -> A", "a")
    tables = {"a": prompts_a, "b": prompts_b, "migrated_b": migrated_b, "heads": heads}
    return _report(cfg, data, book, chosen, tables)


def _selection_seeds(b, prompts_a, data, cfg, gen, book) -> tuple[list[int], torch.Tensor]:
    """Group vs random selection at the same budget, once per selection seed; seed 0's group result."""
    first = None
    for s in range(cfg.selection_seeds):
        srng = np.random.default_rng([cfg.seed, s])
        chosen = select_users(prompts_a.numpy(), data.variances(), cfg.budget, srng, clusters=cfg.clusters,
                              bins=cfg.variance_bins, min_per_cluster=cfg.min_per_cluster)
        suffix = f" [selection seed {s}]" if s else ""
        migrated = _migrate(b, prompts_a, data, chosen, cfg, gen, book, GROUP + suffix, "b")
        _migrate(b, prompts_a, data, random_users(len(data.users), cfg.budget, srng), cfg, gen, book, RANDOM + suffix, "b")
        first = first or (chosen, migrated)
    return first


def _fill(rlm: RatingLM, data: RatingData, log) -> float:
    """Cache every title's prefix on this backbone; seconds per title."""
    titles = data.titles()
    start = time.perf_counter()
    rlm.lm.cache_prefixes([{"title": t} for t in titles])
    rate = (time.perf_counter() - start) / max(len(titles), 1)
    log(f"prefix cache: {len(titles)} titles at {rate:.3f} s each")
    return rate


def _source_prompts(a: RatingLM, data: RatingData, cfg, gen) -> tuple[torch.Tensor, Cost]:
    """Stage 1 on A, or A's prompts and head from `cfg.source_prompts` (every user must be in it)."""
    if not cfg.source_prompts:
        return fit_prompts(a, data, cfg, gen)
    saved = torch.load(cfg.source_prompts, weights_only=True)
    prompts = source_prompts({"a": saved["a"]}, saved["users"], data.users)
    a.head.load_state_dict(saved["heads"]["a"])
    return prompts, Cost()


def _migrate(target: RatingLM, source, data, chosen, cfg, gen, book: Book, name: str, backbone: str) -> torch.Tensor:
    adapter = make_adapter(cfg.adapter, source.shape[-1], target.hidden_size, cfg.adapter_width, target.lm.scale)
    cost = fit_adapter(target, adapter, source, data, chosen, cfg, gen)
    migrated = apply_adapter(adapter, source)
    book.record(name, target, migrated, cost, backbone)
    return migrated


def _comparisons(cfg, book: Book) -> dict:
    """Paired RMSE differences (bootstrap over users): migration vs retraining, group vs random per seed."""
    pairs = [(GROUP, RETRAIN), (RANDOM, RETRAIN), (SOURCE, RETRAIN)]
    pairs += [(GROUP + (f" [selection seed {s}]" if s else ""), RANDOM + (f" [selection seed {s}]" if s else ""))
              for s in range(cfg.selection_seeds)]
    out = {}
    for x, y in pairs:
        if x in book.predictions and y in book.predictions:
            out[f"{x} - {y}"] = paired_rmse_difference(book.predictions[x], book.predictions[y], book.data.test,
                                                       cfg.bootstrap, cfg.seed)
    return out


def _report(cfg, data, book: Book, chosen, prompts) -> dict:
    retrain = book.rows[RETRAIN]
    for row in book.rows.values():
        row["compute_vs_retraining"] = round(row["lm_passes"] / max(retrain["lm_passes"], 1), 4)
        row["seconds_vs_retraining"] = round(row["seconds_cold"] / max(retrain["seconds_cold"], 1e-9), 4)
        row["rmse_vs_retraining"] = round(row["rmse"] / retrain["rmse"] - 1, 4)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = {"config": vars(cfg), "users": len(data.users), "train_ratings": len(data.train),
              "valid_ratings": _size(data.valid), "test_ratings": len(data.test), "selected_users": chosen,
              "prefix_seconds_per_title": book.fill_rate, "rows": book.rows, "paired": _comparisons(cfg, book),
              "lm_passes": "one training rating through the LM (forward + backward; for 'B with random prompts', "
                           "which trains the head alone, the backward stops at the logits)",
              "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    pd.DataFrame({"user_row": data.test["user_row"], "rating": data.test["rating"], **book.predictions}).to_csv(
        out / "predictions.csv", index=False)
    torch.save({"users": data.users, **prompts}, out / "prompts.pt")
    return report


def _size(frame) -> int:
    return 0 if frame is None else len(frame)
