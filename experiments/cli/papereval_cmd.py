"""`recagora papereval papers|train-scorer|evaluate-scorer|baseline`: thin over
`recagora.training.papereval` and the paper loaders.

Every command reads ICLR 2017 from the shared data folder by default, or any OpenReview
export with `--submissions FILE [--reviews FILE]` (no reviews: accept/reject labels).
The scenario itself runs with `recagora run papereval` (see `recagora runs fields papereval`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from recagora.experiments.cli.checks import check_local_model, check_output_dir
from recagora.item_space.errors import ConfigError

app = typer.Typer(
    help="PaperEval: paper corpora and the trainable paper scorer.", no_args_is_help=True
)

# Options shared by the commands; Python defaults (not typer.Option defaults) so that
# `recagora train papereval-scorer` can call `train_scorer` directly.
Data = Annotated[
    Path | None,
    typer.Option("--data", help="ICLR 2017 iclr-openreview folder (default: shared data)."),
]
Submissions = Annotated[
    Path | None,
    typer.Option("--submissions", help="Any OpenReview submissions CSV/JSONL (replaces --data)."),
]
Reviews = Annotated[
    Path | None,
    typer.Option("--reviews", help="Its reviews file (label = mean rating); none = decisions."),
]
Venue = Annotated[str, typer.Option("--venue", help="Venue, e.g. ICLR (default: file name).")]
Year = Annotated[int, typer.Option("--year", help="Year (default: from the file name).")]
ConcurrentDir = Annotated[
    Path | None,
    typer.Option("--concurrent-dir", help="Concurrent venues' folder (default: submissions')."),
]


def _corpus(data, submissions, reviews, venue, year, concurrent_dir):
    """The export named by the options (ICLR 2017 from `data` when no submissions file)."""
    from recagora.item_space.openreview import OpenReviewSource, load_openreview
    from recagora.item_space.papers import load_iclr_openreview

    if submissions is None:
        if data is not None and not Path(data).is_dir():
            raise ConfigError(
                f"--data {str(data)!r} is not a folder; give an iclr-openreview folder"
            )
        return load_iclr_openreview(data)
    source = OpenReviewSource(
        submissions=str(submissions), reviews=str(reviews or ""), venue=venue, year=year,
        concurrent_dir=str(concurrent_dir or ""),
    )  # fmt: skip
    return load_openreview(source)


@app.command("papers")
def papers(
    data: Data = None,
    submissions: Submissions = None,
    reviews: Reviews = None,
    venue: Venue = "",
    year: Year = 0,
    concurrent_dir: ConcurrentDir = None,
) -> None:
    """Load an OpenReview export and its concurrent venues; print counts and what was left out."""
    corpus = _corpus(data, submissions, reviews, venue, year, concurrent_dir)
    venues = sorted({i.attributes["venue"] for i in corpus.concurrent.items})
    typer.echo(
        f"targets: {len(corpus.targets)} {corpus.targets[0].attributes['venue']} submissions "
        f"(label: {corpus.labels}); concurrent: {len(corpus.concurrent)} papers of {venues}"
    )
    typer.echo(corpus.report.summary())
    for note in corpus.report.notes:
        typer.echo(f"  - {note}")


@app.command("train-scorer")
def train_scorer(
    loss: Annotated[str, typer.Option("--loss", help="listmle (progressive), mse or listnet.")] = "listmle",
    backbone: Annotated[str, typer.Option("--backbone", help="minilm, hashing, smollm2 or a local HF causal-LM folder.")] = "minilm",
    references: Annotated[int, typer.Option("--references", help="Concurrent papers appended to each input (0 = none).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split, initialisation and list order.")] = 0,
    overrides: Annotated[list[str] | None, typer.Option("--set", help="Any PaperScorerConfig field: --set epochs=30 (repeatable).")] = None,
    data: Data = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: runs/papereval-scorer/<loss>-<backbone>-seed<seed>).")] = None,
    submissions: Submissions = None,
    reviews: Reviews = None,
    venue: Venue = "",
    year: Year = 0,
    concurrent_dir: ConcurrentDir = None,
) -> None:  # fmt: skip
    """Train the PaperEval scorer; report test NDCG@10/20, Spearman, Kendall and, when the
    export has decisions, AUROC and NDCG by decision of the same test papers."""
    from recagora.experiments.runner.config import load_config
    from recagora.training.papereval.config import PaperScorerConfig
    from recagora.training.papereval.trainer import test_decision_metrics, train_paper_scorer

    flags = {"loss": loss, "backbone": backbone, "references": references, "seed": seed}
    config = load_config(PaperScorerConfig, None, flags, overrides or [])
    _check_scorer_config(config)  # bad settings are refused before the corpus is read
    folder = check_output_dir(
        out
        or Path("runs") / "papereval-scorer" / f"{loss}-{backbone.replace('/', '_')}-seed{seed}",
        "--out",
    )
    corpus = _corpus(data, submissions, reviews, venue, year, concurrent_dir)
    trainer, result, split = train_paper_scorer(config, corpus)
    by_decision = test_decision_metrics(trainer, split, corpus)
    folder.mkdir(parents=True, exist_ok=True)
    trainer.save(folder / "scorer.pt")
    report = {"config": config.to_dict(), "labels": corpus.labels, "best_epoch": result.best_epoch,
              "test": result.test_metrics, "test_by_decision": by_decision, "losses": result.losses,
              "split_sizes": [len(split.train), len(split.valid), len(split.test)],
              "load_report": corpus.report.summary()}  # fmt: skip
    (folder / "report.json").write_text(json.dumps(report, indent=2))
    summary = {"labels": corpus.labels, "best_epoch": result.best_epoch, **result.test_metrics}
    typer.echo(json.dumps({**summary, "test_by_decision": by_decision}, indent=2))
    typer.echo(f"scorer: {folder / 'scorer.pt'}")


@app.command("evaluate-scorer")
def evaluate_scorer(
    scorer: Annotated[Path, typer.Option("--scorer", help="scorer.pt from `papereval train-scorer`.")],
    data: Data = None,
    submissions: Submissions = None,
    reviews: Reviews = None,
    venue: Venue = "",
    year: Year = 0,
    concurrent_dir: ConcurrentDir = None,
) -> None:  # fmt: skip
    """Score every labelled paper of an export with a trained scorer (transfer to another
    year): ranking metrics against its labels and AUROC / NDCG by decision. Use an export
    the scorer never saw; on its own training file the figures are leaked."""
    from recagora.training.papereval.trainer import evaluate_scorer as evaluate

    corpus = _corpus(data, submissions, reviews, venue, year, concurrent_dir)
    typer.echo(json.dumps({"labels_kind": corpus.labels, **evaluate(scorer, corpus)}, indent=2))


@app.command("baseline")
def baseline(
    random_orders: Annotated[int, typer.Option("--random-orders", min=1, help="Seeded random orders averaged.")] = 500,
    papers: Annotated[int, typer.Option("--papers", help="The scenario's seeded subset (0 = all labelled papers).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Root seed of the scenario (picks the papers).")] = 0,
    overrides: Annotated[list[str] | None, typer.Option("--set", help="Any papereval field, e.g. corpus.submissions=FILE.")] = None,
) -> None:  # fmt: skip
    """Random-order baseline of `recagora run papereval`: mean and sd of NDCG@10/20, Spearman,
    Kendall (and AUROC for decisions) over N seeded random orders of the same papers."""
    import numpy as np

    from recagora.environments.papereval.config import PaperEvalConfig
    from recagora.environments.papereval.prepare import chosen_papers, load_corpus
    from recagora.experiments.runner.config import load_config
    from recagora.item_space.papers import paper_labels
    from recagora.training.papereval.ranking_metrics import normalise_labels, random_order_baseline

    config = load_config(PaperEvalConfig, None, {"papers": papers, "seed": seed}, overrides or [])
    corpus = load_corpus(config)
    labels = paper_labels(corpus.targets)
    chosen = chosen_papers(corpus, config)
    relevance = normalise_labels(labels[chosen], np.nanmin(labels), np.nanmax(labels))
    report = random_order_baseline(relevance, random_orders, seed=config.seed)
    rounded = {k: {s: round(v, 4) for s, v in row.items()} for k, row in report.items()}
    typer.echo(json.dumps({"papers": len(chosen), "labels": corpus.labels, "orders": random_orders, **rounded}))  # fmt: skip


# Each reference adds a paper's title and abstract to an input that is cut at
# max_tokens anyway: more than this only costs retrieval time and memory.
MAX_REFERENCES = 100
SCORER_BACKBONES = ("minilm", "hashing", "smollm2")


def _check_scorer_config(config) -> None:
    """Bounds of the scorer settings, checked before the corpus is read or a backbone loaded."""
    if not 0 <= config.references <= MAX_REFERENCES:
        raise ConfigError(f"--references {config.references} must be in 0..{MAX_REFERENCES}")
    if config.seed < 0:
        raise ConfigError(f"--seed {config.seed} must be >= 0")
    for name in ("epochs", "hidden_dim", "max_tokens"):
        if getattr(config, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(config, name)}")
    check_local_model(config.backbone, SCORER_BACKBONES, "--backbone")
