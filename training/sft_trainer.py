"""Supervised fine-tuning: the baseline every generative recommender is compared with.

BIGRec (Bao et al., "A Bi-Step Grounding Paradigm for Large Language Models in
Recommendation Systems", 2023) and the SFT stage of Flower/D3: the prompt lists the
user's history titles, the response is the next item's title and the end-of-title
token, and the loss is token cross-entropy on the response only.

Example:
    >>> trainer = SFTTrainer(SFTConfig(output_dir="runs/sft", max_steps=100), catalog, split.train)
    >>> run_dir = trainer.train()
"""

from __future__ import annotations

import torch

from recagora.item_space.types import Sample
from recagora.training.data import PromptResponseBatch, prompt_response_batch, response_log_probs
from recagora.training.sft_config import SFTConfig
from recagora.training.trainer_base import BaseTrainer


def target_batch(trainer: BaseTrainer, samples: list[Sample]) -> PromptResponseBatch:
    """Prompts + target item tokens of `samples`, on the trainer's device."""
    response, lengths = trainer.items.padded_items(
        [s.target for s in samples], trainer.backbone.tokenizer.pad_id
    )
    batch = prompt_response_batch(
        trainer.prompts(samples), response, lengths, trainer.backbone.tokenizer.pad_id
    )
    return batch.to(trainer.device)


def sft_token_loss_sum(trainer: BaseTrainer, batch: PromptResponseBatch) -> torch.Tensor:
    """Summed cross-entropy (nats) of the response tokens of `batch`."""
    logits, _ = trainer.backbone.forward(batch.input_ids, batch.attention_mask)
    log_probs = response_log_probs(logits, batch)  # (B, L, V)
    token_log_probs = log_probs.gather(-1, batch.response[..., None]).squeeze(-1)
    return -(token_log_probs * batch.response_mask).sum()


def target_token_count(trainer: BaseTrainer, samples: list[Sample]) -> int:
    """Response tokens of `samples` (the normaliser of a step's token-mean loss)."""
    return sum(len(trainer.items.sequences[trainer.items.unit_of_item[s.target]]) for s in samples)


class SFTTrainer(BaseTrainer):
    """Token-mean cross-entropy over all target tokens of the optimizer step."""

    method = "sft"
    config_class = SFTConfig

    def micro_batch_loss(self, samples, batch_samples):
        batch = target_batch(self, samples)
        total_tokens = target_token_count(self, batch_samples)
        loss = sft_token_loss_sum(self, batch) / total_tokens
        tokens = float(batch.attention_mask.sum())
        return loss, {"loss": loss.item(), "tokens": tokens}
