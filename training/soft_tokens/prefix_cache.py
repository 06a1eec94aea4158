"""Each distinct prompt prefix's KV cache, computed once: the LM is frozen, so it never changes.

The text before the first soft row cannot see the soft rows (causal attention); with a
frozen LM its keys and values depend on its tokens alone. PUMA's prefix holds the
movie title and most of the template (~48 of ~53 tokens), so every epoch after the
first, and every prediction of a title seen in training, skips that forward pass.

Entries are stored unpadded in `dtype` (float16 by default: ~1 MB per prefix on
SmolLM2 / Gemma-3-270M instead of ~2 MB; the logits move by ~1e-3) and left-padded
into a fresh `DynamicCache` per batch, so the model's appends never touch the store.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import DynamicCache

Key = tuple[int, ...]


class PrefixCache:
    """Prefix token ids -> per-layer (keys, values) of shape (kv_heads, length, head_dim)."""

    def __init__(self, dtype: torch.dtype = torch.float16, fill_batch: int = 32):
        self.dtype = dtype
        self.fill_batch = fill_batch
        self.store: dict[Key, list[tuple[torch.Tensor, torch.Tensor]]] = {}
        self.computed = 0  # prefixes run through the LM (the rest were reused)

    def __len__(self) -> int:
        return len(self.store)

    def lookup(self, decoder, config, ids: torch.Tensor, mask: torch.Tensor) -> DynamicCache:
        """A cache for the left-padded prefix batch `ids`/`mask` (B, W), filling what is missing."""
        keys = [tuple(row[m.bool()].tolist()) for row, m in zip(ids, mask, strict=True)]
        missing = [k for k in dict.fromkeys(keys) if k not in self.store]
        for i in range(0, len(missing), self.fill_batch):
            self._fill(decoder, missing[i : i + self.fill_batch], ids.device)
        return self._assemble(keys, ids.shape[1], config, decoder.dtype, ids.device)

    @torch.no_grad()
    def _fill(self, decoder, keys: Sequence[Key], device) -> None:
        ids, mask = _left_pad(keys, device)
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        out = decoder(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
        cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
        for b, key in enumerate(keys):
            n = len(key)
            self.store[key] = [
                (layer.keys[b, :, -n:].to(self.dtype, copy=True), layer.values[b, :, -n:].to(self.dtype, copy=True))
                for layer in cache.layers
            ]
        self.computed += len(keys)

    def _assemble(self, keys: Sequence[Key], width: int, config, dtype, device) -> DynamicCache:
        layers = []
        for layer in range(len(self.store[keys[0]])):
            k0, v0 = self.store[keys[0]][layer]
            k = torch.zeros(len(keys), k0.shape[0], width, k0.shape[-1], dtype=dtype, device=device)
            v = torch.zeros(len(keys), v0.shape[0], width, v0.shape[-1], dtype=dtype, device=device)
            for b, key in enumerate(keys):  # left padding: the prefix ends at column width - 1
                stored_k, stored_v = self.store[key][layer]
                k[b, :, width - len(key) :] = stored_k
                v[b, :, width - len(key) :] = stored_v
            layers.append((k, v))
        return DynamicCache(ddp_cache_data=layers, config=config)


def _left_pad(keys: Sequence[Key], device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(k) for k in keys)
    ids = torch.zeros(len(keys), width, dtype=torch.long, device=device)
    mask = torch.zeros_like(ids)
    for b, key in enumerate(keys):
        ids[b, width - len(key) :] = torch.tensor(key, dtype=torch.long)
        mask[b, width - len(key) :] = 1
    return ids, mask
