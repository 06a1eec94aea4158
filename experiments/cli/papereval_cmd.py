"""`recagora papereval train-scorer|papers`: thin over `recagora.training.papereval` and the paper loaders.

The scenario itself runs with `recagora run papereval` (see `recagora runs fields papereval`).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="PaperEval: paper corpora and the trainable paper scorer.", no_args_is_help=True
)


@app.command("papers")
def papers(
    data: Path = typer.Option(
        None, "--data", help="iclr-openreview folder (default: the shared data folder)."
    ),
) -> None:
    """Load the ICLR 2017 corpus and its concurrent venues; print counts and what was left out."""
    from recagora.item_space.papers import load_iclr_openreview

    corpus = load_iclr_openreview(data)
    typer.echo(
        f"targets: {len(corpus.targets)} ICLR 2017 submissions; concurrent: {len(corpus.concurrent)} papers"
    )
    typer.echo(corpus.report.summary())
    for note in corpus.report.notes:
        typer.echo(f"  - {note}")


@app.command("train-scorer")
def train_scorer(
    loss: str = typer.Option("listmle", "--loss", help="listmle (progressive), mse or listnet."),
    backbone: str = typer.Option(
        "minilm", "--backbone", help="minilm, hashing, smollm2 or a local HF causal-LM folder."
    ),
    references: int = typer.Option(
        0, "--references", help="Concurrent papers appended to each input (0 = none)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, initialisation and list order."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Any PaperScorerConfig field: --set epochs=30 (repeatable)."
    ),
    data: Path = typer.Option(
        None, "--data", help="iclr-openreview folder (default: the shared data folder)."
    ),
    out: Path = typer.Option(
        None,
        "--out",
        help="Output folder (default: runs/papereval-scorer/<loss>-<backbone>-seed<seed>).",
    ),
) -> None:
    """Train the PaperEval scorer on ICLR 2017 (mean review rating) and report test NDCG@10/20, Spearman, Kendall."""
    from recagora.experiments.runner.config import load_config
    from recagora.item_space.papers import load_iclr_openreview
    from recagora.training.papereval.config import PaperScorerConfig
    from recagora.training.papereval.trainer import train_paper_scorer

    flags = {"loss": loss, "backbone": backbone, "references": references, "seed": seed}
    config = load_config(PaperScorerConfig, None, flags, overrides)
    corpus = load_iclr_openreview(data)
    trainer, result, split = train_paper_scorer(config, corpus)
    folder = (
        out or Path("runs") / "papereval-scorer" / f"{loss}-{backbone.replace('/', '_')}-seed{seed}"
    )
    folder.mkdir(parents=True, exist_ok=True)
    trainer.save(folder / "scorer.pt")
    report = {"config": config.to_dict(), "best_epoch": result.best_epoch, "test": result.test_metrics,
              "losses": result.losses, "split_sizes": [len(split.train), len(split.valid), len(split.test)],
              "load_report": corpus.report.summary()}  # fmt: skip
    (folder / "report.json").write_text(json.dumps(report, indent=2))
    typer.echo(json.dumps({"best_epoch": result.best_epoch, **result.test_metrics}, indent=2))
    typer.echo(f"scorer: {folder / 'scorer.pt'}")
