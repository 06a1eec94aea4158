"""Flower: flow-guided fine-tuning of an LLM recommender (GFlowNet process supervision).

Gao et al., "Process-Supervised LLM Recommenders via Flow-guided Tuning", SIGIR 2025.
Each step: the SFT loss on the target title, plus on-policy rollouts sampled under
the title trie, scored token by token with the trie's closed-form flow of the item
rewards, trained with modified sub-trajectory balance (Hu et al. 2024):
L = theta * L_SFT + (1 - theta) * L_SubTB.

Item reward: the title's share of training-history occurrences (plus smoothing).
Personalised variant (the paper's ``logp_div_s``): token log-rewards are divided by
s'_u(i) = (s_u(i) - mean_j s_u(j)) / (max_j s_u(j) - min_j s_u(j)) + 1, with s_u the
softmax of a classic recommender's scores for the sample's user. Unlike the authors'
code (github.com/Mr-Peach0301/Flower), each score is taken for its own sample's generated item (no list that can
misalign with the batch) and the reward table is built once, not re-read per call.

Example:
    >>> config = FlowerConfig(output_dir="runs/flower", max_steps=100)
    >>> FlowerTrainer(config, catalog, split.train).train()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from recagora.item_space.errors import ConfigError
from recagora.item_space.recommender import Recommender
from recagora.item_space.types import Catalog, Sample, UserHistory
from recagora.training.data import prompt_response_batch, response_log_probs
from recagora.training.decoding import row_uniforms, sample_under_trie
from recagora.training.flower_config import FlowerConfig
from recagora.training.gflownet_losses import subtb_loss, trajectory_log_rewards
from recagora.training.sft_trainer import sft_token_loss_sum, target_batch, target_token_count
from recagora.training.trainer_base import BaseTrainer

ItemScorer = Callable[[Sequence[Sample]], np.ndarray]  # samples -> (B, n_items) scores


def history_counts(samples: Sequence[Sample], n_items: int) -> np.ndarray:
    """(n_items,) occurrences of each item in the samples' histories (Flower's popularity)."""
    flat = np.fromiter((i for s in samples for i in s.history), dtype=np.int64)
    return np.bincount(flat, minlength=n_items)


def scorer_from_recommender(recommender: Recommender, n_items: int) -> ItemScorer:
    """An `ItemScorer` from a classic recommender (e.g. the SASRec of training/baselines).

    Uses its batched ``score_batch(histories) -> (B, n_items)`` when it has one, else asks
    `recommend` to rank the whole catalog for each sample (unranked items get its lowest score).
    """
    if hasattr(recommender, "score_batch"):
        return lambda samples: np.asarray(
            recommender.score_batch([list(s.history) for s in samples]), dtype=np.float64
        )

    def score(samples: Sequence[Sample]) -> np.ndarray:
        out = np.zeros((len(samples), n_items), dtype=np.float64)
        for row, sample in enumerate(samples):
            history = UserHistory(user=sample.user, items=list(sample.history))
            ranking = recommender.recommend(history, k=n_items)
            out[row] = np.min(ranking.scores) if len(ranking) else 0.0
            out[row, ranking.items] = ranking.scores
        return out

    return score


def personal_scale(scores: np.ndarray, items: np.ndarray) -> np.ndarray:
    """(B,) s'_u(i) of each row's item from (B, n_items) raw scores (Flower logp_div_s)."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    spread = np.maximum(probs.max(1) - probs.min(1), 1e-12)
    chosen = probs[np.arange(len(items)), items]
    return np.maximum((chosen - probs.mean(1)) / spread + 1.0, 1e-3)


class FlowerTrainer(BaseTrainer):
    """SFT + trie-flow SubTB on on-policy trie-masked rollouts."""

    method = "flower"
    config_class = FlowerConfig

    def __init__(
        self,
        config: FlowerConfig,
        catalog: Catalog,
        train: list[Sample],
        item_scorer: ItemScorer | None = None,
    ):
        if config.reward == "personalized" and item_scorer is None:
            raise ConfigError(
                "reward 'personalized' needs an item scorer (e.g. a trained SASRec); pass one"
            )
        super().__init__(config, catalog, train)
        self.item_scorer = item_scorer
        counts = (
            self.items.unit_counts(history_counts(train, len(catalog))) + config.reward_smoothing
        )
        self.edge_log_reward = self.trie.edge_log_rewards(torch.as_tensor(counts)).to(self.device)

    def micro_batch_loss(self, samples, batch_samples):
        config: FlowerConfig = self.config
        targets = target_batch(self, samples)
        sft = sft_token_loss_sum(self, targets) / target_token_count(self, batch_samples)
        subtb, final_log_reward, rollout_tokens = self._subtb(samples)
        share = len(batch_samples)
        loss = config.theta * sft + (1.0 - config.theta) * subtb.sum() / share
        return loss, {
            "loss": loss.item(),
            "sft_loss": sft.item(),
            "subtb_loss": subtb.sum().item() / share,
            "rollout_log_reward": final_log_reward / share,
            "tokens": float(targets.attention_mask.sum()) + rollout_tokens,
        }

    def _subtb(self, samples: list[Sample]):
        """(B,) SubTB loss of one rollout per sample, the summed final log-reward, tokens fed."""
        prompts = self.prompts(samples)
        end = self.backbone.tokenizer.end_of_item_id
        uniforms = row_uniforms([self.sample_seed(s) for s in samples], self.trie.max_depth)
        tokens, lengths, units = sample_under_trie(
            self.backbone, self.trie, prompts, uniforms, self.config.rollout_temperature
        )
        batch = prompt_response_batch(
            prompts, tokens.cpu(), lengths.cpu(), self.backbone.tokenizer.pad_id
        ).to(self.device)
        logits, _ = self.backbone.forward(batch.input_ids, batch.attention_mask)
        log_probs = response_log_probs(logits, batch)  # (B, n, V), n = L + 1 with the end token
        title_lengths = batch.response_mask.sum(1).long() - 1
        step_lp = log_probs[:, :-1].gather(-1, batch.response[:, :-1, None]).squeeze(-1)
        stop_lp = log_probs[..., end]
        rewards = trajectory_log_rewards(
            self.trie,
            self.edge_log_reward,
            batch.response[:, :-1],
            title_lengths,
            end,
            self.config.incomplete_log_reward,
            self._scale(samples, units),
        )
        loss = subtb_loss(step_lp, stop_lp, rewards, title_lengths, self.config.subtb_lambda)
        final = float(rewards.gather(1, title_lengths[:, None]).sum())
        return loss, final, float(batch.attention_mask.sum())

    def _scale(self, samples: list[Sample], units: torch.Tensor) -> torch.Tensor | None:
        if self.config.reward != "personalized":
            return None
        items = self.items.unit_item[units.cpu().numpy()]
        scale = personal_scale(self.item_scorer(samples), items)
        return torch.as_tensor(scale, dtype=torch.float64, device=self.device)
