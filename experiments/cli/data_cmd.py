"""`recagora data ...`: list the registered datasets and summarise one (thin over the library)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import typer

from recagora.experiments.cli.checks import check_output_dir
from recagora.item_space.errors import DatasetError, did_you_mean

app = typer.Typer(
    help="Inspect datasets: list the registered ones, summarise one with its popularity curve.",
    no_args_is_help=True,
)


@app.command("list")
def list_command(
    counts: bool = typer.Option(
        True, "--counts/--no-counts", help="Load each available dataset (cached) to count it."
    ),
) -> None:
    """List registered datasets, where they are, whether they are available, and their sizes."""
    from rich.console import Console
    from rich.table import Table

    from recagora.item_space.datasets import list_datasets, load_dataset

    table = Table(title="registered datasets")
    table.add_column("name", no_wrap=True)
    for column in ("format", "available", "items", "users", "interactions"):
        table.add_column(
            column,
            no_wrap=True,
            justify="right" if column not in ("format", "available") else "left",
        )
    for source in list_datasets():
        sizes = ["", "", ""]
        if counts and source.available:
            summary = load_dataset(source.name).summary()
            sizes = [f"{summary[key]:,}" for key in ("items", "users", "interactions")]
        table.add_row(source.name, source.format, "yes" if source.available else "no", *sizes)
    console = Console(soft_wrap=True)
    console.print(table)
    for source in list_datasets():
        hint = "" if source.available else f"  (missing: {source.how_to_get})"
        console.print(f"{source.name}: {source.path}{hint}", highlight=False)


@app.command("show")
def show_command(
    name_or_path: str = typer.Argument(
        ..., help="A registered dataset name (see `recagora data list`) or a path."
    ),
    out: Path = typer.Option(None, "--out", help="Output folder (default: runs/data/<name>/)."),
    protocol: str = typer.Option("auto", help="Split to report: auto | loo | global_time | given."),
    format: str = typer.Option(
        None, "--format", help="Dataset format for a path (default: detected)."
    ),
    max_history: int = typer.Option(
        None, help="Truncate histories to this many items (default: all)."
    ),
) -> None:
    """Counts, sparsity, split sizes and the popularity curve (PNG) of one dataset."""
    from rich.console import Console

    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.datasets.report import dataset_report
    from recagora.item_space.popularity import save_popularity_curve

    _check_show_options(format, protocol, max_history)
    if out is not None:
        check_output_dir(out, "--out")
    dataset = load_dataset(name_or_path, format=format)
    folder = out if out is not None else check_output_dir(Path("runs/data") / dataset.name, "--out")
    report, counts = dataset_report(dataset, protocol=protocol, max_history=max_history)
    summary = json.dumps(report, indent=2)  # serialise before writing anything
    png = save_popularity_curve(
        counts, folder / "popularity.png", title=f"{dataset.name}: item popularity"
    )
    _write_text_atomically(folder / "summary.json", summary)
    console = Console()
    console.print(_report_table(report))
    console.print(f"popularity curve: {png}")


def _check_show_options(format: str | None, protocol: str, max_history: int | None) -> None:
    """The options of `data show`, checked before the dataset is parsed."""
    from recagora.item_space.datasets.dataset import PROTOCOLS
    from recagora.item_space.datasets.registry import FORMATS

    if format is not None and format not in FORMATS:
        raise DatasetError(
            f"unknown dataset format {format!r}{did_you_mean(format, FORMATS)}; formats: {', '.join(FORMATS)}"
        )
    if protocol not in PROTOCOLS:
        raise DatasetError(
            f"unknown split protocol {protocol!r}{did_you_mean(protocol, PROTOCOLS)}; use one of {', '.join(PROTOCOLS)}"
        )
    if max_history is not None and max_history < 1:
        raise DatasetError(f"--max-history {max_history} must be >= 1 (leave it out for all)")


def _report_table(report: dict):
    from rich.table import Table

    table = Table(title=f"dataset {report['name']}", show_header=False)
    for key in ("format", "items", "users", "interactions", "sparsity", "train_interactions"):
        if key in report:
            value = report[key]
            table.add_row(
                key,
                f"{value:.4%}"
                if key == "sparsity"
                else f"{value:,}"
                if isinstance(value, int)
                else str(value),
            )
    if "split" in report:
        split = report["split"]
        table.add_row(
            "split",
            f"{split['protocol']}: train {split['train']:,} / valid {split['valid']:,} / test {split['test']:,}",
        )
    if "popularity_group_shares" in report:
        shares = ", ".join(f"{share:.3f}" for share in report["popularity_group_shares"])
        table.add_row("popularity groups (share of training)", shares)
    return table


def _write_text_atomically(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
        handle.write(text)
    Path(handle.name).chmod(0o644)  # NamedTemporaryFile creates 0600 files
    os.replace(handle.name, path)


def _register_semantic_ids() -> None:
    from recagora.experiments.cli.semantic_ids_cmd import semantic_ids_command

    app.command("semantic-ids")(semantic_ids_command)


_register_semantic_ids()


def _register_fetch() -> None:
    from recagora.experiments.cli.fetch_cmd import fetch_command

    app.command("fetch")(fetch_command)


_register_fetch()
