"""SellerModel: both paths -> MoE adapter -> soft tokens of a frozen LM -> explanation."""

from __future__ import annotations

import torch
from torch import nn

from recagora.training.seller.encoders import MoEAdapter, SequenceEncoder
from recagora.training.soft_tokens import SoftTemplate, SoftTokenLM

# The soft tokens come late: the text before them runs once without gradients (SoftTokenLM).
PROMPT = 'Explain why the user would like the movie "{title}". The user\'s viewing history and the movie are encoded in <soft>. Explanation: '


class SellerModel(nn.Module):
    """Trainable: the sequence encoder and the adapter; the LM stays frozen."""

    def __init__(self, lm_model, tokenizer, item_text: torch.Tensor, cfg):
        super().__init__()
        self.lm = SoftTokenLM(lm_model, tokenizer, SoftTemplate(PROMPT, k=cfg.soft_tokens))
        self.sequence = SequenceEncoder(item_text, cfg.seq_dim, cfg.seq_layers, cfg.max_history, cfg.time_buckets)
        self.register_buffer("item_text", item_text)
        self.adapter = MoEAdapter(cfg.seq_dim + item_text.shape[1], cfg.soft_tokens, self.lm.hidden_size,
                                  cfg.experts, scale=self.lm.scale)

    def soft_rows(self, items, gaps, targets, generator=None) -> torch.Tensor:
        """(B, k, hidden) from (B, L) left-padded history ids (+1 shifted), gaps, (B,) target ids."""
        fused = torch.cat([self.sequence(items, gaps), self.item_text[targets]], -1)
        return self.adapter(fused, generator)

    def loss(self, batch, titles, answers, generator=None) -> torch.Tensor:
        rows = self.soft_rows(*batch, generator=generator)
        return self.lm.answer_loss([{"title": t} for t in titles], rows, answers)

    @torch.no_grad()
    def explain(self, batch, titles, max_new_tokens: int = 32) -> list[str]:
        return self.lm.generate([{"title": t} for t in titles], self.soft_rows(*batch), max_new_tokens)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach() for n, p in self.named_parameters() if p.requires_grad}
