"""The `recagora` command: a thin dispatcher over the library (no logic here).

Each command group lives in its own module and is listed in COMMAND_GROUPS /
COMMANDS; `main()` turns every `RecAgoraError` into one line on stderr and exit 2, and
any other exception (a bug) into one line naming the file that holds its traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

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
    ("sweep", "recagora.experiments.cli.sweep_cmd:sweep"),
    ("replay", "recagora.experiments.cli.replay_cmd:replay"),
    ("report", "recagora.experiments.cli.report_cmd:report"),
    ("demo", "recagora.experiments.cli.demo_cmd:demo"),
    ("train", "recagora.experiments.cli.train_cmd:train"),
    ("evaluate", "recagora.experiments.cli.train_cmd:evaluate"),
    ("fidelity", "recagora.experiments.cli.fidelity_cmd:fidelity"),
    ("graph", "recagora.experiments.cli.graph_cmd:graph_command"),
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

    Typer runs in non-standalone mode so that its usage errors (unknown option, a
    value that is not an int, ...) come back here as exceptions and are printed as
    ONE line like our own `RecAgoraError`s, instead of Typer's multi-line panel.
    """
    try:
        code = app(args=argv, prog_name="recagora", standalone_mode=False)
    except typer.TyperException as usage:  # Typer's (vendored click's) usage errors
        if type(usage).__name__ == "NoArgsIsHelpError":  # `recagora data`: show the help
            usage.show()
            return usage.exit_code
        context = getattr(usage, "ctx", None)
        where = f" (see `{context.command_path} --help`)" if context is not None else ""
        return print_error(f"{usage.format_message()}{where}", usage.exit_code)
    except typer.Abort:  # end of input at a prompt
        return print_error("interrupted", 130)
    except RecAgoraError as error:
        return print_error(str(error), error.exit_code)
    except KeyboardInterrupt:
        return print_error("interrupted", 130)
    except Exception as bug:  # noqa: BLE001 - the last line of defence: never a traceback
        if os.environ.get("RECAGORA_TRACEBACK") == "1":
            raise
        try:
            saved = f"the traceback saved in {_save_traceback(bug)}"
        except OSError as unsaved:  # an unwritable cache must not turn into a traceback
            saved = f"its traceback (it could not be saved: {unsaved.strerror})"
        return print_error(
            f"internal error ({type(bug).__name__}: {bug}); this is a bug in recagora, "
            f"please report it with {saved} (RECAGORA_TRACEBACK=1 prints it instead)",
            1,
        )
    return code if isinstance(code, int) else 0


def _save_traceback(bug: BaseException) -> Path:
    """Write the full traceback and the command line to <cache root>/crashes/; its path."""
    from recagora.item_space.embedding import cache_dir

    folder = cache_dir() / "crashes"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.txt"
    lines = traceback.format_exception(type(bug), bug, bug.__traceback__)
    path.write_text(f"recagora {' '.join(sys.argv[1:])}\n\n{''.join(lines)}")
    return path


def print_error(message: str, exit_code: int) -> int:
    """Print `error: message` as one line on stderr, markup NOT interpreted; return `exit_code`.

    The message is plain text: square brackets (`pip install 'recagora[vllm]'`) must
    reach the user, so only the "error:" label is styled and newlines are flattened.
    """
    line = Text("error:", style="bold red")
    line.append(" " + " ".join(message.split()))
    Console(stderr=True, soft_wrap=True, highlight=False).print(line)
    return exit_code


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
