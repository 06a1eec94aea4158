"""`recagora run SCENARIO ...` and `recagora run --resume RUN`: thin over `experiments.runner`.

Config precedence: defaults < --config YAML < the flags below < --set key=value.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from recagora.experiments.cli.report_cmd import print_report_link
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
    shards: int | None = typer.Option(
        None,
        "--shards",
        help="trirec: split the cohort into S shards merged at each round boundary (local executor: in this process; ray: one actor per shard).",
    ),
    executor: str | None = typer.Option(
        None,
        "--executor",
        help="local (default) or ray: play the shards as Ray actors (--shards defaults to --workers).",
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Ray cluster to join (host:port or auto); default: a local one."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="CPUs of the local Ray cluster (default 2)."
    ),
) -> None:
    """Run a scenario episode into a new run folder, or resume one with --resume.

    On a Ray cluster: `ray start --head` on one machine, `ray start --address HEAD:6379`
    on the others (same recagora install, same data), then
    `recagora run trirec --executor ray --ray-address HEAD:6379 --shards 8`.
    """
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
    flags.update(execution_flags(shards, executor, ray_address, workers))
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
    _check_shardable(spec, flags)
    config = load_config(spec.config_cls, config_path, {**flags, "scenario": scenario}, overrides)
    connect_executor(config)
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
    spec = get_scenario(str(saved.get("scenario")))
    shown = spec.shown_metrics
    if isinstance(saved.get("execution"), dict):  # a sharded run on Ray rejoins a cluster
        from recagora.experiments.runner.config import build_config, flatten_mapping

        connect_executor(build_config(spec.config_cls, flatten_mapping(saved)))
    rounds = saved.get("rounds", 1)
    rounds = rounds if isinstance(rounds, int) and rounds > 0 else 1  # display only
    with _display(rounds, f"resume {folder.name}", quiet, shown) as display:
        result = resume_run(folder.path, on_round=display.on_round)
    _report(result, display.console, shown, track, quiet)


def execution_flags(
    shards: int | None, executor: str | None, ray_address: str | None, workers: int | None
) -> dict:
    """--shards/--executor/--ray-address/--workers as config fields (None = not given).

    Ray without --shards plays one shard per worker; --ray-address and --workers apply
    to Ray only (one line, exit 2, before anything is read or written).
    """
    if executor not in (None, "ray") and (ray_address or workers is not None):
        raise ConfigError("--ray-address and --workers apply to --executor ray only")
    if executor is None and (ray_address or workers is not None):
        raise ConfigError("--ray-address and --workers need --executor ray")
    if executor == "ray" and shards is None:
        shards = workers or 2
    flags = {
        "execution.shards": shards,
        "execution.executor": executor,
        "execution.ray_address": ray_address,
        "execution.workers": workers,
    }
    return {key: value for key, value in flags.items() if value is not None}


def _check_shardable(spec, flags: dict) -> None:
    from dataclasses import fields

    given = [key for key in flags if key.startswith("execution.") and flags[key] is not None]
    if given and "execution" not in {f.name for f in fields(spec.config_cls)}:
        raise ConfigError(
            f"scenario {spec.name!r} plays unsharded only; drop --shards/--executor (trirec shards)"
        )


def connect_executor(config) -> None:
    """Join (or start) the Ray cluster a sharded Ray run needs; an unreachable address is
    one line after a 3 s TCP probe, before any run folder exists."""
    execution = getattr(config, "execution", None)
    if execution is None or execution.executor != "ray":
        return
    from recagora.experiments.executors.ray_runs import connect

    connect(execution.ray_address or None, execution.workers)


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
    print_report_link(result.folder, console, build=not quiet)
    if track == "mlflow":
        from recagora.experiments.tracking import log_run, tracking_uri

        run_id = log_run(result.folder, result.status)
        console.print(f"mlflow: run {run_id} in {tracking_uri(result.folder)}", highlight=False)
    if result.status == "paused":
        typer.echo(f"paused: {result.message}", err=True)
        raise typer.Exit(code=result.exit_code or 3)
