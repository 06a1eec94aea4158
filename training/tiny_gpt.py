"""A tiny GPT trained from scratch, and a small byte-level BPE tokenizer for it.

The model follows nanoGPT (Karpathy; Radford et al. 2019, GPT-2): pre-norm blocks of
causal self-attention and a 4x MLP, tied input/output embeddings. It adds what the
recommender needs and nanoGPT lacks: a key/value cache for beam search and an
attention mask with positions from it, so left-padded batches behave like unpadded
rows. It exists for fast CPU tests and benchmarks; the real backbones are Hugging
Face causal LMs (`backbones.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

PAD_TOKEN, END_TOKEN = "<pad>", "<eot>"

KVCache = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class TinyGPTConfig:
    """Shape of the tiny GPT."""

    vocab_size: int = field(default=2048, metadata={"help": "Tokens (set from the tokenizer)."})
    n_layer: int = field(default=4, metadata={"help": "Transformer blocks."})
    n_head: int = field(default=4, metadata={"help": "Attention heads per block."})
    n_embd: int = field(default=128, metadata={"help": "Hidden width (divisible by n_head)."})
    block_size: int = field(default=512, metadata={"help": "Longest sequence, in tokens."})
    dropout: float = field(default=0.0, metadata={"help": "Dropout probability (0 = off)."})

    def to_dict(self) -> dict:
        return asdict(self)


class _Attention(nn.Module):
    def __init__(self, config: TinyGPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.dropout = config.dropout

    def forward(self, x, attend, past):
        """x: (B, T, C); attend: (B, 1, T, S) bool; past: (k, v) of (B, H, S - T, D) or None."""
        batch, steps, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        q, k, v = (t.view(batch, steps, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, dropout_p=drop)
        return self.proj(y.transpose(1, 2).reshape(batch, steps, width)), (k, v)

    def extend(self, x, prompt_kv, prompt_mask, generated_kv):
        """One new token per row, attending to its prompt (shared by R rows) and its own tokens.

        x: (B*R, 1, C); prompt_kv: (B, H, P, D) pair; prompt_mask: (B, P) bool;
        generated_kv: (B*R, H, t, D) pair or None. Sharing the prompt cache across the R
        beams of a prompt avoids copying it at every beam reorder.
        """
        rows, _, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        q, k, v = (t.view(rows, 1, self.n_head, -1).transpose(1, 2) for t in (q, k, v))
        if generated_kv is not None:
            k, v = torch.cat([generated_kv[0], k], dim=2), torch.cat([generated_kv[1], v], dim=2)
        prompts = prompt_kv[0].shape[0]
        scale = q.shape[-1] ** -0.5
        grouped = q.view(prompts, rows // prompts, self.n_head, q.shape[-1])  # (B, R, H, D)
        prompt_scores = torch.einsum("brhd,bhpd->brhp", grouped, prompt_kv[0]) * scale
        prompt_scores = prompt_scores.masked_fill(~prompt_mask[:, None, None, :], float("-inf"))
        own_scores = (q @ k.transpose(2, 3)).view(prompts, -1, self.n_head, k.shape[2]) * scale
        weights = torch.softmax(torch.cat([prompt_scores, own_scores], dim=-1), dim=-1)
        seen = prompt_kv[0].shape[2]
        y = torch.einsum("brhp,bhpd->brhd", weights[..., :seen], prompt_kv[1])
        y = y + (weights[..., seen:].reshape(rows, self.n_head, 1, -1) @ v).view(y.shape)
        return self.proj(y.reshape(rows, 1, width)), (k, v)


class _Block(nn.Module):
    def __init__(self, config: TinyGPTConfig):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(config.n_embd), nn.LayerNorm(config.n_embd)
        self.attn = _Attention(config)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd),
            nn.GELU(),
            nn.Linear(4 * config.n_embd, config.n_embd),
            nn.Dropout(config.dropout),
        )

    def forward(self, x, attend, past):
        attended, present = self.attn(self.ln_1(x), attend, past)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), present

    def extend(self, x, prompt_kv, prompt_mask, generated_kv):
        attended, present = self.attn.extend(self.ln_1(x), prompt_kv, prompt_mask, generated_kv)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), present


class TinyGPT(nn.Module):
    """nanoGPT-style causal LM with a KV cache and padding-aware positions."""

    def __init__(self, config: TinyGPTConfig, generator: torch.Generator | None = None):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(_Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.wte.weight  # weight tying, as GPT-2
        self._init_weights(generator)

    def _init_weights(self, generator):
        for name, parameter in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(parameter)
            elif parameter.dim() >= 2:
                nn.init.normal_(parameter, std=0.02, generator=generator)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        past: KVCache | None = None,
    ) -> tuple[torch.Tensor, KVCache]:
        """Next-token logits.

        Args:
            input_ids: (B, T) new tokens.
            attention_mask: (B, S) 1 for real tokens over past + new (S = past + T);
                None means all real.
            past: cache returned by the previous call (or None).

        Returns:
            logits (B, T, vocab_size) and the cache covering all S tokens.
        """
        batch, steps = input_ids.shape
        seen = 0 if past is None else past[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(
                batch, seen + steps, dtype=torch.long, device=input_ids.device
            )
        positions = (attention_mask.cumsum(1) - 1).clamp(min=0)[:, seen:]
        attend = _attention_pattern(attention_mask.bool(), steps)
        x = self.wte(input_ids) + self.wpe(positions)
        presents = []
        for index, block in enumerate(self.blocks):
            x, present = block(x, attend, None if past is None else past[index])
            presents.append(present)
        return self.head(self.ln_f(x)), presents


@dataclass
class DecodeCache:
    """Key/value cache for decoding R continuations of each of B prompts.

    prompt: per layer (k, v) of (B, H, P, D), shared by the R rows of a prompt.
    prompt_mask: (B, P) bool, False on left padding.
    generated: per layer (k, v) of (B*R, H, t, D) for the t generated tokens (or None).
    positions: (B*R,) position id of the next token.
    """

    prompt: KVCache
    prompt_mask: torch.Tensor
    generated: KVCache | None
    positions: torch.Tensor

    def reorder(self, index: torch.Tensor) -> DecodeCache:
        """Keep rows `index`; each row must stay within its prompt's group of R rows."""
        generated = None if self.generated is None else reorder_cache(self.generated, index)
        return DecodeCache(self.prompt, self.prompt_mask, generated, self.positions[index])


def start_decoding(model: TinyGPT, input_ids, attention_mask, repeats: int):
    """Run the prompts once; return (B*R, V) next-token logits and a `DecodeCache`."""
    logits, prompt = model(input_ids, attention_mask)
    positions = attention_mask.sum(1).repeat_interleave(repeats)
    cache = DecodeCache(prompt, attention_mask.bool(), None, positions)
    return logits[:, -1].repeat_interleave(repeats, dim=0), cache


def continue_decoding(model: TinyGPT, tokens: torch.Tensor, cache: DecodeCache):
    """Feed (B*R,) tokens; return (B*R, V) next-token logits and the grown cache."""
    x = model.wte(tokens[:, None]) + model.wpe(cache.positions[:, None])
    generated = []
    for index, block in enumerate(model.blocks):
        past = None if cache.generated is None else cache.generated[index]
        x, present = block.extend(x, cache.prompt[index], cache.prompt_mask, past)
        generated.append(present)
    logits = model.head(model.ln_f(x))[:, -1]
    return logits, DecodeCache(cache.prompt, cache.prompt_mask, generated, cache.positions + 1)


def _attention_pattern(key_mask: torch.Tensor, steps: int) -> torch.Tensor:
    """(B, 1, T, S) bool: causal over the last T of S keys, pads hidden, self always seen."""
    total = key_mask.shape[1]
    query_index = torch.arange(total - steps, total, device=key_mask.device)[:, None]
    key_index = torch.arange(total, device=key_mask.device)[None, :]
    causal = key_index <= query_index
    pattern = causal[None] & key_mask[:, None, :]
    # A padding query has no real key before it; letting it see itself avoids NaN rows.
    return (pattern | (key_index == query_index)[None])[:, None]


def reorder_cache(past: KVCache, index: torch.Tensor) -> KVCache:
    """Select cache rows (beams) by `index` (B',)."""
    return [(k.index_select(0, index), v.index_select(0, index)) for k, v in past]


class BPETokenizer:
    """Byte-level BPE (Hugging Face `tokenizers`) trained on the catalog's text.

    Byte-level means every string is encodable, so prompts never hit an unknown token.
    """

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer
        self.pad_id = tokenizer.token_to_id(PAD_TOKEN)
        self.end_of_item_id = tokenizer.token_to_id(END_TOKEN)

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int) -> BPETokenizer:
        """Learn merges on `texts` (deterministic for the same texts)."""
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[PAD_TOKEN, END_TOKEN],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tokenizer.train_from_iterator(list(texts), trainer)
        return cls(tokenizer)

    @classmethod
    def from_json(cls, text: str) -> BPETokenizer:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_str(text))

    def to_json(self) -> str:
        return self._tokenizer.to_str()

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: Sequence[int]) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=True)

    def add_tokens(self, tokens: Sequence[str]) -> list[int]:
        self._tokenizer.add_tokens(list(tokens))
        return [self._tokenizer.token_to_id(token) for token in tokens]
