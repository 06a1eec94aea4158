"""Frozen backbone features of papers: the w_i = LLM(p_i)[-1] of PaperEval (AAAI'26, eq. 1).

Backbones: `minilm` (sentence embedding of the prompt; the cheap option), `hashing`
(torch-free, for tests), `smollm2` or any local HF causal-LM folder (the last layer's
hidden state at the last prompt token). Features are cached on disk by backbone and
text hash, so an ablation grid pays the backbone once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from recagora.item_space.embedding import HashingEmbedder, cache_dir, default_embedder
from recagora.item_space.papers import paper_text
from recagora.item_space.types import Catalog, Item

# PaperEval's ICLR task line, in our words: the reviewer-score instruction after the papers.
TASK_LINE = (
    "As a professional reviewer, rate the quality of the target paper with a score from 0 to 1."
)
_HF_BATCH = 8


def scorer_prompt(target: Item, references: Sequence[Item] = (), abstract_chars: int = 1200) -> str:
    """The target, then its concurrent references, then the task line (abstracts cut so the task line
    survives token truncation)."""
    parts = ["Target paper.\n" + paper_text(target, abstract_chars)]
    for rank, ref in enumerate(references, start=1):
        parts.append(f"Concurrent work {rank}.\n" + paper_text(ref, abstract_chars))
    return "\n\n".join([*parts, TASK_LINE])


def scorer_inputs(
    targets: Catalog,
    concurrent: Catalog | None = None,
    references: list[list[int]] | None = None,
    abstract_chars: int = 1200,
) -> list[str]:
    """One `scorer_prompt` per target paper; `references[i]` are ids into `concurrent`."""
    references = references or [[] for _ in range(len(targets))]
    return [
        scorer_prompt(item, [concurrent[r] for r in refs], abstract_chars)
        for item, refs in zip(targets.items, references, strict=True)
    ]


def backbone_features(texts: list[str], backbone: str, max_tokens: int = 384) -> np.ndarray:
    """(len(texts), d) float32 frozen features, read from the disk cache when present."""
    digest = hashlib.sha1(
        "\x1e".join([backbone, str(max_tokens), *texts]).encode("utf-8")
    ).hexdigest()
    path = cache_dir() / "papereval-features" / f"{digest}.npy"
    if path.is_file():
        return np.load(path)
    features = _compute_features(texts, backbone, max_tokens)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, features)
    return features


def _compute_features(texts: list[str], backbone: str, max_tokens: int) -> np.ndarray:
    if backbone == "minilm":
        return default_embedder().embed(texts)
    if backbone == "hashing":
        return HashingEmbedder(dim=256).embed(texts)
    return _causal_lm_features(texts, backbone, max_tokens)


def _causal_lm_features(texts: list[str], backbone: str, max_tokens: int) -> np.ndarray:
    """Last-layer hidden state at the last real token of each prompt, (N, hidden) float32."""
    import torch

    from recagora.training.backbones import BackboneConfig, load_hf

    model, tokenizer = load_hf(BackboneConfig(name=backbone))
    model.eval()
    tokenizer.padding_side = "left"  # so position -1 is every row's last real token
    tokenizer.truncation_side = "left"  # keep the task line at the end
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    rows = []
    with torch.inference_mode():
        for start in range(0, len(texts), _HF_BATCH):
            batch = tokenizer(
                texts[start : start + _HF_BATCH],
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=max_tokens,
            )
            hidden = model(**batch, output_hidden_states=True).hidden_states[-1]  # (B, T, H)
            rows.append(hidden[:, -1, :].float().numpy())
    return np.concatenate(rows).astype(np.float32)
