"""GRPO trainer throughput vs a bare PyTorch loop on the same rollouts, and rollout cost.

Issue 12's target: the trainer's update within 0.9x of a bare loop. Both run in this
process on copies of one model, interleaved step by step (the machine is shared, so
load changes hit both alike), on the SAME precomputed rollouts: the trainer's
`optimizer_step` with its rollout call replaced by a lookup, and a hand-written loop
(token batch, forward, log-probs, group advantages, policy-gradient loss, backward,
clip, AdamW). Throughput ratio = bare seconds / trainer seconds (1 = no overhead).
Rollout cost: seconds per prompt of trie-masked sampling and of constrained beams.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/grpo_throughput.py --steps 6
"""

from __future__ import annotations

import argparse
import copy
import time

import numpy as np
import torch

from recagora.item_space.datasets import load_dataset
from recagora.training.data import prompt_response_batch, response_log_probs
from recagora.training.grpo_trainer import group_advantages
from recagora.training.registry import make_trainer


def main() -> None:
    args = _parser().parse_args()
    dataset = load_dataset(args.dataset)
    train = dataset.split("auto").train
    overrides = [
        "output_dir=/tmp/grpo-throughput",
        "resume=false",
        f"batch_size={args.batch_size}",
        f"micro_batch_size={args.batch_size}",
        f"num_generations={args.generations}",
        "prompt.max_history=5",
        "progress=false",
        "warmup_steps=1",
        "seed=0",
    ]
    trainer = make_trainer("grpo", dataset.catalog, train, overrides=overrides)
    rollout_cost = _rollout_cost(trainer, args)
    steps = list(range(args.steps))
    units = {step: _rollouts_of(trainer, step) for step in steps}
    bare = _BareLoop(trainer)
    replay = {"step": 0}
    trainer.rollouts = lambda samples, prompts: units[replay["step"]]
    trainer_seconds, bare_seconds = [], []
    for step in steps:
        replay["step"] = step
        started = time.perf_counter()
        trainer.optimizer_step(step)
        trainer_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        bare.step(step, units[step])
        bare_seconds.append(time.perf_counter() - started)
    # the first step of each pays one-time costs (allocator, prompt cache): left out
    t, b = float(np.sum(trainer_seconds[1:])), float(np.sum(bare_seconds[1:]))
    print(f"dataset {args.dataset}, B={args.batch_size}, G={args.generations}, steps {args.steps}")
    print(
        f"trainer update {t / (args.steps - 1):.3f} s/step, bare loop {b / (args.steps - 1):.3f} s/step"
    )
    print(f"throughput ratio (bare / trainer seconds): {b / t:.3f}  (target >= 0.9)")
    for mode, seconds in rollout_cost.items():
        print(f"rollout {mode}: {seconds * 1000:.1f} ms per prompt (G={args.generations})")


def _rollouts_of(trainer, step: int) -> np.ndarray:
    """The (B, G, 1) rollouts the trainer would draw at `step` (drawn once, replayed)."""
    batch = [trainer.train_samples[i] for i in trainer.batch_indices(step)]
    trainer._positions = {id(s): position for position, s in enumerate(batch)}
    trainer.step = step
    return trainer.rollouts(batch, trainer.prompts(batch))


def _rollout_cost(trainer, args) -> dict[str, float]:
    batch = [trainer.train_samples[i] for i in trainer.batch_indices(10_000)]
    trainer._positions = {id(s): position for position, s in enumerate(batch)}
    prompts = trainer.prompts(batch)
    cost = {}
    for mode in ("sample", "beam"):
        trainer.config.rollout = mode
        started = time.perf_counter()
        trainer.rollouts(batch, prompts)
        cost[mode] = (time.perf_counter() - started) / len(batch)
    trainer.config.rollout = "sample"
    return cost


class _BareLoop:
    """The same update written as a plain PyTorch loop on a copy of the starting model."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.model = copy.deepcopy(trainer.backbone.model).train()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=trainer.config.learning_rate)

    def step(self, step: int, units: np.ndarray) -> None:
        trainer, pad = self.trainer, self.trainer.backbone.tokenizer.pad_id
        batch = [trainer.train_samples[i] for i in trainer.batch_indices(step)]
        groups = units.shape[1]
        targets = trainer.items.unit_of_item[[s.target for s in batch]]
        rewards = torch.as_tensor((units[:, :, 0] == targets[:, None]).astype(np.float32))
        advantage = group_advantages(rewards).reshape(-1, 1)
        prompts = [p for p in trainer.prompts(batch) for _ in range(groups)]
        flat = units.reshape(-1)
        response, lengths = trainer.items.padded_items(trainer.items.unit_item[flat], pad)
        tokens = prompt_response_batch(prompts, response, lengths, pad)
        logits, _ = self.model(tokens.input_ids, tokens.attention_mask)
        log_probs = response_log_probs(logits, tokens).gather(-1, tokens.response[..., None])
        mask = tokens.response_mask
        per_list = (-(log_probs.squeeze(-1) * advantage) * mask).sum(1) / mask.sum(1)
        per_list.mean().backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="video-games", help="Registered dataset.")
    parser.add_argument("--steps", type=int, default=6, help="Timed steps (the first is warm-up).")
    parser.add_argument("--batch-size", type=int, default=8, help="Prompts per step.")
    parser.add_argument("--generations", type=int, default=8, help="G: rollouts per prompt.")
    return parser


if __name__ == "__main__":
    main()
