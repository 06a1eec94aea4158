"""Group-rollout policy gradient (GRPO family) on the shared trainer, under the item trie.

GRPO (Shao et al., "DeepSeekMath", 2024, arXiv 2402.03300): for each prompt, G rollouts;
advantages A_g = (r_g - mean_G r) / (std_G r + eps); per token the clipped-ratio surrogate
-min(rho A, clip(rho, 1 - eps, 1 + eps) A), averaged over each rollout's tokens, plus
beta * KL(pi || pi_ref) with the k3 estimator exp(d) - d - 1, d = log pi_ref - log pi.
Rollouts are catalog items by construction: trie-masked ancestral sampling (Flower's
rollout) or the top-G constrained beams (UGR, Fan et al., KDD 2026). A rollout may be a
LIST of K distinct items (BLADE): its tokens are the concatenation of its items', each
conditioned on the prompt alone, and the list's advantage applies to all of them.

One optimizer step per rollout batch (TRL's default num_iterations = 1), so the "old"
policy equals the current one: rho = 1 in value, the clip never binds, and the gradient
is the plain policy gradient. The ratio is still computed so that several updates per
rollout could be added without changing the loss.

Why not TRL's GRPOTrainer: it sits on `transformers.Trainer` and generates with
`model.generate` (no trie constraint, no beam rollouts, no KV-cache sharing across beams),
expects a `PreTrainedModel` (our tiny GPT is not one) and is not installed here.

Example:
    >>> config = GRPOConfig(output_dir="runs/grpo", init_from="runs/sft", max_steps=50)
    >>> GRPOTrainer(config, catalog, split.train).train()
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from recagora.item_space.errors import ModelError
from recagora.item_space.types import Catalog, Sample
from recagora.training.backbones import Backbone
from recagora.training.checkpoints import TOKENIZER, WEIGHTS, check_fingerprint, verify_checkpoint
from recagora.training.configs import to_dict
from recagora.training.data import prompt_response_batch, response_log_probs
from recagora.training.decoding import constrained_beam_search, row_uniforms, sample_under_trie
from recagora.training.grpo_config import GRPOConfig
from recagora.training.trainer_base import BaseTrainer


def group_advantages(rewards: torch.Tensor, scale: bool = True, eps: float = 1e-4) -> torch.Tensor:
    """(B, G) advantages: rewards centred per group (row), divided by the row's std + eps."""
    centred = rewards - rewards.mean(dim=1, keepdim=True)
    if not scale:
        return centred
    return centred / (rewards.std(dim=1, keepdim=True, unbiased=False) + eps)


def clipped_token_loss(
    log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor, eps: float
) -> torch.Tensor:
    """(N, L) -min(rho A, clip(rho, 1 +- eps) A), rho = exp(log pi - log pi_old); A is (N, 1)."""
    ratio = torch.exp(log_probs - old_log_probs)
    return -torch.minimum(ratio * advantages, ratio.clamp(1 - eps, 1 + eps) * advantages)


def k3_kl(log_probs: torch.Tensor, ref_log_probs: torch.Tensor) -> torch.Tensor:
    """(N, L) per-token KL(pi || pi_ref) estimate exp(d) - d - 1, d = log pi_ref - log pi (>= 0)."""
    delta = ref_log_probs - log_probs
    return torch.exp(delta) - delta - 1.0


def load_initial_policy(trainer: BaseTrainer, run: str | Path) -> None:
    """Load the trainable weights of `run` (e.g. an SFT run) into `trainer`'s backbone.

    Raises:
        ModelError: not a checkpoint, another catalog, or another backbone/tokenizer.
    """
    manifest = verify_checkpoint(Path(run))
    check_fingerprint(manifest, trainer.items.fingerprint)
    if manifest["config"].get("backbone") != to_dict(trainer.config.backbone):
        raise ModelError(
            f"init_from {str(run)!r} was trained with backbone settings "
            f"{manifest['config'].get('backbone')}; pass the same backbone.* settings"
        )
    folder = Path(manifest["folder"])
    tiny = trainer.backbone.is_tiny
    if tiny and (folder / TOKENIZER).read_text() != trainer.backbone.tokenizer.to_json():
        raise ModelError(f"init_from {str(run)!r} has another tokenizer; retrain it or drop it")
    trainer.backbone.load_trainable_state(load_file(str(folder / WEIGHTS)))


class GRPOTrainer(BaseTrainer):
    """G trie rollouts per prompt, group-normalised rewards, clipped surrogate (+ KL).

    Subclasses set `list_length` (K items per rollout) and define `group_rewards`;
    this class's reward is the hit of the held-out item (1 if the rollout is it).
    """

    method = "grpo"
    config_class = GRPOConfig
    list_length = 1

    def __init__(self, config: GRPOConfig, catalog: Catalog, train: list[Sample]):
        super().__init__(config, catalog, train)
        self.reward_metrics: dict[str, float] = {}  # sums a `group_rewards` may add to the log
        if config.init_from:
            load_initial_policy(self, config.init_from)
        # The frozen reference: the starting policy (the SFT model when init_from is set).
        self.reference = copy.deepcopy(self.backbone.model).eval().requires_grad_(False)

    # --- what a method defines -------------------------------------------------------
    def group_rewards(self, samples: list[Sample], units: np.ndarray) -> np.ndarray:
        """(B, G) float64 rewards of (B, G, K) rollout units (-1 = no item)."""
        targets = self.items.unit_of_item[[s.target for s in samples]]
        return (units[:, :, 0] == targets[:, None]).astype(np.float64)

    def group_weights(self, samples: list[Sample], units: np.ndarray) -> np.ndarray | None:
        """(B,) weight of each prompt's group loss (UGR's difficulty); None = all 1."""
        return None

    # --- the loop ----------------------------------------------------------------------
    def micro_batch_loss(self, samples, batch_samples):
        config: GRPOConfig = self.config
        prompts = self.prompts(samples)
        units = self.rollouts(samples, prompts)
        rewards = self.group_rewards(samples, units)
        advantages = group_advantages(
            torch.as_tensor(rewards, dtype=torch.float32),
            config.scale_rewards,
            config.advantage_eps,
        )
        weights = self.group_weights(samples, units)
        loss_sum, kl_sum, tokens = self.policy_loss(prompts, units, advantages, weights)
        lists = len(batch_samples) * config.num_generations
        loss = loss_sum / lists
        extra = {key: value / lists for key, value in self.reward_metrics.items()}
        self.reward_metrics = {}
        return loss, {
            "loss": loss.item(),
            "reward": float(rewards.mean(1).sum()) / len(batch_samples),
            "kl": kl_sum / lists,
            "tokens": tokens,
            **extra,
        }

    def rollouts(self, samples: list[Sample], prompts: list[list[int]]) -> np.ndarray:
        """(B, G, K) int64 unit ids of each prompt's G rollouts (K items each, -1 = none)."""
        self.backbone.model.eval()
        try:
            if self.config.rollout == "beam":
                return self._beam_rollouts(prompts)
            return self._sampled_rollouts(samples, prompts)
        finally:
            self.backbone.model.train()

    def _beam_rollouts(self, prompts: list[list[int]]) -> np.ndarray:
        result = constrained_beam_search(
            self.backbone, self.trie, prompts, self.config.num_generations
        )
        return result.items.numpy()[:, :, None]

    def _sampled_rollouts(self, samples: list[Sample], prompts: list[list[int]]) -> np.ndarray:
        seeds = [self.sample_seed(s) for s in samples]
        return sample_lists(
            self.backbone, self.trie, prompts, seeds, self.config.num_generations,
            self.list_length, self.config.rollout_temperature,
        )  # fmt: skip

    def policy_loss(self, prompts, units: np.ndarray, advantages: torch.Tensor, weights=None):
        """Summed per-list token-mean surrogate (+ beta KL), each group's lists scaled by
        `weights` (B,) when given; the summed mean KL; the tokens fed."""
        batch, groups, k = units.shape
        flat = units.reshape(-1)
        keep = np.flatnonzero(flat >= 0)
        rows = keep // k  # the list (b * G + g) each item belongs to
        response, lengths = self.items.padded_items(
            self.items.unit_item[flat[keep]], self.backbone.tokenizer.pad_id
        )
        item_prompts = [prompts[r // groups] for r in rows.tolist()]
        tokens = prompt_response_batch(
            item_prompts, response, lengths, self.backbone.tokenizer.pad_id
        ).to(self.device)
        log_probs = self._token_log_probs(self.backbone, tokens)
        advantage = advantages.reshape(-1)[rows].to(self.device)[:, None]
        per_token = clipped_token_loss(
            log_probs, log_probs.detach(), advantage, self.config.clip_epsilon
        )
        kl = torch.zeros_like(per_token)
        if self.config.kl_beta > 0:
            with torch.no_grad():
                reference = Backbone(self.backbone.config, self.reference, self.backbone.tokenizer)
                ref_log_probs = self._token_log_probs(reference, tokens)
            kl = k3_kl(log_probs, ref_log_probs)
        list_index = torch.as_tensor(rows, device=self.device)
        mask = tokens.response_mask
        per_list = _per_list_mean(
            ((per_token + self.config.kl_beta * kl) * mask).sum(1),
            mask.sum(1),
            list_index,
            batch * groups,
        )
        if weights is not None:
            scale = torch.as_tensor(np.repeat(weights, groups), dtype=per_list.dtype)
            per_list = per_list * scale.to(per_list.device)
        kl_list = _per_list_mean(
            (kl * mask).sum(1).detach(), mask.sum(1), list_index, batch * groups
        )
        return per_list.sum(), float(kl_list.sum()), float(tokens.attention_mask.sum())

    @staticmethod
    def _token_log_probs(backbone: Backbone, tokens) -> torch.Tensor:
        logits, _ = backbone.forward(tokens.input_ids, tokens.attention_mask)
        log_probs = response_log_probs(logits, tokens)
        return log_probs.gather(-1, tokens.response[..., None]).squeeze(-1)


@torch.no_grad()
def sample_lists(backbone, trie, prompts, seeds: list[int], n_lists: int, k: int, temperature):
    """(B, n_lists, k) units: K distinct items per list, the first K distinct of 2K seeded
    draws under the trie (sequential sampling without replacement; -1 where fewer came)."""
    draws = n_lists * (2 * k if k > 1 else 1)
    rows = [_row_seed(seed, row) for seed in seeds for row in range(draws)]
    repeated = [p for p in prompts for _ in range(draws)]
    uniforms = row_uniforms(rows, trie.max_depth)
    _, _, units = sample_under_trie(backbone, trie, repeated, uniforms, temperature)
    drawn = units.cpu().numpy().reshape(len(prompts), n_lists, -1)
    return np.stack([[_first_distinct(row, k) for row in group] for group in drawn])


def _per_list_mean(sums, counts, list_index, n_lists: int) -> torch.Tensor:
    """(n_lists,) sum of each list's token values / its token count (0 for empty lists)."""
    total = torch.zeros(n_lists, device=sums.device).index_add(0, list_index, sums)
    count = torch.zeros(n_lists, device=sums.device).index_add(0, list_index, counts)
    return total / count.clamp(min=1.0)


def _row_seed(sample_seed: int, row: int) -> int:
    return int(np.random.SeedSequence([sample_seed, row]).generate_state(1)[0])


def _first_distinct(draws: np.ndarray, k: int) -> np.ndarray:
    """(k,) the first k distinct values of `draws` in draw order, -1 padded."""
    _, first = np.unique(draws, return_index=True)
    out = np.full(k, -1, np.int64)
    kept = draws[np.sort(first)][:k]
    out[: len(kept)] = kept
    return out
