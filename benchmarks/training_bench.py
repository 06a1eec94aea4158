"""Training-core benchmark on Video_Games: trainer throughput vs a bare loop, beam-search speed.

1. SFT tokens/s of `SFTTrainer.optimizer_step` against a bare PyTorch loop (the same tiny
   GPT, the same batch tensors, forward + cross-entropy + backward + clip + AdamW). The two
   alternate rep by rep so machine load hits both alike. Target: ratio >= 0.9.
2. Trie-constrained beam search (10 beams) over the full 3,858-title trie: items/s and
   prompts/s, with an untrained tiny GPT or a trained checkpoint (--checkpoint).

Usage: .venv/bin/python benchmarks/training_bench.py [--reps 5] [--prompts 64] [--checkpoint RUN]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch

from recagora.item_space.datasets import load_dataset
from recagora.training.configs import load_config
from recagora.training.data import response_log_probs
from recagora.training.policy import GenerativeRecommender
from recagora.training.sft_config import SFTConfig
from recagora.training.sft_trainer import SFTTrainer, target_batch


def _bare_step(model, batch, optimizer, max_grad_norm: float) -> None:
    logits, _ = model(batch.input_ids, batch.attention_mask)
    log_probs = response_log_probs(logits, batch)
    token_lp = log_probs.gather(-1, batch.response[..., None]).squeeze(-1)
    loss = -(token_lp * batch.response_mask).sum() / batch.response_mask.sum()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def bench_trainer(dataset, args) -> None:
    split = dataset.split("given")
    overrides = [
        "output_dir=/tmp/recagora-training-bench",
        f"batch_size={args.batch_size}",
        f"micro_batch_size={args.batch_size}",
        "progress=false",
        "resume=false",
        f"num_threads={args.threads}",
        "prompt.max_history=5",
    ]
    trainer = SFTTrainer(load_config(SFTConfig, None, None, overrides), dataset.catalog, split.train)
    batch = target_batch(trainer, [split.train[i] for i in trainer.batch_indices(0)])
    tokens = int(batch.attention_mask.sum())
    bare_model = copy.deepcopy(trainer.backbone.model)
    bare_optimizer = torch.optim.AdamW(bare_model.parameters(), lr=1e-3)
    trainer.optimizer_step(0), _bare_step(bare_model, batch, bare_optimizer, 1.0)  # warm-up
    ours, bare = 0.0, 0.0
    for _ in range(args.reps):
        started = time.perf_counter()
        trainer.optimizer_step(0)  # step 0 again: the same batch as the bare loop
        ours += time.perf_counter() - started
        started = time.perf_counter()
        _bare_step(bare_model, batch, bare_optimizer, 1.0)
        bare += time.perf_counter() - started
    print(f"batch: {args.batch_size} samples, {tokens} tokens; {args.reps} steps each, interleaved")
    print(f"trainer  {tokens * args.reps / ours:9.0f} tokens/s  ({ours / args.reps:.3f} s/step)")
    print(f"bare     {tokens * args.reps / bare:9.0f} tokens/s  ({bare / args.reps:.3f} s/step)")
    print(f"ratio trainer/bare = {bare / ours:.3f}  (target >= 0.9)")


def bench_beam_search(dataset, args) -> None:
    split = dataset.split("given")
    if args.checkpoint:
        policy = GenerativeRecommender.load(args.checkpoint, dataset.catalog)
    else:
        overrides = ["output_dir=/tmp/recagora-training-bench", "progress=false", "resume=false"]
        trainer = SFTTrainer(
            load_config(SFTConfig, None, None, overrides), dataset.catalog, split.train[:10]
        )
        policy = GenerativeRecommender(
            trainer.backbone, trainer.items, trainer.config.prompt, trainer.titles, "untrained"
        )
    histories = [s.history for s in split.test[: args.prompts]]
    started = time.perf_counter()
    ranked, _, invalid = policy.rank(histories, num_beams=10, batch_size=args.beam_batch)
    seconds = time.perf_counter() - started
    print(
        f"beam search ({policy.name}): {policy.trie.n_items} titles, depth {policy.trie.max_depth}, 10 beams"
    )
    print(
        f"{len(histories)} prompts in {seconds:.2f} s: {len(histories) / seconds:.2f} prompts/s, "
        f"{ranked.size / seconds:.1f} ranked items/s, invalid {invalid}, valid slots {(ranked >= 0).mean():.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="Timed optimizer steps per side.")
    parser.add_argument("--batch-size", type=int, default=32, help="Samples per step.")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads.")
    parser.add_argument("--prompts", type=int, default=64, help="Test prompts for beam search.")
    parser.add_argument("--beam-batch", type=int, default=32, help="Prompts per beam-search call.")
    parser.add_argument(
        "--checkpoint", default=None, help="Run folder of a trained policy (optional)."
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset("video-games")
    bench_trainer(dataset, args)
    bench_beam_search(dataset, args)


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
