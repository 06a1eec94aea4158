"""`recagora ground NAME_OR_PATH "some text"`: the real catalog items nearest a text."""

from __future__ import annotations

import typer

from recagora.item_space.errors import IndexError_

# A table of more rows than this is not read; the index would still gather them all.
MAX_K = 1000


def ground(
    dataset: str = typer.Argument(..., help="Registered dataset name (e.g. ml-100k) or a path."),
    text: str = typer.Argument(..., help="Free text to ground, e.g. 'a space adventure'."),
    k: int = typer.Option(10, "-k", "--top-k", help="How many items to show."),
    min_score: float | None = typer.Option(
        None, "--min-score", help="Cosine similarity under which a match does not count."
    ),
    index_kind: str = typer.Option("auto", "--index", help="Index kind: auto, flat or hnsw."),
) -> None:
    """Ground TEXT into DATASET's catalog: its top-k real items with similarity scores."""
    if not text.strip():
        raise IndexError_(
            "the query text is empty: give some text to ground, e.g. 'a space adventure'"
        )
    if not 1 <= k <= MAX_K:
        raise IndexError_(f"-k must be in 1..{MAX_K} (items shown), got {k}")
    if min_score is not None and not -1.0 <= min_score <= 1.0:
        raise IndexError_(f"--min-score {min_score} must be a cosine similarity in [-1, 1]")
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.index import IndexConfig
    from recagora.item_space.space import ItemSpace

    config = IndexConfig(kind=index_kind)
    catalog = load_dataset(dataset).catalog
    k = min(k, len(catalog))
    space = ItemSpace.build(catalog, index_config=config)
    _print_grounding(space.ground(text, k=k, min_score=min_score), catalog.name, text)


def _print_grounding(grounding, catalog_name: str, text: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{catalog_name}: items nearest {text!r}")
    for column, justify in (
        ("rank", "right"),
        ("id", "right"),
        ("title", "left"),
        ("categories", "left"),
        ("score", "right"),
    ):
        table.add_column(column, justify=justify)
    for rank, found in enumerate(grounding, start=1):
        categories = ", ".join(found.item.categories)
        table.add_row(
            str(rank), str(found.item.id), found.item.title, categories, f"{found.score:.3f}"
        )
    console = Console()
    console.print(table)
    if grounding.ungrounded:
        best = "none" if grounding.best_score is None else f"{grounding.best_score:.3f}"
        console.print(f"ungrounded: best score {best} is under --min-score {grounding.min_score}")
