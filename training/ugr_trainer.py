"""UGR on the GRPO trainer (Fan et al., KDD 2026): constrained beams as rollouts, the
uncertainty-weighted reward, the group loss scaled by the answer's beam rank (difficulty),
plus the confidence tokens' pairwise loss: total = alpha(x) * L_GRPO + L_conf.

UGR trains on semantic IDs (the trainer base adds them as tokens, with the two confidence
tokens); on titles (`allow_titles=true`, for experiments) there are no confidence tokens
and L_conf is left out.
"""

from __future__ import annotations

import numpy as np
import torch

from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Catalog, Sample
from recagora.training.decoding import constrained_beam_search
from recagora.training.grpo_trainer import GRPOTrainer
from recagora.training.ugr_confidence import beam_confidence, partial_matches
from recagora.training.ugr_config import UGRConfig
from recagora.training.ugr_rewards import (
    confidence_loss,
    difficulty_weights,
    uncertainty_rewards,
)


class UGRTrainer(GRPOTrainer):
    """GRPO with UGR's reward and difficulty weight over the top-G beams."""

    method = "ugr"
    config_class = UGRConfig

    def __init__(self, config: UGRConfig, catalog: Catalog, train: list[Sample]):
        super().__init__(config, catalog, train)
        if self.items.kind != "semantic_id" and not config.allow_titles:
            raise ConfigError(
                "UGR trains on semantic IDs (dataset games-semids), this catalog is titles; "
                "set allow_titles=true to run it on titles anyway"
            )
        if config.num_generations > self.items.n_units:
            raise ConfigError(
                f"num_generations {config.num_generations} exceeds the catalog's {self.items.n_units} items"
            )
        self._scores = np.zeros(0)
        self._beams = np.zeros((0, 0), np.int64)

    def micro_batch_loss(self, samples, batch_samples):
        loss, metrics = super().micro_batch_loss(samples, batch_samples)
        config: UGRConfig = self.config
        if self.items.confidence_ids is None or config.coeff_wrong + config.coeff_partial == 0:
            return loss, metrics
        beams, targets = self._beams, self._targets(samples)
        confidence = beam_confidence(self.backbone, self.items, self.prompts(samples), beams)
        correct = torch.as_tensor(beams == targets[:, None], device=confidence.device)
        partial = torch.as_tensor(
            partial_matches(self.items, beams, targets), device=confidence.device
        )
        conf_loss = confidence_loss(
            confidence, correct, partial, config.coeff_partial, config.coeff_wrong
        ) / len(batch_samples)
        c = confidence.detach()
        metrics.update(
            conf_loss=conf_loss.item(),
            conf_right=float((c * correct).sum()),  # sums: divide by the counts to compare
            n_right=float(correct.sum()),
            conf_wrong=float((c * (~correct & (torch.as_tensor(beams) >= 0).to(c.device))).sum()),
        )
        return loss + conf_loss, metrics

    def _beam_rollouts(self, prompts: list[list[int]]) -> np.ndarray:
        result = constrained_beam_search(
            self.backbone, self.trie, prompts, self.config.num_generations,
            self.config.length_penalty,
        )  # fmt: skip
        self._scores = result.scores.numpy().astype(np.float64)
        self._beams = result.items.numpy()
        return self._beams[:, :, None]

    def _targets(self, samples: list[Sample]) -> np.ndarray:
        return self.items.unit_of_item[[s.target for s in samples]]

    def group_rewards(self, samples: list[Sample], units: np.ndarray) -> np.ndarray:
        beams, targets = units[:, :, 0], self._targets(samples)
        self.reward_metrics = {
            "beam_hit": float((beams == targets[:, None]).any(1).sum()) * beams.shape[1]
        }
        return uncertainty_rewards(beams, self._scores, targets)

    def group_weights(self, samples: list[Sample], units: np.ndarray) -> np.ndarray:
        return difficulty_weights(units[:, :, 0], self._targets(samples), self.config.alpha_min)
