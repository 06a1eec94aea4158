"""`recagora sweep SCENARIO --arm NAME=KEY=VALUE,... --seeds 0,1,2 [--executor ray]`.

Thin over `experiments.runner.sweep.run_arms`: every arm x seed is one ordinary run
folder; the local executor plays them one after another, `--executor ray` as Ray tasks
(one CPU each) on a local cluster of `--workers` CPUs or the cluster at
`--ray-address`. The comparison table (one row per run) is printed and written to
`<out>/comparison.csv` and `comparison.md`.
"""

from __future__ import annotations

import time
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path

import typer

from recagora.item_space.errors import ConfigError


def sweep(
    scenario: str = typer.Argument(..., help="Scenario to sweep: trirec, grounded, ..."),
    arms: list[str] = typer.Option(
        [],
        "--arm",
        help="NAME=KEY=VALUE[,KEY=VALUE...] (repeatable; a repeated NAME adds overrides); none = one arm 'base'. An agents= value keeps its commas: --arm llm=agents=user=llm,item=surrogate.",
    ),
    seeds: str | None = typer.Option(
        None, "--seeds", help="Comma-separated seeds: every arm once per seed (e.g. 0,1,2)."
    ),
    config: Path | None = typer.Option(None, "--config", help="YAML file of base config fields."),
    overrides: list[str] = typer.Option(
        [], "--set", help="Override a base config field for every arm (repeatable)."
    ),
    population: int | None = typer.Option(None, "--population", help="Synthetic cohort size."),
    users: int | None = typer.Option(None, "--users", help="Real dataset users sampled."),
    rounds: int | None = typer.Option(None, "--rounds", help="Horizon in rounds."),
    agents: str | None = typer.Option(None, "--agents", help="Implementation per role."),
    dataset: str | None = typer.Option(None, "--dataset", help="Dataset name or path."),
    llm: str | None = typer.Option(None, "--llm", help="LLM spec."),
    executor: str = typer.Option(
        "local", "--executor", help="local (one run after another) or ray (runs as Ray tasks)."
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Ray cluster to join (host:port or auto); default: a local one."
    ),
    workers: int = typer.Option(2, "--workers", help="CPUs of the local Ray cluster."),
    out: Path | None = typer.Option(
        None, "--out", help="Folder of the table and the runs (default ./sweeps/SCENARIO-TIME)."
    ),
) -> None:
    """Play arms x seeds of one scenario and print one comparison table."""
    from recagora.environments.registry import get_scenario
    from recagora.experiments.runner.config import load_config
    from recagora.experiments.runner.sweep import markdown_table, run_arms, seed_repeats

    if executor != "ray" and (ray_address or workers != 2):
        raise ConfigError("--ray-address and --workers apply to --executor ray only")
    spec = get_scenario(scenario)
    flags = {"population": population, "users": users, "rounds": rounds, "agents": agents}
    flags.update(dataset=dataset, llm=llm, scenario=scenario)
    base = load_config(spec.config_cls, config, flags, overrides)
    plan = parse_arms(arms, spec.config_cls)
    if seeds is not None:
        plan = seed_repeats(plan, parse_seeds(seeds))
    folder = out or Path("sweeps") / f"{scenario}-{time.strftime('%Y%m%d-%H%M%S')}"
    result = run_arms(
        base, plan, folder, executor=executor, ray_address=ray_address, workers=workers
    )
    typer.echo(markdown_table(result.table), nl=False)
    typer.echo(f"table: {result.table_csv}")
    if seeds is not None:
        summary = seed_summary(result.table)
        summary.to_csv(folder / "comparison_by_arm.csv", index=False)
        typer.echo(markdown_table(summary), nl=False)
        typer.echo(f"mean and std over seeds: {folder / 'comparison_by_arm.csv'}")


def parse_seeds(text: str) -> list[int]:
    """[0, 1, 2] from "0,1,2"; each a distinct non-negative integer."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise ConfigError(f"--seeds takes comma-separated non-negative integers, got {text!r}")
    seeds = [int(part) for part in parts]
    if len(set(seeds)) != len(seeds):
        raise ConfigError(f"--seeds repeats a seed: {text!r}")
    return seeds


def parse_arms(specs: list[str], config_cls: type) -> dict[str, list[str]]:
    """{name: overrides} from --arm NAME=KEY=VALUE[,KEY=VALUE...] (see the option's help)."""
    if not specs:
        return {"base": []}
    arms: dict[str, list[str]] = {}
    for spec in specs:
        name, _, rest = spec.partition("=")
        if not name.strip() or "/" in name:
            raise ConfigError(f"--arm {spec!r}: give NAME=KEY=VALUE[,KEY=VALUE...]")
        arms.setdefault(name.strip(), []).extend(split_overrides(rest, config_cls) if rest else [])
    return arms


def split_overrides(text: str, config_cls: type) -> list[str]:
    """KEY=VALUE overrides split at commas; a chunk whose key is no scalar field of the
    config (user=..., item=... after agents=) continues the previous value."""
    scalars = {f.name for f in fields(config_cls) if not _is_section(f)}
    overrides: list[str] = []
    for chunk in text.split(","):
        key = chunk.partition("=")[0].strip()
        continues = overrides and "." not in key and key not in scalars
        if continues and "=" in overrides[-1].partition("=")[2]:
            overrides[-1] += "," + chunk
            continue
        if "=" not in chunk:
            raise ConfigError(f"--arm override {chunk!r} is not KEY=VALUE")
        overrides.append(chunk.strip())
    return overrides


def _is_section(field) -> bool:
    return field.default_factory is not MISSING and is_dataclass(field.default_factory)


def seed_summary(table):
    """One row per arm: each metric's mean and sample std over the arm's seeds."""
    arm = table["arm"].str.rsplit("/seed=", n=1).str[0]
    numeric = table.drop(columns=["arm", "run"], errors="ignore").select_dtypes("number")
    grouped = numeric.groupby(arm, sort=False)
    means, stds = grouped.mean().add_suffix(" mean"), grouped.std().add_suffix(" std")
    columns = [name for pair in zip(means.columns, stds.columns, strict=True) for name in pair]
    summary = means.join(stds)[columns]
    summary.insert(0, "seeds", grouped.size())
    return summary.rename_axis("arm").reset_index()
