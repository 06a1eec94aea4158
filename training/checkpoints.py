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


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a checkpoint folder (or of a run folder holding one)."""
    folder = Path(folder)
    if (folder / CHECKPOINT_DIR / MANIFEST).is_file():
        folder = folder / CHECKPOINT_DIR
    if not (folder / MANIFEST).is_file():
        raise ModelError(
            f"{str(folder)!r} is not a checkpoint (no {MANIFEST}); pass a run folder from `recagora train`"
        )
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["folder"] = str(folder)
    return manifest


def load_checkpoint(trainer: BaseTrainer, folder: Path) -> int:
    """Restore weights, optimizer and scheduler into `trainer`; return the step reached."""
    manifest = read_manifest(folder)
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


def check_fingerprint(manifest: dict[str, Any], fingerprint: str) -> None:
    """Refuse a checkpoint trained on another catalog."""
    if manifest["fingerprint"] != fingerprint:
        raise ModelError(
            f"checkpoint {manifest['folder']!r} was trained on catalog {manifest['catalog']!r} "
            f"({manifest['n_items']} items) with different item names; evaluate it on that catalog"
        )
