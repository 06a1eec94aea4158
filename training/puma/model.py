"""The rating predictor on one frozen LM: soft prompt -> digit logits -> regression head.

Loss (PUMA Eq. 2): ce_weight * CE over the logits of "1".."5" at the answer position
+ (1 - ce_weight) * MSE of an MLP head (5 -> 32 -> 12 -> 1) read off those logits.
"""

from __future__ import annotations

import torch
from torch import nn

from recagora.training.puma.config import RATING_TEMPLATE
from recagora.training.soft_tokens import PrefixCache, SoftTemplate, SoftTokenLM


class RatingHead(nn.Module):
    """(B, 5) digit logits -> (B,) rating."""

    def __init__(self, generator: torch.Generator | None = None):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 12), nn.ReLU(), nn.Linear(12, 1))
        with torch.no_grad():
            for layer in self.net[::2]:
                layer.weight.normal_(0.0, layer.weight.shape[1] ** -0.5, generator=generator)
                layer.bias.zero_()
            self.net[-1].bias.fill_(3.5)  # start at the ML-100K mean rating

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return self.net(torch.log_softmax(logits, -1)).squeeze(-1)


class RatingLM(nn.Module):
    """A frozen LM (SoftTokenLM, one soft row) plus its trainable rating head.

    The text before the soft row (the title and most of the template) is cached per title
    (`PrefixCache`, float16 unless `cache_dtype` says otherwise); only the 5 digit rows of
    the LM head are computed.
    """

    def __init__(self, model, tokenizer, template: str = RATING_TEMPLATE, cache_dtype: torch.dtype = torch.float16):
        super().__init__()
        self.lm = SoftTokenLM(model, tokenizer, SoftTemplate(template, k=1), prefix_cache=PrefixCache(cache_dtype))
        # Digits follow the template's trailing space; both backbones split " 4" as space + digit.
        self.digit_ids = [self.lm.tokens(f" {d}")[-1] for d in range(1, 6)]
        self.head = RatingHead()

    @property
    def hidden_size(self) -> int:
        return self.lm.hidden_size

    def digit_logits(self, prompts: torch.Tensor, titles: list[str]) -> torch.Tensor:
        """(B, hidden) prompts -> (B, 5) logits of "1".."5" after the filled template."""
        return self.lm.next_logits([{"title": t} for t in titles], prompts[:, None, :], vocab=self.digit_ids)

    def predict(self, prompts: torch.Tensor, titles: list[str]) -> torch.Tensor:
        """(B,) ratings in [1, 5]."""
        return self.head(self.digit_logits(prompts, titles)).clamp(1.0, 5.0)

    def loss(self, prompts, titles, ratings: torch.Tensor, ce_weight: float) -> torch.Tensor:
        logits = self.digit_logits(prompts, titles)
        ce = nn.functional.cross_entropy(logits, ratings.round().long() - 1)
        mse = nn.functional.mse_loss(self.head(logits), ratings)
        return ce_weight * ce + (1 - ce_weight) * mse
