"""The training methods by name, and the library calls behind `recagora train|evaluate`.

Methods are listed here as ``"module:Class"`` strings, resolved on first use (as
Gymnasium's entry-point registry does).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recagora.item_space.errors import ConfigError, did_you_mean
from recagora.item_space.types import Catalog, Sample
from recagora.training.configs import load_config, save_config

TRAINERS: dict[str, str] = {
    "sft": "recagora.training.sft_trainer:SFTTrainer",
    "flower": "recagora.training.flower_trainer:FlowerTrainer",
    "grpo": "recagora.training.grpo_trainer:GRPOTrainer",
    "blade": "recagora.training.blade_trainer:BladeTrainer",
    "bon": "recagora.training.blade_trainer:BoNTrainer",
    "ugr": "recagora.training.ugr_trainer:UGRTrainer",
    "mindrec": "recagora.training.mindrec.trainer:MindRecTrainer",
}

# Methods whose checkpoints load as their own Recommender class (same rank/score_batch/
# recommend as GenerativeRecommender), not as a title policy: "module:Class" with a `load`.
POLICY_LOADERS: dict[str, str] = {
    "mindrec": "recagora.training.mindrec.policy:MindRecRecommender",
}


def policy_loader(method: str):
    """`load(checkpoint, catalog, device)` of `method`'s own policy class, or None."""
    if method not in POLICY_LOADERS:
        return None
    module, attribute = POLICY_LOADERS[method].split(":")
    return getattr(importlib.import_module(module), attribute).load


def trainer_class(method: str):
    """The trainer class of `method` (ConfigError with a did-you-mean when unknown)."""
    if method not in TRAINERS:
        raise ConfigError(
            f"unknown method {method!r}{did_you_mean(method, TRAINERS)}; choose one of {', '.join(TRAINERS)}"
        )
    module, attribute = TRAINERS[method].split(":")
    return getattr(importlib.import_module(module), attribute)


def trainer_config(
    method: str, config_path: str | Path | None = None, overrides: Sequence[str] = ()
):
    """The checked config of `method` (defaults < YAML < overrides), built before any data loads."""
    return load_config(trainer_class(method).config_class, config_path, None, overrides)


def make_trainer(
    method: str,
    catalog: Catalog,
    train: Sequence[Sample],
    config_path: str | Path | None = None,
    overrides: Sequence[str] = (),
    **trainer_kwargs: Any,
):
    """A ready trainer: config from defaults < YAML < overrides, data checked, backbone loaded.

    Every input check (config, split, catalog titles, backbone) happens here, before
    any step runs; the resolved config is written to the run folder.
    """
    cls = trainer_class(method)
    config = trainer_config(method, config_path, overrides)
    trainer = cls(config, catalog, list(train), **trainer_kwargs)
    trainer.output_dir.mkdir(parents=True, exist_ok=True)
    save_config(config, trainer.output_dir / "config.yaml")
    return trainer


# The personalised Flower reward's scorer, when the run trains it (kept for resumes).
SCORER_FILE = "scorer_sasrec.pt"


def trainer_extras(method: str, config: Any, catalog: Catalog, split: Any) -> dict[str, Any]:
    """What `method`'s trainer needs beyond config and samples (`make_trainer`'s kwargs).

    BLADE/BoN with auxiliary=ild get the item space's vectors (ILD = 1 - cosine). Flower
    with reward=personalized (the paper's with-history setting) gets an item
    scorer: SASRec (Kang & McAuley, ICDM 2018) from `scorer_checkpoint`, or trained on
    `split.train_interactions` only and saved as <output_dir>/scorer_sasrec.pt, so a
    resumed run scores with the same model.
    """
    if method in ("blade", "bon") and config.auxiliary == "ild":
        from recagora.item_space.space import ItemSpace  # the shared, cached embeddings

        return {"item_vectors": ItemSpace.build(catalog).catalog.vectors}
    if method != "flower" or config.reward != "personalized":
        return {}
    from recagora.training.flower_trainer import scorer_from_recommender

    model = _personal_scorer(config, len(catalog), split)
    return {"item_scorer": scorer_from_recommender(model, len(catalog))}


def _personal_scorer(config: Any, n_items: int, split: Any):
    from recagora.training.baselines.sasrec import SASRecConfig, SASRecRecommender

    saved = Path(config.output_dir) / SCORER_FILE
    path = Path(config.scorer_checkpoint) if config.scorer_checkpoint else saved
    if path.is_file():
        return SASRecRecommender.load(path, n_items=n_items)
    model = SASRecRecommender(n_items, SASRecConfig(epochs=config.scorer_epochs, seed=config.seed))
    model.fit(split.train_interactions)
    model.save(saved.with_suffix(".tmp"))
    saved.with_suffix(".tmp").replace(saved)  # atomic: a killed run leaves no half file
    return model


# Soft-token methods (issue 16): their own config and runner (no BaseTrainer loop);
# name -> ("module:ConfigClass", "module:run_function(config, dataset) -> report dict").
SOFT_TOKEN_METHODS: dict[str, tuple[str, str]] = {
    "puma": ("recagora.training.puma.config:PumaConfig", "recagora.training.puma.run:run_puma"),
    "seller": ("recagora.training.seller.config:SellerConfig", "recagora.training.seller.run:run_seller"),
}


def soft_token_method(method: str):
    """(config class, run function) of a soft-token method."""
    config_path, run_path = SOFT_TOKEN_METHODS[method]
    resolve = lambda text: getattr(importlib.import_module(text.split(":")[0]), text.split(":")[1])  # noqa: E731
    return resolve(config_path), resolve(run_path)
