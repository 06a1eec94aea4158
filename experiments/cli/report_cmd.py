"""`recagora report RUN [RUN ...] --html`: a self-contained HTML report of each run."""

from __future__ import annotations

from pathlib import Path

import typer

from recagora.item_space.errors import ConfigError


def report(
    runs: list[str] = typer.Argument(..., help="Run folder names, unique prefixes or paths."),
    html: bool = typer.Option(
        False, "--html", help="Write the HTML report (the only format so far; required)."
    ),
    output: Path | None = typer.Option(
        None,
        "--output",
        help="Where to write: the report of ONE run (default RUN/report.html), or the "
        "comparison page of several (default beside the runs).",
    ),
    max_entities: int = typer.Option(
        500,
        "--max-entities",
        help="Users, items or papers listed per view (a seeded sample beyond).",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of that sample."),
    runs_dir: Path | None = typer.Option(
        None, "--runs-dir", help="Where run folders are (default ./runs or $RECAGORA_RUNS_DIR)."
    ),
) -> None:
    """Write one HTML file per run (opens from disk: data and charts inlined); for several
    runs also a side-by-side comparison. Prints a file:// link to each."""
    if not html:
        raise ConfigError("say --html (the report's only format): recagora report RUN --html")
    if max_entities < 1:
        raise ConfigError(f"--max-entities {max_entities} must be >= 1")
    from recagora.experiments.report.build import report_runs
    from recagora.experiments.runner.folder import RunFolder, runs_root

    folders = [RunFolder.open(name, runs_root(runs_dir)) for name in runs]
    if len({f.path.resolve() for f in folders}) < len(folders):
        raise ConfigError("a run is named twice; name each run once")
    for path in report_runs(folders, output, max_entities, seed):
        typer.echo(f"report: {path.as_uri()}")


REPORT_INLINE_MAX_BYTES = (
    5_000_000  # larger event logs: print the command (a 10k-user report takes ~25 s)
)


def print_report_link(folder, console, build: bool) -> None:
    """The HTML report's file:// link (built now for an interactive, small run), else its command."""
    events = folder.events_path
    if build and events.is_file() and events.stat().st_size <= REPORT_INLINE_MAX_BYTES:
        from recagora.experiments.report.build import report_run

        console.print(f"report: {report_run(folder)[1].resolve().as_uri()}", highlight=False)
        return
    console.print(f"report: recagora report {folder.path} --html", highlight=False)
