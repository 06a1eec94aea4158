"""`recagora train METHOD` and `recagora evaluate CHECKPOINT` (thin over recagora.training)."""

from __future__ import annotations

from pathlib import Path

import typer


def _split(dataset: str, split: str):
    from recagora.item_space.datasets import load_dataset

    loaded = load_dataset(dataset)
    return loaded, loaded.split(split)


def train(
    method: str = typer.Argument(
        ..., help="Training method: sft, flower, or papereval-scorer (ICLR 2017 paper scorer)."
    ),
    dataset: str = typer.Option(
        "video-games", "--dataset", help="Registered dataset name or path."
    ),
    backbone: str = typer.Option(
        None, "--backbone", help="tiny-gpt, smollm2 or a local HF model folder."
    ),
    config: Path = typer.Option(None, "--config", help="YAML file of config fields."),
    set_: list[str] = typer.Option(
        [], "--set", help="Override a field: key=value (dots for nested)."
    ),
    output_dir: Path = typer.Option(
        None, "--output-dir", help="Run folder (default: runs/train/METHOD)."
    ),
    split: str = typer.Option(
        "auto", "--split", help="Split protocol: auto | given | loo | global_time."
    ),
) -> None:
    """Train a generative recommender; the run folder gets the checkpoint, metrics.csv and curves.png."""
    if method == "papereval-scorer":
        _train_paper_scorer(backbone, set_, output_dir)
        return
    from recagora.training.registry import make_trainer

    loaded, samples = _split(dataset, split)
    overrides = list(set_)
    if backbone:
        overrides.append(f"backbone.name={backbone}")
    overrides.append(f"output_dir={output_dir or Path('runs/train') / method}")
    trainer = make_trainer(method, loaded.catalog, samples.train, config, overrides)
    run_dir = trainer.train()
    typer.echo(f"trained {method} for {trainer.step} steps: {run_dir}")


def _train_paper_scorer(backbone: str | None, overrides: list[str], output_dir: Path | None):
    """`recagora train papereval-scorer` is `recagora papereval train-scorer` with defaults."""
    from recagora.experiments.cli.papereval_cmd import train_scorer

    train_scorer(
        loss="listmle",
        backbone=backbone or "minilm",
        references=0,
        seed=0,
        overrides=overrides,
        data=None,
        out=output_dir,
    )


def evaluate(
    checkpoint: Path = typer.Argument(
        ..., help="Run folder (or its checkpoint/) from `recagora train`."
    ),
    dataset: str = typer.Option(
        "video-games", "--dataset", help="Registered dataset name or path."
    ),
    split: str = typer.Option(
        "auto", "--split", help="Split protocol: auto | given | loo | global_time."
    ),
    max_samples: int = typer.Option(
        0, "--max-samples", help="Seeded subset of test samples (0 = all)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the subset."),
    num_beams: int = typer.Option(10, "--num-beams", help="Beams = items ranked per sample."),
    out: Path = typer.Option(
        None, "--out", help="Report JSON (default: CHECKPOINT/eval_test.json)."
    ),
) -> None:
    """HR/NDCG@1,3,5,10, DGU/MGU, entropy, TTR, distinct and invalid counts on the test split."""
    import json

    from recagora.training.checkpoints import read_manifest
    from recagora.training.evaluation import evaluate_checkpoint, pick_samples, write_report

    read_manifest(checkpoint)  # a bad path fails before the dataset loads
    loaded, samples = _split(dataset, split)
    test = pick_samples(samples.test, max_samples, seed)
    from rich.progress import Progress

    with Progress(transient=True) as progress:  # beam search on CPU: minutes per 100 samples
        task = progress.add_task("ranking test samples", total=len(test))
        report = evaluate_checkpoint(
            checkpoint,
            loaded.catalog,
            test,
            samples.train,
            num_beams,
            on_batch=lambda done: progress.advance(task, done),
        )
    path = write_report(report, out or Path(checkpoint) / "eval_test.json")
    typer.echo(json.dumps(report, indent=2))
    typer.echo(f"report: {path}")
