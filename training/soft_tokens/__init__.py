"""Soft tokens: learned vectors spoken to a frozen causal LM as k embedding rows.

One component under PUMA (per-user soft prompts, `training/puma/`) and SELLER
(sequence + item vectors through a mixture-of-experts adapter, `training/seller/`):
a `SoftTemplate` marks where the rows go, a `Projector` turns any vector into k rows,
and `SoftTokenLM` places them into the frozen LM's input embeddings, scores answer
tokens (the loss on the answer only) and generates.
"""

from recagora.training.soft_tokens.lm import Encoded, SoftTokenLM
from recagora.training.soft_tokens.models import SOFT_BACKBONES, load_frozen_lm
from recagora.training.soft_tokens.prefix_cache import PrefixCache
from recagora.training.soft_tokens.projector import Projector
from recagora.training.soft_tokens.template import PLACEHOLDER, SoftTemplate

__all__ = [
    "PLACEHOLDER",
    "SOFT_BACKBONES",
    "Encoded",
    "PrefixCache",
    "Projector",
    "SoftTemplate",
    "SoftTokenLM",
    "load_frozen_lm",
]
