"""Samples to token tensors: prompts from the user's history titles, padded batches.

Checks run here, before any training starts: an empty split, a history or target
item outside the catalog, a prompt that can't fit the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from recagora.item_space.errors import DatasetError
from recagora.item_space.types import Sample


@dataclass
class PromptConfig:
    """How a user's history becomes the prompt (BIGRec/Flower style, titles oldest first)."""

    template: str = field(
        default="A user enjoyed these items, oldest first: {history}. The next item the user enjoys is:",
        metadata={"help": "Prompt text; {history} is replaced by the history titles."},
    )
    separator: str = field(default="; ", metadata={"help": "Put between history titles."})
    quote: str = field(default='"', metadata={"help": "Put around each history title."})
    max_history: int = field(default=10, metadata={"help": "Most recent history items kept."})
    max_prompt_tokens: int = field(
        default=384, metadata={"help": "Prompt tokens kept (the oldest are cut first)."}
    )
    response_prefix: str = field(default=" ", metadata={"help": "Text before the item tokens."})

    def __post_init__(self) -> None:
        if "{history}" not in self.template:
            raise DatasetError(f"prompt template {self.template!r} lacks {{history}}; add it")


def validate_samples(samples: Sequence[Sample], n_items: int, split_name: str) -> None:
    """Raise DatasetError for an empty split or an item id outside 0..n_items-1."""
    if not samples:
        raise DatasetError(f"the {split_name} split is empty; pick a dataset or split with samples")
    for index, sample in enumerate(samples):
        ids = (*sample.history, sample.target)
        bad = [i for i in ids if not 0 <= i < n_items]
        if bad:
            raise DatasetError(
                f"{split_name} sample {index} (user {sample.user!r}) names item {bad[0]} that is "
                f"not in the catalog of {n_items} items; rebuild the split from this catalog"
            )


def prompt_text(history: Sequence[int], titles: Sequence[str], config: PromptConfig) -> str:
    """The prompt for one history (dense ids, oldest first)."""
    kept = list(history)[-config.max_history :] if config.max_history > 0 else []
    names = config.separator.join(f"{config.quote}{titles[i]}{config.quote}" for i in kept)
    return config.template.format(history=names) + config.response_prefix


def encode_prompts(histories, titles, tokenizer, config: PromptConfig) -> list[list[int]]:
    """Token ids of each history's prompt, cut from the left to `max_prompt_tokens`."""
    return [
        tokenizer.encode(prompt_text(h, titles, config))[-config.max_prompt_tokens :]
        for h in histories
    ]


def left_pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T) ids left-padded with `pad_id` and the (B, T) long attention mask."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for row, tokens in enumerate(rows):
        if tokens:
            ids[row, width - len(tokens) :] = torch.as_tensor(list(tokens), dtype=torch.long)
            mask[row, width - len(tokens) :] = 1
    return ids, mask


@dataclass
class PromptResponseBatch:
    """Left-padded prompts followed by right-padded responses, one row per sample.

    input_ids / attention_mask: (B, P + L); the response starts at column P.
    response: (B, L) response token ids (pad after each row's length).
    response_mask: (B, L) float, 1 on real response tokens.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    response: torch.Tensor
    response_mask: torch.Tensor

    @property
    def prompt_width(self) -> int:
        return self.input_ids.shape[1] - self.response.shape[1]

    def to(self, device) -> PromptResponseBatch:
        return PromptResponseBatch(*(t.to(device) for t in self.__dict__.values()))


def prompt_response_batch(
    prompts, response: torch.Tensor, lengths: torch.Tensor, pad_id: int
) -> PromptResponseBatch:
    """Join left-padded prompts with (B, L) responses of (B,) lengths."""
    prompt_ids, prompt_mask = left_pad(prompts, pad_id)
    steps = torch.arange(response.shape[1])[None, :]
    response_mask = (steps < lengths[:, None]).long()
    response = torch.where(response_mask.bool(), response, torch.full_like(response, pad_id))
    return PromptResponseBatch(
        input_ids=torch.cat([prompt_ids, response], dim=1),
        attention_mask=torch.cat([prompt_mask, response_mask], dim=1),
        response=response,
        response_mask=response_mask.float(),
    )


def response_log_probs(logits: torch.Tensor, batch: PromptResponseBatch) -> torch.Tensor:
    """(B, L, V) log-softmax of the logits that predict each response position.

    logits: (B, P + L, V) from one forward over `batch.input_ids`.
    """
    start = batch.prompt_width - 1
    return torch.log_softmax(logits[:, start : start + batch.response.shape[1]].float(), dim=-1)
