"""UGR on the GRPO trainer (Fan et al., KDD 2026): constrained beams as rollouts, the
uncertainty-weighted reward, the group loss scaled by the answer's beam rank (difficulty).

Not built yet: the two confidence tokens and their pairwise loss (`ugr_rewards.
confidence_loss` is ready for them), and semantic-ID training (the trainer base tokenizes
titles only), so UGR refuses title catalogs unless `allow_titles=true`.
"""

from __future__ import annotations

import numpy as np

from recagora.item_space.errors import ConfigError
from recagora.item_space.types import Catalog, Sample
from recagora.training.decoding import constrained_beam_search
from recagora.training.grpo_trainer import GRPOTrainer
from recagora.training.ugr_config import UGRConfig
from recagora.training.ugr_rewards import difficulty_weights, uncertainty_rewards


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

    def _beam_rollouts(self, prompts: list[list[int]]) -> np.ndarray:
        result = constrained_beam_search(
            self.backbone, self.trie, prompts, self.config.num_generations,
            self.config.length_penalty,
        )  # fmt: skip
        self._scores = result.scores.numpy().astype(np.float64)
        return result.items.numpy()[:, :, None]

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
