"""`recagora replay RUN`: step through an episode's events in the terminal."""

from __future__ import annotations

from pathlib import Path

import typer

from recagora.item_space.errors import ConfigError


def replay(
    run: str = typer.Argument(..., help="Run folder name, unique prefix or path."),
    round_index: int | None = typer.Option(
        None, "--round", help="Only this round (1-based, as displayed)."
    ),
    user: str | None = typer.Option(None, "--user", help="Only events of this user key."),
    no_pause: bool = typer.Option(
        False, "--no-pause", help="Print everything without waiting for Enter."
    ),
    runs_dir: Path | None = typer.Option(
        None, "--runs-dir", help="Where run folders are (default ./runs)."
    ),
) -> None:
    """Replay RUN's events round by round and stage by stage (Enter = next stage, q = quit)."""
    from rich.console import Console

    from recagora.experiments.runner.folder import RunFolder, runs_root
    from recagora.experiments.runner.replay import replay_events

    if round_index is not None and round_index < 1:
        raise ConfigError(f"--round {round_index} must be >= 1 (rounds are numbered from 1)")
    folder = RunFolder.open(run, runs_root(runs_dir))
    console = Console()
    wait = (
        None
        if no_pause
        else (lambda: console.input("[dim]Enter = next, q = quit[/] ").strip().lower() != "q")
    )
    shown = replay_events(
        folder,
        console,
        only_round=None if round_index is None else round_index - 1,
        only_user=user,
        wait=wait,
    )
    console.print(f"[dim]{shown} events shown[/]")
