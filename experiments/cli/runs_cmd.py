"""`recagora runs list|show|scenarios|fields`: look at run folders and what can be run."""

from __future__ import annotations

from pathlib import Path

import typer

from recagora.item_space.errors import ConfigError, RecAgoraError

app = typer.Typer(
    help="List and inspect run folders; list scenarios and their config fields.",
    no_args_is_help=True,
)

RUNS_DIR_HELP = "Where run folders are (default ./runs or $RECAGORA_RUNS_DIR)."


@app.command("list")
def list_command(
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
) -> None:
    """One line per run: name, status, rounds done, headline metrics (`runs show` has the command)."""
    from rich.console import Console
    from rich.table import Table

    from recagora.experiments.runner.folder import list_runs

    table = Table(title="runs")
    table.add_column("run", no_wrap=True)
    for column in ("status", "rounds", "ndcg@10", "dgu", "exposure_gini"):
        table.add_column(column)
    for folder in list_runs(_existing_root(runs_dir)):
        table.add_row(folder.name, *_list_row(folder))
    Console().print(table)


def _list_row(folder) -> list[str]:
    """status and headline metrics; one unreadable run shows as such, the others still list."""
    try:
        manifest, summary = folder.read_manifest(), folder.read_summary()
        overall = summary.get("overall", {}) if isinstance(summary, dict) else {}
        status = manifest.get("status", "?") if isinstance(manifest, dict) else "?"
    except (RecAgoraError, ValueError, OSError) as error:  # corrupt JSON, binary, unreadable
        return [f"unreadable ({type(error).__name__})", "-", "-", "-", "-"]
    keys = ("rounds_done", "ndcg@10", "dgu", "exposure_gini")
    return [str(status), *(_fmt(overall.get(key)) for key in keys)]


def _existing_root(runs_dir: Path | None) -> Path:
    """The runs root; a path that exists but is not a folder is refused (not listed as empty)."""
    from recagora.experiments.runner.folder import runs_root

    root = runs_root(runs_dir)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"runs folder {str(root)!r} is a file; point --runs-dir at a folder")
    return root


@app.command("show")
def show_command(
    run: str = typer.Argument(..., help="Run folder name, unique prefix or path."),
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help=RUNS_DIR_HELP),
) -> None:
    """Manifest, per-round metrics and the files of one run."""
    from rich.console import Console
    from rich.table import Table

    from recagora.experiments.runner.folder import RunFolder
    from recagora.experiments.runner.outputs import metrics_frame

    folder = RunFolder.open(run, _existing_root(runs_dir))
    console, manifest = Console(), folder.read_manifest()
    console.print(
        f"[bold]{folder.name}[/]  status={manifest.get('status')}  seed={manifest.get('seed')}  commit={manifest.get('git_commit')}"
    )
    console.print(f"command: {manifest.get('command_line')}")
    frame = metrics_frame(folder)
    if not frame.empty:
        table = Table(title="per-round metrics")
        for column in frame.columns:
            table.add_column(str(column), justify="right")
        for row in frame.itertuples(index=False):
            table.add_row(*[_fmt(v) for v in row])
        console.print(table)
    console.print("files: " + ", ".join(sorted(p.name for p in folder.path.iterdir())))


@app.command("scenarios")
def scenarios_command() -> None:
    """Registered scenarios."""
    from recagora.environments.registry import scenario_names

    for name in scenario_names():
        typer.echo(name)


@app.command("fields")
def fields_command(
    scenario: str = typer.Argument("trirec", help="Scenario whose config fields to list."),
) -> None:
    """Every config field of a scenario: key, type, default, help (for --config / --set)."""
    from rich.console import Console
    from rich.table import Table

    from recagora.experiments.runner.config import describe_fields
    from recagora.experiments.runner.runner import load_scenario_config

    table = Table(
        title=f"{scenario} config fields (precedence: defaults < --config < flags < --set)"
    )
    table.add_column("key", no_wrap=True)
    for column in ("type", "default", "help"):
        table.add_column(column)
    for key, type_name, default, help_text in describe_fields(load_scenario_config(scenario)):
        table.add_row(key, type_name, repr(default), help_text)
    Console().print(table)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-" if value != value else f"{value:.4g}"
    return str(value)
