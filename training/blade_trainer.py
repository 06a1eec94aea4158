"""BLADE and static best-of-N alignment on the GRPO trainer (Chen et al., SIGIR 2026).

Each prompt: G lists of K distinct items sampled from the policy under the trie; each list's
reward r = accuracy@K + lambda * auxiliary (see `blade_rewards`); the prior is the rewards of
M lists the frozen reference (the `init_from` SFT model) samples for the same prompt,
drawn once per training sample with a seed of its own and cached (the paper's `bon_data`,
generated lazily); the GRPO reward is log F(r), F the Beta-posterior CDF fusing that prior
with the current group (shared sampling: the same G lists are evidence and policy samples).
`bon` is the same with tau = 0, the static CDF of BoN alignment.

Example:
    >>> config = BladeConfig(output_dir="runs/blade", init_from="runs/sft", max_steps=50)
    >>> BladeTrainer(config, catalog, split.train).train()
"""

from __future__ import annotations

import numpy as np

from recagora.item_space.errors import ConfigError
from recagora.item_space.popularity import history_counts, popularity_groups
from recagora.item_space.types import Catalog, Sample
from recagora.training import blade_rewards as R
from recagora.training.backbones import Backbone
from recagora.training.blade_config import BladeConfig, BoNConfig
from recagora.training.grpo_trainer import GRPOTrainer, sample_lists


class BladeTrainer(GRPOTrainer):
    """GRPO on lists with the log posterior-CDF reward."""

    method = "blade"
    config_class = BladeConfig

    def __init__(
        self,
        config: BladeConfig,
        catalog: Catalog,
        train: list[Sample],
        item_vectors: np.ndarray | None = None,
    ):
        if config.auxiliary == "ild" and item_vectors is None:
            raise ConfigError("auxiliary=ild needs item vectors (the item space's embeddings)")
        super().__init__(config, catalog, train)
        if config.list_length > self.items.n_units:
            raise ConfigError(
                f"list_length {config.list_length} exceeds the catalog's {self.items.n_units} distinct titles"
            )
        self.item_vectors = item_vectors
        counts = history_counts(train, len(catalog))
        self.groups = popularity_groups(counts, config.popularity_groups).group
        self._index = {id(s): i for i, s in enumerate(self.train_samples)}
        self._prior: dict[int, np.ndarray] = {}

    @property
    def list_length(self) -> int:
        return self.config.list_length

    def group_rewards(self, samples: list[Sample], units: np.ndarray) -> np.ndarray:
        """(B, G) log F(r) of each list; logs the raw list reward and its parts."""
        rewards = self.list_rewards(samples, units)
        prior = self.prior_rewards(samples)
        config: BladeConfig = self.config
        surrogate = R.log_cdf_reward(rewards, prior, config.tau, config.prior_a0, config.prior_b0)
        self.reward_metrics = {
            "list_reward": float(rewards.sum()),
            "prior_reward": float(prior.mean(1).sum()) * rewards.shape[1],
        }
        return surrogate

    def list_rewards(self, samples: list[Sample], units: np.ndarray) -> np.ndarray:
        """(B, G) accuracy@K + lambda * auxiliary of (B, G, K) unit lists."""
        config: BladeConfig = self.config
        lists = np.where(units >= 0, self.items.unit_item[np.clip(units, 0, None)], -1)
        targets = np.array([s.target for s in samples])[:, None].repeat(lists.shape[1], 1)
        accurate = R.ndcg_at_k if config.accuracy == "ndcg" else R.hit_at_k
        reward = accurate(lists, targets)
        if config.auxiliary == "mgu" and config.aux_weight:
            histories = [s.history for s in samples]
            reward = reward - config.aux_weight * R.mgu(
                lists, histories, self.groups, config.popularity_groups
            )
        elif config.auxiliary == "ild" and config.aux_weight:
            reward = reward + config.aux_weight * R.ild(lists, self.item_vectors)
        return reward

    def prior_rewards(self, samples: list[Sample]) -> np.ndarray:
        """(B, M) rewards of M reference lists per sample (drawn once per sample, cached)."""
        missing = [s for s in samples if self._index[id(s)] not in self._prior]
        if missing:
            self._draw_prior(missing)
        return np.stack([self._prior[self._index[id(s)]] for s in samples])

    def _draw_prior(self, samples: list[Sample]) -> None:
        config: BladeConfig = self.config
        reference = Backbone(self.backbone.config, self.reference, self.backbone.tokenizer)
        seeds = [
            int(
                np.random.SeedSequence([config.seed, 1 << 20, self._index[id(s)]]).generate_state(
                    1
                )[0]
            )
            for s in samples
        ]  # per sample, not per step: the same prior whenever the sample comes back
        units = sample_lists(
            reference, self.trie, self.prompts(samples), seeds, config.reference_lists,
            config.list_length, config.rollout_temperature,
        )  # fmt: skip
        for sample, rewards in zip(samples, self.list_rewards(samples, units), strict=True):
            self._prior[self._index[id(sample)]] = rewards


class BoNTrainer(BladeTrainer):
    """Static best-of-N alignment: BLADE's reward with tau = 0 (the reference CDF only)."""

    method = "bon"
    config_class = BoNConfig
