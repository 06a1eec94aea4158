"""`recagora train mindrec`: masked-diffusion training of the MindRec denoiser.

MindRec (Gao et al., arXiv 2511.12597): the answer is the target item's category path
and semantic ID; each answer token is masked with p = (1 - eps) t + eps and the model
learns to restore the masked ones from the history and the visible ones (`masking.py`).
On the shared trainer base (seeded batches, accumulation, checkpoints, resume,
metrics.csv); the base's title backbone is replaced by `MindRecModel`, which the
checkpoint code sees through the small `MindRecWeights` adapter.

Example:
    >>> trainer = MindRecTrainer(MindRecConfig(output_dir="runs/mindrec"), catalog, split.train)
    >>> trainer.train()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from recagora.item_space.errors import ModelError
from recagora.item_space.types import Catalog, Sample
from recagora.training.data import validate_samples
from recagora.training.mindrec.config import MindRecConfig
from recagora.training.mindrec.items import ItemCodes, item_codes_for
from recagora.training.mindrec.masking import diffusion_loss_sum, mask_answers
from recagora.training.mindrec.model import MindRecModel, history_tensor
from recagora.training.trainer_base import BaseTrainer, _device

ITEMS_FILE = "mindrec_items.json"  # the code table, beside checkpoint/ in the run folder


class MindRecWeights:
    """What checkpoints.py asks of a backbone: the model and its (all trainable) weights."""

    is_tiny = False

    def __init__(self, model: MindRecModel):
        self.model = model

    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        if set(state) != set(self.model.state_dict()):
            raise ModelError("checkpoint weights do not match this MindRec model's sizes")
        self.model.load_state_dict(state)


@dataclass(frozen=True)
class MindRecUnits:
    """What checkpoints.py asks of the item tokenization: its kind and fingerprint."""

    kind: str
    fingerprint: str


def build_model(config: MindRecConfig, codes: ItemCodes) -> MindRecModel:
    """A freshly initialised denoiser (seeded by config.seed)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return MindRecModel(
            torch.as_tensor(codes.codes),
            len(codes.vocabulary),
            config.max_history,
            config.d_model,
            config.n_layers,
            config.n_heads,
            config.dropout,
        )


class MindRecTrainer(BaseTrainer):
    """Masked-diffusion loss on the target's response; see the module docstring."""

    method = "mindrec"
    config_class = MindRecConfig

    def __init__(
        self,
        config: MindRecConfig,
        catalog: Catalog,
        train: list[Sample],
        item_codes: ItemCodes | None = None,
    ):
        validate_samples(train, len(catalog), "train")
        if config.num_threads > 0:
            torch.set_num_threads(config.num_threads)
        self.config, self.catalog, self.train_samples = config, catalog, train
        self.output_dir = Path(config.output_dir)
        self.device = _device(config.device)
        self.codes = item_codes or item_codes_for(catalog, config, train)
        self.answers = torch.as_tensor(self.codes.codes, device=self.device)
        self.backbone = MindRecWeights(build_model(config, self.codes).to(self.device))
        self.items = MindRecUnits("mindrec", self.codes.fingerprint)
        self._start_optimisation(list(self.backbone.model.parameters()))

    def train(self) -> Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.codes.save(self.output_dir / ITEMS_FILE)
        return super().train()

    def micro_batch_loss(self, samples, batch_samples):
        seeds = [self.sample_seed(s) for s in samples]
        history = history_tensor([s.history for s in samples], self.config.max_history)
        answer = self.answers[torch.as_tensor([s.target for s in samples])]
        noisy, masked, p = mask_answers(answer, seeds, self.config.eps, self.codes.mask_id)
        with torch.random.fork_rng(devices=[]):  # dropout seeded too: resumes repeat it
            torch.manual_seed(seeds[0])
            logits = self.backbone.model(history.to(self.device), noisy)
        loss = diffusion_loss_sum(logits, answer, masked, p) / len(batch_samples)
        metrics = {
            "loss": loss.item(),
            "masked_share": float(masked.float().mean()) * len(samples) / len(batch_samples),
            "tokens": float((history >= 0).sum() + answer.numel()),
        }
        return loss, metrics
