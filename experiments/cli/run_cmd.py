"""`recagora run SCENARIO ...` and `recagora run --resume RUN`: thin over `experiments.runner`.

Config precedence: defaults < --config YAML < the flags below < --set key=value.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from recagora.item_space.errors import ConfigError


def run(
    scenario: str | None = typer.Argument(
        None, help="Scenario to run: trirec (more with `recagora runs scenarios`)."
    ),
    resume: str | None = typer.Option(
        None, "--resume", help="Continue a paused or killed run (folder name, prefix or path)."
    ),
    config: Path | None = typer.Option(
        None, "--config", help="YAML file of config fields (see `recagora runs fields SCENARIO`)."
    ),
    overrides: list[str] = typer.Option(
        [],
        "--set",
        help="Override one config field: --set platform.trirec.alpha_max=0.3 (repeatable).",
    ),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Dataset name or path (e.g. ml-100k)."
    ),
    llm: str | None = typer.Option(
        None, "--llm", help="LLM spec: llamacpp:smollm2, openai:gpt-4o-mini, vllm:<model>, fake:."
    ),
    agents: str | None = typer.Option(
        None,
        "--agents",
        help="Implementation per role: user=learned|surrogate|llm,item=llm|surrogate,... (default user=learned).",
    ),
    users: int | None = typer.Option(
        None, "--users", help="Real dataset users sampled into the cohort."
    ),
    population: int | None = typer.Option(
        None, "--population", help="Synthetic cohort of N users resampled from the dataset's users."
    ),
    rounds: int | None = typer.Option(None, "--rounds", help="Horizon in rounds."),
    candidates: str | None = typer.Option(
        None,
        "--candidates",
        help="TriRec candidate source: popularity (default), sasrec (paper's hard negatives), itemspace.",
    ),
    recommender: Path | None = typer.Option(
        None,
        "--recommender",
        help="Run folder from `recagora train` (or a SASRec .pt) as the platform's recommender (trirec: candidates; grounded: shortlist).",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Root random seed."),
    runs_dir: Path | None = typer.Option(
        None, "--runs-dir", help="Where run folders go (default ./runs or $RECAGORA_RUNS_DIR)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No live display; print only the summary."),
    track: str | None = typer.Option(
        None,
        "--track",
        help="Also log the run to a tracker: mlflow (store: $MLFLOW_TRACKING_URI, else mlruns/ beside the run folders).",
    ),
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="Run a small pilot in a temporary folder and print the full run's projected LLM calls, tokens, cost and wall time; no run folder is written.",
    ),
) -> None:
    """Run a scenario episode into a new run folder, or resume one with --resume."""
    flags = {
        "dataset": dataset,
        "llm": llm,
        "agents": agents,
        "users": users,
        "population": population,
        "rounds": rounds,
        "seed": seed,
        "candidates.source": candidates,
    }
    from recagora.experiments.tracking import check_tracker

    check_tracker(track)
    served = {} if recommender is None else {"recommender": str(recommender)}
    if served and candidates not in (None, "recommender"):
        raise ConfigError(f"--recommender serves the candidates; drop --candidates {candidates}")
    if resume is not None:
        if (
            scenario is not None
            or dry_run
            or config is not None
            or overrides
            or any(v is not None for v in {**flags, **served}.values())
        ):
            raise ConfigError(
                "--resume continues a run with its saved config; give no scenario, --config, --set or flags"
            )
        _resume(resume, runs_dir, quiet, track)
        return
    if scenario is None:
        raise ConfigError("name a scenario (e.g. `recagora run trirec`) or pass --resume RUN")
    if dry_run:
        from recagora.experiments.dry_run import dry_run_from_cli

        dry_run_from_cli(
            scenario, config, {**flags, **_recommender_flags(scenario, served)}, overrides
        )
        return
    _start(
        scenario,
        config,
        {**flags, **_recommender_flags(scenario, served)},
        overrides,
        runs_dir,
        quiet,
        track,
    )


def _recommender_flags(scenario: str, served: dict) -> dict:
    """--recommender as the scenario's config fields, after cheap checks of the checkpoint
    (a missing or corrupt one is refused before any run folder or dataset exists)."""
    if not served:
        return {}
    from dataclasses import fields

    from recagora.environments.registry import get_scenario
    from recagora.experiments.wiring import check_recommender

    names = {f.name for f in fields(get_scenario(scenario).config_cls)}
    if "candidates" not in names and "recommender" not in names:
        raise ConfigError(f"scenario {scenario!r} has no platform recommender; drop --recommender")
    check_recommender(served["recommender"])
    if "recommender" in names:
        return served
    return {"candidates.source": "recommender", "candidates.recommender": served["recommender"]}


def _start(
    scenario: str,
    config_path: Path | None,
    flags: dict,
    overrides: list[str],
    runs_dir: Path | None,
    quiet: bool,
    track: str | None = None,
) -> None:
    from recagora.environments.registry import get_scenario
    from recagora.experiments.runner.config import load_config
    from recagora.experiments.runner.runner import start_run

    spec = get_scenario(scenario)
    config = load_config(spec.config_cls, config_path, {**flags, "scenario": scenario}, overrides)
    shown = spec.shown_metrics
    with _display(getattr(config, "rounds", 1), scenario, quiet, shown) as display:
        result = start_run(
            config, runs_dir=runs_dir, argv=["recagora", *sys.argv[1:]], on_round=display.on_round
        )
    _report(result, display.console, shown, track, quiet)


def _resume(run_name: str, runs_dir: Path | None, quiet: bool, track: str | None = None) -> None:
    from recagora.environments.registry import get_scenario
    from recagora.experiments.runner.folder import RunFolder, runs_root
    from recagora.experiments.runner.runner import resume_run

    folder = RunFolder.open(run_name, runs_root(runs_dir))
    saved = folder.read_config()
    shown = get_scenario(str(saved.get("scenario"))).shown_metrics
    rounds = saved.get("rounds", 1)
    rounds = rounds if isinstance(rounds, int) and rounds > 0 else 1  # display only
    with _display(rounds, f"resume {folder.name}", quiet, shown) as display:
        result = resume_run(folder.path, on_round=display.on_round)
    _report(result, display.console, shown, track, quiet)


def _display(rounds: int, title: str, quiet: bool, shown: tuple[str, ...]):
    from recagora.experiments.runner.display import LiveDisplay

    return LiveDisplay(rounds, title, enabled=not quiet, metrics=shown)


def _report(
    result, console, shown: tuple[str, ...], track: str | None = None, quiet: bool = True
) -> None:
    """Summary table and folder on stdout; a pause is ONE line on stderr with its reason
    and the exit code of its cause (3, or 2 for a refused API key)."""
    from recagora.experiments.runner.display import summary_table

    if result.message == "already finished":
        console.print(f"run {result.folder.name} already finished; nothing to resume")
    title = f"{result.folder.name} ({result.status})"
    console.print(summary_table(result.summary, title, shown))
    console.print(f"run folder: {result.folder.path}")
    _report_link(result.folder, console, build=not quiet)
    if track == "mlflow":
        from recagora.experiments.tracking import log_run, tracking_uri

        run_id = log_run(result.folder, result.status)
        console.print(f"mlflow: run {run_id} in {tracking_uri(result.folder)}", highlight=False)
    if result.status == "paused":
        typer.echo(f"paused: {result.message}", err=True)
        raise typer.Exit(code=result.exit_code or 3)


REPORT_INLINE_MAX_BYTES = (
    5_000_000  # larger event logs: print the command (a 10k-user report takes ~25 s)
)


def _report_link(folder, console, build: bool) -> None:
    """The HTML report's file:// link (built now for an interactive, small run), else its command."""
    events = folder.events_path
    if build and events.is_file() and events.stat().st_size <= REPORT_INLINE_MAX_BYTES:
        from recagora.experiments.report.build import report_run

        console.print(f"report: {report_run(folder)[1].resolve().as_uri()}", highlight=False)
        return
    console.print(f"report: recagora report {folder.path} --html", highlight=False)
