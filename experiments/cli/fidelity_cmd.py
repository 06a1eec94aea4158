"""`recagora fidelity`: how real are the simulated users? (thin over item_space.fidelity)

Every named user model, plus the random and popularity baselines, goes through the same
held-out protocols (choice, yes/no discrimination, ratings, population bias); the report
folder gets fidelity.json, leaderboard.csv, metrics.csv, PNG plots, the resolved config
and a run manifest, and the terminal gets the leaderboard.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import ExitStack
from pathlib import Path

import typer

from recagora.experiments.cli.checks import check_output_dir
from recagora.item_space.errors import ConfigError

SPLITS = ("auto", "loo", "random_loo", "given", "global_time")
TABLE_COLUMNS = {  # leaderboard key suffix -> terminal column
    "top1": "top-1",
    "ndcg@5": "NDCG@5",
    "loglik": "log-lik",
    "ECE": "ECE",
    "list 1:1 accuracy": "list 1:1",  # Agent4Rec's protocol: the items shown together
    "list 1:1 F1": "F1 list 1:1",
    "list 1:9 accuracy": "list 1:9",
    "alone 1:1 accuracy": "alone 1:1",  # each item asked about on its own
    "rating RMSE": "RMSE",
    "rating JSD": "rating JSD",
    "1-2 star share": "1-2 star",
    "popularity-group JSD": "pop JSD",
    "choice Gini": "Gini",
}


def fidelity(
    dataset: str = typer.Option(
        ..., "--dataset", help="Dataset name or path (e.g. ml-100k, or a LightGCN folder)."
    ),
    agents: str = typer.Option(
        "user=learned",
        "--agents",
        help="User models: user=learned,user=v0,... (random and popularity are always added).",
    ),
    llm: str | None = typer.Option(
        None, "--llm", help="LLM spec for user=llm (llamacpp:smollm2, openai:gpt-4o-mini, fake:)."
    ),
    users: int | None = typer.Option(
        None,
        "--users",
        help="Users evaluated, drawn with the seed among those with a held-out item (default: all).",
    ),
    seed: int = typer.Option(
        0,
        "--seed",
        help="Seed of the user draw, candidates, negatives and sampled choices/ratings.",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Report folder (default: runs/fidelity/<dataset>-seed<S>)."
    ),
    split: str = typer.Option(
        "auto",
        "--split",
        help="Held-out split: auto (the files' own for LightGCN folders, else loo) | loo (each "
        "user's last item) | random_loo (a seeded random item, as Agent4Rec) | given | global_time.",
    ),
    ks: str = typer.Option(
        "5,10", "--k", help="Candidate-set sizes K of the choice protocol, comma-separated."
    ),
    ratios: str = typer.Option(
        "1,3,9",
        "--ratios",
        help="Never-seen items per held-out item in the yes/no protocol (1:m), comma-separated.",
    ),
    folds: bool = typer.Option(
        True,
        "--folds/--no-folds",
        help="Score ratings on ML-100K's u1..u5 folds too (one model fit per fold).",
    ),
    fold_workers: int = typer.Option(
        2,
        "--fold-workers",
        help="Processes scoring the u1..u5 folds at once (the numbers do not depend on it; 1 = here).",
    ),
) -> None:
    """Score simulated users against held-out real behaviour; write a report folder."""
    # torch (imported later, read at its first allocation) backs tensors of 2 MB and more
    # with transparent huge pages: the learned encoder's per-batch tensors otherwise fault
    # in 4 KB at a time (ML-100K cold fit: 11.8M -> 0.8M page faults, 59 -> 49 s of CPU).
    os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    from recagora.experiments.fidelity_wiring import check_llm_option, parse_user_models
    from recagora.item_space.fidelity import SuiteConfig

    names = parse_user_models(agents)
    check_llm_option(names, llm)
    _check_split(split)
    if users is not None and users < 1:
        raise ConfigError(f"--users {users} must be >= 1 (leave it out for every user)")
    if fold_workers < 1:
        raise ConfigError(f"--fold-workers {fold_workers} must be >= 1")
    config = SuiteConfig(
        users=users,
        seed=seed,
        ks=_ints(ks, "--k"),
        ratios=_ints(ratios, "--ratios"),
        folds=folds,
        fold_workers=fold_workers,
    )
    if out is not None:
        check_output_dir(out, "--out")
    report = _run(dataset, names, llm, split, config)
    folder = (
        out
        if out is not None
        else check_output_dir(Path("runs/fidelity") / _folder_name(report, seed), "--out")
    )
    _write(
        folder,
        report,
        {
            "dataset": dataset,
            "agents": names,
            "llm": llm,
            "split": report["split"],
            "split_seed": report["split_seed"],
            "suite": config.model_dump(mode="json"),
        },
    )
    _print(report, folder)


def _ints(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(
            f"{option} {text!r}: expected whole numbers separated by commas"
        ) from None
    return values


def _check_split(split: str) -> None:
    from recagora.item_space.errors import did_you_mean

    if split not in SPLITS:
        raise ConfigError(
            f"unknown --split {split!r}{did_you_mean(split, SPLITS)}; use one of {', '.join(SPLITS)}"
        )


def _run(dataset_name: str, names: list[str], llm: str | None, split: str, config) -> dict:
    from recagora.experiments.fidelity_wiring import NOT_ON_FOLDS, model_factories
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.fidelity import run_suite

    dataset = load_dataset(dataset_name)
    protocol = _protocol(dataset, split)
    held = dataset.split(protocol, seed=config.seed)  # the seed draws random_loo's targets
    with ExitStack() as stack, _progress() as (progress, task):

        def fitting(what: str) -> None:  # a learned fit retitles the bar: "building" takes minutes
            progress.update(task, description=what)

        factories = model_factories(names, dataset, config.seed, llm, stack, dataset.name, fitting)
        refit = [name for name in [*factories, "random", "popularity"] if name not in NOT_ON_FOLDS]

        def step(what: str, total: int) -> None:
            progress.update(task, total=total, description=what)
            progress.advance(task)

        report = run_suite(dataset, held, factories, config, step, fold_models=refit)
    seed = config.seed if protocol == "random_loo" else None  # the other splits draw nothing
    return _with_after(report, "split", "split_seed", seed)


def _with_after(report: dict, after: str, key: str, value) -> dict:
    """The report with `key` placed right after `after` (the header reads in order)."""
    out = {}
    for name, item in report.items():
        out[name] = item
        if name == after:
            out[key] = value
    return out


def _folder_name(report: dict, seed: int) -> str:
    """<dataset>-seed<S>; another protocol than loo is named too, so no run overwrites one."""
    split = "" if report["split"] in ("loo", "given") else f"-{report['split']}"
    return f"{report['dataset']}{split}-seed{seed}"


def _protocol(dataset, split: str) -> str:
    """auto: a LightGCN folder's own split, else chronological leave-one-out."""
    if split != "auto":
        return split
    return "given" if dataset.meta.get("format") == "lightgcn" else "loo"


class _progress:
    """A rich progress bar on stderr (hidden when stderr is not a terminal)."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True)
        self.progress = Progress(
            TextColumn("{task.description:<34}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.progress.__enter__()
        return self.progress, self.progress.add_task("fidelity", total=None)

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)


def _write(folder: Path, report: dict, resolved: dict) -> None:
    from recagora.experiments.runner.manifest import build_manifest
    from recagora.item_space.fidelity.plots import save_plots
    from recagora.item_space.fidelity.report import leaderboard, long_rows, to_csv, to_json

    text = to_json(report)  # serialise everything before the folder is touched
    board, rows = to_csv(leaderboard(report)), to_csv(long_rows(report))
    manifest = {
        **build_manifest("fidelity", resolved["suite"]["seed"], ["recagora", *sys.argv[1:]]),
        "status": "finished",
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fidelity.json").write_text(text)
    (folder / "leaderboard.csv").write_text(board)
    (folder / "metrics.csv").write_text(rows)
    (folder / "config.json").write_text(json.dumps(resolved, indent=2) + "\n")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    save_plots(report, folder)


def _print(report: dict, folder: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from recagora.item_space.fidelity.report import (
        fitted_notes,
        headline_choice,
        leaderboard,
        rating_source,
    )

    key = headline_choice(report)
    title = (
        f"fidelity: {report['dataset']}, {report['users']} users, seed {report['config']['seed']}, "
        f"{report['split']} split"
    )
    rows = leaderboard(report)
    real = next(
        (r["1-2 star share real"] for r in rows if r["1-2 star share real"] is not None), None
    )
    real_share = "" if real is None else f"; real 1-2 star share {real:.3f}"
    caption = f"choice: {key}; ratings: {rating_source(report)}{real_share}; JSD in bits"
    notes = fitted_notes(report)
    caption += f"; {notes}" if notes else ""
    table = Table(title=title, caption=caption)
    table.add_column("model", no_wrap=True)
    for label in TABLE_COLUMNS.values():
        table.add_column(label, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(row["model"], *(_cell(row, suffix) for suffix in TABLE_COLUMNS))
    console = Console()
    if not console.is_terminal:  # a pipe or file gets the whole table, not 80 columns
        console = Console(width=200)
    console.print(table)
    console.print(f"report: {folder}", highlight=False)


def _cell(row: dict, suffix: str) -> str:
    value = next((v for k, v in row.items() if k == suffix or k.endswith(" " + suffix)), None)
    return "n/a" if value is None or value != value else f"{value:.3f}"
