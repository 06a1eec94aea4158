"""The `recagora` command: a thin dispatcher over the library (no logic here).

Each command group lives in its own module and is listed in COMMAND_GROUPS /
COMMANDS; `main()` turns every `RecAgoraError` into one line on stderr and exit 2.
"""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from recagora.item_space.errors import RecAgoraError

app = typer.Typer(
    name="recagora",
    help="RecAgora: multi-agent recommendation simulation with LLM agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# (group name, "module:attribute" of a typer.Typer) -- one line per command group.
# CLI modules import heavy libraries (torch, faiss, langgraph) inside the command
# functions, so that `recagora --help` stays fast.
COMMAND_GROUPS: list[tuple[str, str]] = [
    ("llm", "recagora.experiments.cli.llm_cmd:app"),
    ("data", "recagora.experiments.cli.data_cmd:app"),
    ("runs", "recagora.experiments.cli.runs_cmd:app"),
    ("papereval", "recagora.experiments.cli.papereval_cmd:app"),
]
# (command name, "module:function") -- one line per top-level command.
COMMANDS: list[tuple[str, str]] = [
    ("ground", "recagora.experiments.cli.ground_cmd:ground"),
    ("run", "recagora.experiments.cli.run_cmd:run"),
    ("replay", "recagora.experiments.cli.replay_cmd:replay"),
    ("demo", "recagora.experiments.cli.demo_cmd:demo"),
    ("train", "recagora.experiments.cli.train_cmd:train"),
    ("evaluate", "recagora.experiments.cli.train_cmd:evaluate"),
]


@app.callback()
def root() -> None:
    """RecAgora: multi-agent recommendation simulation with LLM agents."""


@app.command("version")
def version() -> None:
    """Print the installed RecAgora version."""
    from importlib.metadata import version as installed_version

    typer.echo(installed_version("recagora"))


def _resolve(target: str):
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(module_name), attribute)


for _name, _target in COMMAND_GROUPS:
    app.add_typer(_resolve(_target), name=_name)
for _name, _target in COMMANDS:
    app.command(name=_name)(_resolve(_target))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (2 for bad input, with a one-line message).

    Typer's standalone mode prints usage errors itself and raises SystemExit; our
    own `RecAgoraError`s propagate out of it and are printed here as one line.
    """
    err = Console(stderr=True, soft_wrap=True)
    try:
        app(args=argv, prog_name="recagora")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except RecAgoraError as error:
        err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
        return error.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    return 0


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
