"""Checkpoints: the trainable weights, the manifest that rebuilds the policy, the optimizer.

A checkpoint folder holds ``policy.json`` (method, backbone and prompt configs, the
catalog fingerprint, the step), ``weights.safetensors`` (the trainable parameters:
all of the tiny GPT, or the LoRA weights), ``tokenizer.json`` for the tiny GPT, and
``trainer_state.pt`` (optimizer and scheduler) for resuming. It is written to a
sibling folder and renamed, so a killed run never leaves a half-written checkpoint.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from safetensors.torch import load_file, save_file

from recagora.item_space.errors import ModelError
from recagora.training.configs import to_dict

if TYPE_CHECKING:
    from recagora.training.trainer_base import BaseTrainer

CHECKPOINT_DIR = "checkpoint"
MANIFEST, WEIGHTS, TOKENIZER, TRAINER_STATE = (
    "policy.json",
    "weights.safetensors",
    "tokenizer.json",
    "trainer_state.pt",
)


def save_checkpoint(trainer: BaseTrainer, folder: Path) -> Path:
    """Write the trainer's checkpoint to `folder` atomically."""
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    manifest = {
        "method": trainer.method,
        "step": trainer.step,
        "catalog": trainer.catalog.name,
        "n_items": len(trainer.catalog),
        "fingerprint": trainer.items.fingerprint,
        "item_kind": trainer.items.kind,
        "config": to_dict(trainer.config),
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
    save_file(trainer.backbone.trainable_state(), str(staging / WEIGHTS))
    if trainer.backbone.is_tiny:
        (staging / TOKENIZER).write_text(trainer.backbone.tokenizer.to_json())
    state = {
        "optimizer": trainer.optimizer.state_dict(),
        "scheduler": trainer.scheduler.state_dict(),
    }
    torch.save(state, staging / TRAINER_STATE)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


MANIFEST_KEYS = ("method", "step", "catalog", "n_items", "fingerprint", "config")


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a checkpoint folder (or of a run folder holding one).

    Raises:
        ModelError: no checkpoint there, or a policy.json that is not a checkpoint manifest.
    """
    folder = Path(folder)
    if (folder / CHECKPOINT_DIR / MANIFEST).is_file():
        folder = folder / CHECKPOINT_DIR
    if not (folder / MANIFEST).is_file():
        raise ModelError(
            f"{str(folder)!r} is not a checkpoint (no {MANIFEST}); pass a run folder from `recagora train`"
        )
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _corrupt(path, type(error).__name__) from None
    if not isinstance(manifest, dict):
        raise _corrupt(path, "not a JSON object")
    missing = [key for key in MANIFEST_KEYS if key not in manifest]
    if missing or not isinstance(manifest["config"], dict):
        raise _corrupt(path, f"missing {', '.join(missing) or 'config mapping'}")
    manifest["folder"] = str(folder)
    return manifest


def verify_checkpoint(folder: Path) -> dict[str, Any]:
    """The manifest, after checking that the weights (and tiny-GPT tokenizer) are readable.

    Reads only the safetensors header and the tokenizer JSON, so a corrupt checkpoint
    is refused before a dataset or a model is loaded.
    """
    from safetensors import SafetensorError, safe_open

    manifest = read_manifest(folder)
    weights = Path(manifest["folder"]) / WEIGHTS
    if not weights.is_file():
        raise _corrupt(weights, "missing")
    try:
        with safe_open(str(weights), framework="pt") as handle:
            handle.keys()
    except (SafetensorError, OSError) as error:
        raise _corrupt(weights, str(error).splitlines()[0] or type(error).__name__) from None
    tokenizer = Path(manifest["folder"]) / TOKENIZER
    if tokenizer.is_file():
        try:
            json.loads(tokenizer.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _corrupt(tokenizer, type(error).__name__) from None
    return manifest


def _corrupt(path: Path, why: str) -> ModelError:
    return ModelError(
        f"checkpoint file {str(path)!r} is unreadable ({why}); retrain, or restore it from a copy"
    )


def load_checkpoint(trainer: BaseTrainer, folder: Path) -> int:
    """Restore weights, optimizer and scheduler into `trainer`; return the step reached."""
    manifest = read_manifest(folder)
    check_method(manifest, trainer.method)
    check_fingerprint(manifest, trainer.items.fingerprint)
    if trainer.backbone.is_tiny:
        tokenizer_json = (Path(manifest["folder"]) / TOKENIZER).read_text()
        if tokenizer_json != trainer.backbone.tokenizer.to_json():
            raise ModelError(
                "the checkpoint's tokenizer differs from this run's; use a new output_dir"
            )
    trainer.backbone.load_trainable_state(load_file(str(Path(manifest["folder"]) / WEIGHTS)))
    state = torch.load(Path(manifest["folder"]) / TRAINER_STATE, weights_only=False)
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scheduler.load_state_dict(state["scheduler"])
    return int(manifest["step"])


def check_method(manifest: dict[str, Any], method: str) -> None:
    """Refuse to resume another method's checkpoint (Flower would load SFT's and train nothing)."""
    if manifest["method"] != method:
        raise ModelError(
            f"{str(Path(manifest['folder']).parent)!r} holds a {manifest['method']} checkpoint; "
            f"train {method} into another output_dir (or remove that one)"
        )


def check_fingerprint(manifest: dict[str, Any], fingerprint: str) -> None:
    """Refuse a checkpoint trained on another catalog."""
    if manifest["fingerprint"] != fingerprint:
        raise ModelError(
            f"checkpoint {manifest['folder']!r} was trained on catalog {manifest['catalog']!r} "
            f"({manifest['n_items']} items) with different item names; evaluate it on that catalog"
        )
