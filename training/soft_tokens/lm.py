"""A frozen causal LM that reads soft rows at the template's placeholders.

Prompts are left-padded so every row ends at the same column: the answer tokens then
sit in the last columns and only those logits are computed (and only the rows of the
vocabulary asked for), which matters for Gemma's 262k-token vocabulary.

The text before the first placeholder cannot see the soft rows (causal attention), so
with a frozen LM it runs once without gradients into a KV cache and only the rest runs
with them: a template that puts its soft tokens late costs far less to train. The two
parts are padded separately (padding in the middle is masked; positions skip it). A
`PrefixCache` keeps each distinct prefix's KV across calls (PUMA: once per movie title).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from recagora.training.soft_tokens.models import token_scale
from recagora.training.soft_tokens.prefix_cache import PrefixCache
from recagora.training.soft_tokens.template import SoftTemplate

IGNORE = -100


@dataclass
class Encoded:
    """A left-padded batch: ids (B, T), attention mask, soft-row mask, answer labels."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    soft_mask: torch.Tensor
    labels: torch.Tensor
    answer_width: int
    prefix_width: int = 0


class SoftTokenLM(nn.Module):
    """`model` (an HF causal LM, frozen; LoRA when lora_r > 0) + `template`.

    Args:
        model, tokenizer: from `load_frozen_lm` or any HF causal LM and its tokenizer.
        template: where the soft rows go; vectors passed in are (B, template.rows, hidden).
        lora_r: LoRA rank on q_proj/v_proj (0 = the LM stays entirely frozen).
        prefix_cache: keep each distinct prefix's KV across calls (frozen LM only).
    """

    def __init__(self, model, tokenizer, template: SoftTemplate, *, lora_r: int = 0,
                 prefix_cache: PrefixCache | None = None):
        super().__init__()
        model.requires_grad_(False)
        self.model = _with_lora(model, lora_r) if lora_r > 0 else model.eval()
        self.tokenizer = tokenizer
        self.template = template
        self.hidden_size = model.get_input_embeddings().embedding_dim
        self.eos_id = tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_id
        self.prefix = tokenizer("", add_special_tokens=True)["input_ids"]  # BOS where the LM wants one
        self.scale = token_scale(model)
        self.prefix_cache = prefix_cache if lora_r <= 0 else None  # LoRA changes the prefix's KV

    def tokens(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode(
        self,
        fields: Sequence[Mapping[str, str]],
        answers: Sequence[str] | None = None,
        *,
        end_answer: bool = True,
    ) -> Encoded:
        """Tokenize filled templates (+ answers, ended by EOS when `end_answer`), left-padded."""
        rows = [self._row(f, answers[i] if answers else None, end_answer) for i, f in enumerate(fields)]
        cut = [r[1].index(True) for r in rows]  # the text before the first soft row
        prefix = self._pad([(ids[:c], soft[:c], lab[:c]) for (ids, soft, lab), c in zip(rows, cut, strict=True)])
        rest = self._pad([(ids[c:], soft[c:], lab[c:]) for (ids, soft, lab), c in zip(rows, cut, strict=True)])
        answer_width = max((sum(lab != IGNORE for lab in r[2]) for r in rows), default=0)
        joined = [torch.cat([a, b], 1) for a, b in zip(prefix, rest, strict=True)]
        return Encoded(*joined, answer_width, prefix_width=prefix[0].shape[1])

    def _pad(self, rows):
        """Left-pad (ids, soft, labels) rows -> ids, attention mask, soft mask, labels (B, W)."""
        width = max(len(ids) for ids, _, _ in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask, soft = torch.zeros_like(ids), torch.zeros_like(ids, dtype=torch.bool)
        labels = torch.full_like(ids, IGNORE)
        for b, (row_ids, row_soft, row_labels) in enumerate(rows):
            start = width - len(row_ids)
            ids[b, start:] = torch.tensor(row_ids, dtype=torch.long)
            mask[b, start:] = 1
            soft[b, start:] = torch.tensor(row_soft, dtype=torch.bool)
            labels[b, start:] = torch.tensor(row_labels, dtype=torch.long)
        return ids, mask, soft, labels

    def _row(self, fields, answer, end_answer):
        ids, soft = list(self.prefix), [False] * len(self.prefix)
        pieces = self.template.pieces(**fields)
        for i, piece in enumerate(pieces):
            if i:  # k placeholder rows; their ids are never read (their embeddings are replaced)
                ids += [self.pad_id] * self.template.k
                soft += [True] * self.template.k
            piece_ids = self.tokens(piece)
            ids += piece_ids
            soft += [False] * len(piece_ids)
        labels = [IGNORE] * len(ids)
        if answer is not None:
            answer_ids = self.tokens(answer) + ([self.eos_id] if end_answer else [])
            ids, soft = ids + answer_ids, soft + [False] * len(answer_ids)
            labels += answer_ids
        return ids, soft, labels

    def embed(self, encoded: Encoded, vectors: torch.Tensor) -> torch.Tensor:
        """(B, T, hidden) input embeddings with `vectors` (B, rows, hidden) at the soft positions."""
        embeds = self.model.get_input_embeddings()(encoded.input_ids.to(self.device))
        rows = vectors.to(embeds.dtype).reshape(-1, embeds.shape[-1])
        # masked_scatter fills the True positions in row-major order: row b's soft rows in order.
        return embeds.masked_scatter(encoded.soft_mask.to(self.device)[..., None], rows)

    def logits(
        self, encoded: Encoded, vectors: torch.Tensor, keep: int, *, split: bool = True, vocab: Sequence[int] | None = None
    ) -> torch.Tensor:
        """(B, keep, V) float logits of the last `keep` columns; V = len(vocab) when given.

        split: run the text before the first placeholder without gradients into a KV cache
        (only when no LM weight trains, e.g. no LoRA), from `prefix_cache` when one is set;
        the logits are the same either way.
        vocab: the only output rows computed (Gemma's head is 262k x 640: a rating needs 5).
        """
        mask = encoded.attention_mask.to(self.device)
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        width = encoded.prefix_width
        decoder = self.model.get_decoder()
        if not (split and width and self.frozen):
            out = decoder(inputs_embeds=self.embed(encoded, vectors), attention_mask=mask,
                          position_ids=positions, use_cache=False)
            return self._head(out.last_hidden_state[:, -keep:], vocab)
        past = self._prefix_kv(decoder, encoded.input_ids[:, :width].to(self.device), mask, positions)
        embeds = self.embed(encoded, vectors)[:, width:]
        out = decoder(inputs_embeds=embeds, attention_mask=mask, position_ids=positions[:, width:],
                      use_cache=True, **{_cache_keyword(decoder): past})
        return self._head(out.last_hidden_state[:, -keep:], vocab)

    def _prefix_kv(self, decoder, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor):
        width = ids.shape[1]
        if self.prefix_cache is not None:
            return self.prefix_cache.lookup(decoder, self.model.config, ids, mask[:, :width])
        with torch.no_grad():
            out = decoder(input_ids=ids, attention_mask=mask[:, :width], position_ids=positions[:, :width], use_cache=True)
        return _cache_of(out)

    def cache_prefixes(self, fields: Sequence[Mapping[str, str]], batch_size: int = 32) -> None:
        """Run the prefixes of these filled templates into `prefix_cache` ahead of training."""
        decoder = self.model.get_decoder()
        for i in range(0, len(fields), batch_size):
            encoded = self.encode(fields[i : i + batch_size])
            width = encoded.prefix_width
            self.prefix_cache.lookup(decoder, self.model.config, encoded.input_ids[:, :width].to(self.device),
                                     encoded.attention_mask[:, :width].to(self.device))

    def _head(self, hidden: torch.Tensor, vocab: Sequence[int] | None) -> torch.Tensor:
        """The LM head (and Gemma's final soft-capping, where set) on `vocab`'s rows only."""
        head = self.model.get_output_embeddings()
        weight, bias = head.weight, head.bias
        if vocab is not None:
            rows = torch.as_tensor(list(vocab), device=weight.device)
            weight, bias = weight[rows], None if bias is None else bias[rows]
        logits = nn.functional.linear(hidden, weight, bias)
        cap = getattr(self.model.config, "final_logit_softcapping", None)
        if cap:
            logits = torch.tanh(logits / cap) * cap
        return logits.float()

    @property
    def frozen(self) -> bool:
        """No LM weight trains (no LoRA): the prefix's KV is then a function of its tokens."""
        return not any(p.requires_grad for p in self.model.parameters())

    def answer_loss(self, fields, vectors: torch.Tensor, answers: Sequence[str]) -> torch.Tensor:
        """Mean cross-entropy over the answer tokens only (prompt and padding carry no loss)."""
        encoded = self.encode(fields, answers)
        keep = encoded.answer_width + 1
        logits = self.logits(encoded, vectors, keep)[:, :-1]
        labels = encoded.labels[:, -keep + 1 :].to(self.device)
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE
        )

    def next_logits(self, fields, vectors: torch.Tensor, vocab: Sequence[int] | None = None) -> torch.Tensor:
        """(B, V) logits of the token after each filled prompt (V = len(vocab) when given)."""
        return self.logits(self.encode(fields), vectors, 1, vocab=vocab)[:, -1]

    @torch.no_grad()
    def generate(self, fields, vectors: torch.Tensor, max_new_tokens: int = 40) -> list[str]:
        """Greedy continuations of the filled prompts (HF `generate` on input embeddings)."""
        encoded = self.encode(fields)
        out = self.model.generate(
            inputs_embeds=self.embed(encoded, vectors),
            attention_mask=encoded.attention_mask.to(self.device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self.pad_id,
            eos_token_id=self.eos_id,
        )
        return [self.tokenizer.decode(row, skip_special_tokens=True).strip() for row in out]

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def train(self, mode: bool = True):
        """The frozen LM stays in eval mode (no dropout) unless LoRA trains it."""
        super().train(mode)
        if self.frozen:
            self.model.eval()
        return self


def _cache_keyword(model) -> str:
    """transformers >= 5.x calls the KV cache argument `cache` (`past_key_values` before)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _cache_of(output):
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values


def _with_lora(model, r: int):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.0, target_modules=["q_proj", "v_proj"])
    return get_peft_model(model, config)
