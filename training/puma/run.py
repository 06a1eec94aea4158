"""`recagora train puma`: stage 1 on A, then every migration the paper compares, one report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from recagora.training.puma.adapter import make_adapter, source_prompts
from recagora.training.puma.config import PumaConfig
from recagora.training.puma.data import RatingData, load_ratings
from recagora.training.puma.model import RatingLM
from recagora.training.puma.selection import random_users, select_users
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


def run_puma(cfg: PumaConfig, dataset, log=print) -> dict:
    """Train, migrate and evaluate; write <output_dir>/report.json and prompts.pt; return the report."""
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)  # the adapters' nn.Linear inits draw from the global generator
    data = load_ratings(dataset, cfg.n_users, cfg.max_train_per_user, cfg.max_test_per_user, cfg.test_share, rng)
    log(f"{len(data.users)} users, {len(data.train)} train / {len(data.test)} test ratings")
    a = RatingLM(*load_frozen_lm(cfg.backbone_a), cfg.template)
    b = RatingLM(*load_frozen_lm(cfg.backbone_b), cfg.template)
    make_adapter(cfg.adapter, a.hidden_size, b.hidden_size, 8, 1.0)  # refuse a shapeless pair before training
    rows: dict[str, dict] = {}

    def record(name, rlm, table, cost: Cost | None = None):
        rows[name] = {**rmse_mae(predict(rlm, table, data.test), data.test["rating"].to_numpy()),
                      "lm_passes": cost.lm_passes if cost else 0, "seconds": round(cost.seconds, 1) if cost else 0.0}
        log(f"{name}: {rows[name]}")

    prompts_a, cost = _source_prompts(a, data, cfg, gen)
    heads = {"a": {k: v.clone() for k, v in a.head.state_dict().items()}}
    record("source A (unmigrated)", a, prompts_a, cost)
    prompts_b, cost = fit_prompts(b, data, cfg, gen)
    record("full retraining on B", b, prompts_b, cost)
    random_b = torch.randn(prompts_b.shape, generator=gen) * b.lm.scale
    budget_random = random_users(len(data.users), cfg.budget, rng)
    record("B with random prompts", b, random_b, fit_head(b, random_b, data, budget_random, cfg, gen))
    chosen = select_users(prompts_a.numpy(), data.variances(), cfg.budget, rng, clusters=cfg.clusters,
                          bins=cfg.variance_bins, min_per_cluster=cfg.min_per_cluster)
    migrated_b = _migrate(b, prompts_a, data, chosen, cfg, gen, record, "PUMA A->B (K-means x variance)")
    _migrate(b, prompts_a, data, budget_random, cfg, gen, record, "A->B, random users (same budget)")
    _migrate(a, migrated_b, data, chosen, cfg, gen, record, "chained A->B->A")
    if cfg.adapter == "mlp":  # [A; B] is wider than A: only the MLP adapter has a shape for it
        _migrate(a, torch.cat([prompts_a, prompts_b], -1), data, chosen, cfg, gen, record, "aggregated [A; B] -> A")
    tables = {"a": prompts_a, "b": prompts_b, "migrated_b": migrated_b, "heads": heads}
    return _report(cfg, data, rows, chosen, tables)


def _source_prompts(a: RatingLM, data: RatingData, cfg, gen) -> tuple[torch.Tensor, Cost | None]:
    """Stage 1 on A, or A's prompts and head from `cfg.source_prompts` (every user must be in it)."""
    if not cfg.source_prompts:
        return fit_prompts(a, data, cfg, gen)
    saved = torch.load(cfg.source_prompts, weights_only=True)
    prompts = source_prompts({"a": saved["a"]}, saved["users"], data.users)
    a.head.load_state_dict(saved["heads"]["a"])
    return prompts, Cost()


def _migrate(target: RatingLM, source, data: RatingData, chosen, cfg, gen, record, name) -> torch.Tensor:
    adapter = make_adapter(cfg.adapter, source.shape[-1], target.hidden_size, cfg.adapter_width, target.lm.scale)
    cost = fit_adapter(target, adapter, source, data, chosen, cfg, gen)
    migrated = apply_adapter(adapter, source)
    record(name, target, migrated, cost)
    return migrated


def _report(cfg, data, rows, chosen, prompts) -> dict:
    retrain = rows["full retraining on B"]
    for row in rows.values():
        row["compute_vs_retraining"] = round(row["lm_passes"] / max(retrain["lm_passes"], 1), 4)
        row["rmse_vs_retraining"] = round(row["rmse"] / retrain["rmse"] - 1, 4)
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = {"config": vars(cfg), "users": len(data.users), "train_ratings": len(data.train),
              "test_ratings": len(data.test), "selected_users": chosen, "rows": rows,
              "lm_passes": "one training rating through the LM (forward + backward; forward only for "
                           "'B with random prompts', which trains the head alone)",
              "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    (out / "report.json").write_text(json.dumps(report, indent=2))
    torch.save({"users": data.users, **prompts}, out / "prompts.pt")
    return report
