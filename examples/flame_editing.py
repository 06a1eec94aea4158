"""FLAME's list editing on the open MIMIC-IV demo: does editing the classifier's list help?

Per patient-level split (seed): the point-wise classifier alone (flame-cls), + the SFT
editor, + outcome-only GRPO, + step-wise GRPO (both from the same SFT editor, same prompt
stream), and the clinic's classical baselines (most-frequent drugs, co-occurrence; their
thresholds chosen on validation, as the classifier's). Every GRPO run keeps its best
validation checkpoint; nothing is chosen on the test visits. Table: mean ± sd over seeds of
the test lists' Jaccard, F1, DDI rate, length and the editor's refusal rate.
~37 test visits per split from 100 patients: read the spread, not the third decimal.

    .venv/bin/python examples/flame_editing.py --seeds 5 --out runs/flame-editing
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from recagora.agents.clinic import CooccurrenceClinician, FrequentClinician
from recagora.item_space.metrics.medication import ddi_rate, f1, jaccard
from recagora.training.flame_cls import FlameClsConfig, train_flame_cls
from recagora.training.flame_list import (
    FlameListConfig,
    evaluate,
    load_world,
    new_editor,
    run_grpo,
    run_sft,
    training_profile,
)

COLUMNS = ("jaccard", "f1", "ddi_rate", "list_length", "refusal_rate")
METHODS = ("most-frequent", "co-occurrence", "classifier", "+ SFT editor",
           "+ outcome GRPO", "+ step-wise GRPO")  # fmt: skip


def one_seed(seed: int, args) -> dict[str, dict[str, float]]:
    """Test metrics of every method on the split of `seed`."""
    folder = Path(args.out) / f"seed-{seed}"
    train_flame_cls(FlameClsConfig(seed=seed, output_dir=str(folder / "cls")))
    config = FlameListConfig(
        classifier=str(folder / "cls"), seed=seed, grpo_steps=args.grpo_steps,
        sft_prompts=args.sft_prompts, output_dir=str(folder / "list"),
    )  # fmt: skip
    world = load_world(config)
    torch.manual_seed(seed)
    model, profile = new_editor(config.classifier), training_profile(world)
    run_sft(model, world, profile, config, np.random.default_rng(seed))
    rows = {name: baseline(cls, world) for name, cls in
            (("most-frequent", FrequentClinician), ("co-occurrence", CooccurrenceClinician))}  # fmt: skip
    rows["classifier"] = evaluate(None, world, world.test, config.max_lines)
    rows["+ SFT editor"] = evaluate(model, world, world.test, config.max_lines)
    for reward in ("outcome", "stepwise"):
        editor = copy.deepcopy(model)
        run_grpo(editor, world, profile, replace(config, reward=reward),
                 np.random.default_rng(seed + 1000))  # fmt: skip
        name = "+ outcome GRPO" if reward == "outcome" else "+ step-wise GRPO"
        rows[name] = evaluate(editor, world, world.test, config.max_lines)
    return rows


def baseline(clinician_class, world) -> dict[str, float]:
    clinician = clinician_class(world.data, world.train, world.valid)
    lists = [set(clinician.propose(world.data, v)) for v in world.test]
    pairs = list(zip(lists, [world.truth(v) for v in world.test], strict=True))
    return {
        "jaccard": float(np.mean([jaccard(a, b) for a, b in pairs])),
        "f1": float(np.mean([f1(a, b) for a, b in pairs])),
        "ddi_rate": float(np.mean([ddi_rate(a, world.interactions.interacting) for a in lists])),
        "list_length": float(np.mean([len(a) for a in lists])),
        "refusal_rate": 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="Patient-level splits (0..n-1).")
    parser.add_argument("--grpo-steps", type=int, default=60, help="GRPO steps per run.")
    parser.add_argument("--sft-prompts", type=int, default=2000, help="Simulated SFT prompts.")
    parser.add_argument("--out", default="runs/flame-editing", help="Folder for runs, table.json.")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny models: extra threads only contend on a shared machine
    began, per_seed = time.time(), []
    for seed in range(args.seeds):
        per_seed.append(one_seed(seed, args))
        (Path(args.out) / f"seed-{seed}" / "test.json").write_text(json.dumps(per_seed[-1]))
        print(
            f"seed {seed}: " + ", ".join(f"{m} {r['jaccard']:.4f}" for m, r in per_seed[-1].items())
        )
    table = {}
    print("| method | " + " | ".join(COLUMNS) + " |\n" + "|---" * (len(COLUMNS) + 1) + "|")
    for method in METHODS:
        values = {c: np.array([s[method][c] for s in per_seed]) for c in COLUMNS}
        table[method] = {c: (float(v.mean()), float(v.std(ddof=1) if len(v) > 1 else 0.0))
                         for c, v in values.items()}  # fmt: skip
        print(
            f"| {method} | "
            + " | ".join(f"{m:.4f} ± {s:.4f}" for m, s in table[method].values())
            + " |"
        )
    gains = {m: np.array([s[m]["jaccard"] - s["classifier"]["jaccard"] for s in per_seed])
             for m in METHODS[3:]}  # fmt: skip
    for method, gain in gains.items():
        print(f"{method} - classifier, Jaccard per seed: {np.round(gain, 4).tolist()}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.json").write_text(json.dumps({"table": table, "per_seed": per_seed}, indent=2))
    print(f"wrote {out / 'table.json'} ({time.time() - began:.0f} s)")


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
