"""`recagora data semantic-ids DATASET`: build semantic IDs for any catalog (thin over
recagora.item_space.semantic_id_build; registered in data_cmd)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from recagora.experiments.cli.checks import check_output_dir
from recagora.item_space.errors import ConfigError

EMBEDDERS = ("minilm", "hashing")


def _embedder(name: str):
    from recagora.item_space.embedding import CachedEmbedder, HashingEmbedder, default_embedder

    if name not in EMBEDDERS:
        raise ConfigError(f"unknown --embedder {name!r}; use one of {', '.join(EMBEDDERS)}")
    return default_embedder() if name == "minilm" else CachedEmbedder(HashingEmbedder())


def semantic_ids_command(
    name_or_path: str = typer.Argument(
        ..., help="A registered dataset name (ml-100k, video-games, cds-vinyl, ...) or a path."
    ),
    levels: int = typer.Option(4, "--levels", help="Code levels (coarse to fine)."),
    codes: int = typer.Option(256, "--codes", help="Codewords per level (a power of 2)."),
    seed: int = typer.Option(0, "--seed", help="Seeds the quantiser's k-means."),
    collisions: str = typer.Option(
        "reassign", "--collisions", help="reassign (last level, min-cost) | extra-level (TIGER)."
    ),
    embedder: str = typer.Option(
        "minilm", "--embedder", help="minilm (item-space default) | hashing (fast, torch-free)."
    ),
    output: Path = typer.Option(
        None, "--output", help="Output folder (default: runs/data/<name>-semids/)."
    ),
) -> None:
    """Residual-quantise the item embeddings into collision-free semantic IDs (cached);
    writes <name>.index.json, .inter.json, .items.json and .stats.json, readable with
    `recagora data show FOLDER` and `--dataset FOLDER`."""
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.datasets.semantic_ids import write_semantic_id_folder
    from recagora.item_space.semantic_id_build import SemanticIdConfig, semantic_ids_for

    config = SemanticIdConfig(levels=levels, codes=codes, seed=seed, collisions=collisions)
    chosen = _embedder(embedder)
    if output is not None:
        check_output_dir(output, "--output")
    dataset = load_dataset(name_or_path)
    folder = output or check_output_dir(Path("runs/data") / f"{dataset.name}-semids", "--output")
    sids = semantic_ids_for(dataset.catalog, config, chosen)
    index_file = write_semantic_id_folder(dataset, sids.tokens(), folder, sids.stats)
    _print_stats(sids.stats)
    typer.echo(f"semantic IDs: {index_file}")


def _print_stats(stats: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"codebook usage ({stats['items']:,} items, depth {stats['depth']})")
    for column in ("level", "used_codes", "codes", "entropy_bits", "perplexity"):
        table.add_column(column, justify="left" if column == "level" else "right")
    for level in stats["levels"]:
        table.add_row(
            *(
                str(level[key])
                for key in ("level", "used_codes", "codes", "entropy_bits", "perplexity")
            )
        )
    console = Console(soft_wrap=True)
    console.print(table)
    console.print(f"collisions before: {json.dumps(stats['collisions_before'])}", highlight=False)
    console.print(f"collisions after:  {json.dumps(stats['collisions_after'])}", highlight=False)
    timing = "cached" if stats.get("cached") else f"{stats['seconds']} s quantising"
    console.print(
        f"moved items: {stats['moved_items']}, relative error {stats['relative_error']}, {timing}",
        highlight=False,
    )
