"""The accuracy-safety trade-off of the clinic scenario: Jaccard vs DDI rate over alpha.

For each clinician (co-occurrence, most-frequent drugs) and each alpha, the clinic episode
runs on the open MIMIC-IV demo for several patient-level splits (seeds); the table gives
mean and sd over seeds of the final lists' Jaccard, F1 and DDI rate, and a PNG plots the
Jaccard-vs-DDI curve (FLAME, Fig. 5a, shows the same trade-off for its trained editor).
100 patients (37 test visits per split) is small: read the spread, not the third decimal.

    .venv/bin/python examples/clinic_alpha_curve.py --seeds 5 --out runs/clinic-alpha
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import numpy as np

from recagora.environments.clinic.config import ClinicConfig
from recagora.environments.registry import get_scenario
from recagora.environments.scenario import MemorySink, RunServices
from recagora.item_space.clinical import load_visits
from recagora.item_space.datasets import shared_data_dir

ALPHAS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
CLINICIANS = ("cooccurrence", "frequent")
COLUMNS = ("jaccard", "f1", "ddi_rate", "list_length")


def final_metrics(data, clinician: str, alpha: float, seed: int, rounds: int) -> dict[str, float]:
    spec = get_scenario("clinic")
    sink = MemorySink()
    config = ClinicConfig(agents=f"clinician={clinician}", alpha=alpha, seed=seed, rounds=rounds)
    episode = spec.prepare(config, RunServices(sink=sink, extras={"data": data}))
    asyncio.run(
        spec.build_graph().compile().ainvoke(episode.initial_state, context=episode.context)
    )
    return sink.metrics_rows()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="Patient-level splits (seeds 0..n-1).")
    parser.add_argument("--rounds", type=int, default=5, help="Edit steps per episode.")
    parser.add_argument("--data", default=str(shared_data_dir() / "clinical" / "mimic-iv-demo-2.2"))
    parser.add_argument(
        "--out", default="runs/clinic-alpha", help="Folder for table.json and curve.png."
    )
    args = parser.parse_args()
    data = load_visits(args.data)
    rows = []
    for clinician in CLINICIANS:
        for alpha in ALPHAS:
            runs = [
                final_metrics(data, clinician, alpha, s, args.rounds) for s in range(args.seeds)
            ]
            row = {"clinician": clinician, "alpha": alpha}
            for column in COLUMNS:
                values = np.array([r[column] for r in runs])
                row[column], row[f"{column}_sd"] = (
                    float(values.mean()),
                    float(values.std(ddof=1) if len(values) > 1 else 0.0),
                )
            rows.append(row)
            print(f"{clinician:>12} alpha {alpha:>4}: " + "  ".join(
                f"{c} {row[c]:.4f}±{row[c + '_sd']:.4f}" for c in COLUMNS))  # fmt: skip
    truth = [
        final_metrics(data, "cooccurrence", 0.0, s, 1)["truth_ddi_rate"] for s in range(args.seeds)
    ]
    print(f"real lists' DDI rate: {np.mean(truth):.4f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "table.json").write_text(json.dumps(rows, indent=2))
    _plot(rows, out / "curve.png")
    print(f"wrote {out / 'table.json'} and {out / 'curve.png'}")


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    from recagora.item_space.figures import save_figure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 4))
    for clinician in CLINICIANS:
        mine = [r for r in rows if r["clinician"] == clinician]
        axis.errorbar([r["ddi_rate"] for r in mine], [r["jaccard"] for r in mine],
                      yerr=[r["jaccard_sd"] for r in mine], marker="o", label=clinician, capsize=2)  # fmt: skip
        for r in mine:
            axis.annotate(f"{r['alpha']:g}", (r["ddi_rate"], r["jaccard"]), fontsize=7)
    axis.set_xlabel("DDI rate (share of interacting pairs)")
    axis.set_ylabel("Jaccard")
    axis.set_title("clinic: accuracy vs safety over alpha")
    axis.legend()
    save_figure(figure, path)


if __name__ == "__main__":
    from recagora.experiments.scripts import run_script

    run_script(main)
