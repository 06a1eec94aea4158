"""`recagora data fetch NAME`: download a registered dataset from its public source."""

from __future__ import annotations

from pathlib import Path

import typer


def fetch_command(
    name: str = typer.Argument(..., help="Registered dataset to fetch (see `recagora data list`)."),
    root: Path = typer.Option(
        None,
        "--root",
        help="Folder that receives the dataset (default: $RECAGORA_DATA_DIR or <cache>/data).",
    ),
    host: str = typer.Option(
        None,
        "--host",
        help="Raw-file host or mirror serving <repo>/<commit>/<path> (default: raw.githubusercontent.com).",
    ),
    force: bool = typer.Option(False, "--force", help="Download again even when the files verify."),
) -> None:
    """Download NAME (resuming an interrupted transfer), check each file's pinned SHA-256, convert it
    to the layout the loaders read, and say where it went."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from recagora.item_space.datasets.fetch import RAW_HOST, fetch
    from recagora.item_space.datasets.fetch_recipes import fetch_recipe

    recipe = fetch_recipe(name)
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bars:
        tasks: dict[str, int] = {}

        def progress(file: str, done: int, total: int | None) -> None:
            if file not in tasks:
                tasks[file] = bars.add_task(file, total=total)
            bars.update(tasks[file], completed=done, total=total)

        folder = fetch(recipe, root=root, host=host or RAW_HOST, progress=progress, force=force)
    out = Console()
    out.print(f"{name}: {len(recipe.files)} files verified in {folder}", highlight=False)
    out.print(f"source: {recipe.source}; licence: {recipe.licence}", highlight=False)
