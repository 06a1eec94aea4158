"""`recagora run ... --dry-run`: a small pilot of the run, then what the full run would cost.

The pilot is the same scenario and config with a cohort of at most `pilot_users` users
for at most `pilot_rounds` rounds, run into a temporary folder that is removed
afterwards (nothing goes into runs/). Its LLM requests go through the persistent
response cache like any run: what an earlier run (or pilot) asked costs nothing
again, and what the pilot asks is there for the real run.

Projection (linear in user-rounds; the pilot's first round also holds the setup):
  requests, calls, tokens = (pilot's per user-round figure) x users x rounds, where a
      cached reply counts with the tokens it cost when first asked;
  cost = tokens x the model's price (agents/llm/prices.py; 0 for local models);
  wall = setup + finalize + user-rounds x (non-LLM seconds per user-round)
         + requests x (LLM batch seconds per uncached pilot request).
LLM requests that do not grow with the cohort (an item agent's per-item asks shared by
users) make the request projection an upper bound; a pilot answered wholly from the
cache cannot time the LLM, and the wall time is then a lower bound (said so).
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recagora.item_space.errors import ConfigError

PILOT_USERS = 16  # at least twice the LLM client's default concurrency: full batches
PILOT_ROUNDS = 2  # round 1 holds the setup; later rounds measure a plain round


@dataclass
class Snapshot:
    """Time (perf_counter seconds) and the LLM ledger's counters at one moment."""

    at_s: float
    ledger: dict[str, Any] = field(default_factory=dict)
    active_users: float | None = None  # the round's `active_users` metric, when it has one
    exits: float | None = None  # the round's `exits` metric (users who left after it)

    def count(self, name: str) -> float:
        return float(self.ledger.get(name, 0) or 0)


@dataclass
class PilotTrace:
    """One pilot: its cohort, a snapshot at the start and after each round, and the
    finalized ledger (`ended`)."""

    cohort: int
    snapshots: list[Snapshot]
    ended: Snapshot

    @property
    def rounds(self) -> list[Snapshot]:
        return self.snapshots[1:]


@dataclass
class Projection:
    """The full run's projected figures and the pilot they come from."""

    scenario: str
    users: int
    rounds: int
    pilot_users: int
    pilot_rounds: int
    pilot_wall_s: float
    requests: float
    calls: float
    prompt_tokens: float
    completion_tokens: float
    cost_usd: float | None
    wall_s: float
    setup_s: float
    llm_wall_s: float | None  # None: the pilot never reached the LLM (all cached)
    cache_share: float
    model: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def user_rounds(self) -> int:
        return self.users * self.rounds


def cohort_size(config: Any) -> int:
    """Users in the run's cohort: `population` when set, else `users`."""
    population = getattr(config, "population", None)
    return int(population) if population else int(config.users)


def pilot_config(config: Any, pilot_users: int, pilot_rounds: int) -> Any:
    """`config` with at most `pilot_users` users for at most `pilot_rounds` rounds."""
    names = {f.name for f in dataclasses.fields(config)}
    if not {"users", "rounds"} <= names:
        raise ConfigError(
            f"--dry-run needs a scenario with users and rounds; {config.scenario!r} has none"
        )
    changes: dict[str, Any] = {"rounds": min(config.rounds, pilot_rounds)}
    if getattr(config, "population", None):
        changes["population"] = min(config.population, pilot_users)
    else:
        changes["users"] = min(config.users, pilot_users)
    return dataclasses.replace(config, **changes)


def dry_run(
    config: Any,
    *,
    llm: Any = None,
    extras: dict[str, Any] | None = None,
    pilot_users: int = PILOT_USERS,
    pilot_rounds: int = PILOT_ROUNDS,
) -> Projection:
    """Run the pilots of `config` in a temporary folder and project the full run.

    Two pilots when the cohort is larger than `pilot_users`: one of a quarter of it and
    one of `pilot_users`, so that a round's non-LLM time splits into a fixed part and a
    part per active user; one pilot (the cohort itself, fewer rounds) otherwise.

    Args:
        llm: an opened LLM client for the pilots (tests); None = the scenario opens `config.llm`.
        extras: scenario extras, as for `start_run`.
    """
    full = cohort_size(config)
    sizes = [pilot_users] if full <= pilot_users else [max(2, pilot_users // 4), pilot_users]
    traces = [_pilot(pilot_config(config, n, pilot_rounds), llm, extras) for n in sizes]
    return project(config, traces)


def _pilot(pilot: Any, llm: Any, extras: dict[str, Any] | None) -> PilotTrace:
    from recagora.experiments.runner.runner import start_run

    with tempfile.TemporaryDirectory(prefix="recagora-dry-run-") as runs_dir:
        before = llm.ledger_summary() if llm is not None else {}
        snapshots = [Snapshot(time.perf_counter(), before)]

        def on_round(round_index: int, metrics: dict[str, float]) -> None:
            ledger = _ledger_now(llm, Path(runs_dir))
            active, exits = metrics.get("active_users"), metrics.get("exits")
            snapshots.append(Snapshot(time.perf_counter(), ledger, active, exits))

        result = start_run(pilot, runs_dir=runs_dir, llm=llm, on_round=on_round, extras=extras)
        ended = Snapshot(time.perf_counter(), _since(result.summary.get("llm") or {}, before))
    if result.status != "finished":
        raise ConfigError(f"the dry run's pilot did not finish ({result.status}): {result.message}")
    for snapshot in snapshots:
        snapshot.ledger = _since(snapshot.ledger, before)
    return PilotTrace(cohort_size(pilot), snapshots, ended)


def _since(ledger: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The ledger's numeric counters less those of `before` (a client shared by pilots)."""
    if not before:
        return ledger
    return {
        k: v - before.get(k, 0) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in ledger.items()
    }


def _ledger_now(llm: Any, runs_dir: Path) -> dict[str, Any]:
    """The pilot's LLM ledger so far: from the client we hold, else the file the
    scenario's own client rewrites after every batch ({} when it asked nothing yet)."""
    if llm is not None:
        return llm.ledger_summary()
    for path in runs_dir.glob("*/llm_ledger.json"):
        return json.loads(path.read_text())
    return {}


def project(config: Any, traces: list[PilotTrace]) -> Projection:
    """The full run's figures from the pilots (see the module docstring); the last
    (largest) pilot gives the LLM figures and the setup."""
    main = traces[-1]
    if not main.rounds:
        raise ConfigError("the dry run's pilot played no round; nothing to project from")
    ledger = main.ended.ledger
    users, horizon = cohort_size(config), int(config.rounds)
    full_active = projected_active(traces, users, horizon)
    pilot_active = sum(_active(main))
    scale = full_active / pilot_active if pilot_active else 0.0
    requests = float(ledger.get("requests", 0))
    per_request_llm_s = _llm_seconds_per_request(ledger)
    fixed_s, per_user_s = _round_cost(traces)
    setup_s = max(0.0, _nonllm_rounds(main)[0] - fixed_s - per_user_s * _active(main)[0])
    finalize_s = main.ended.at_s - main.snapshots[-1].at_s
    llm_wall_s = None if per_request_llm_s is None else requests * scale * per_request_llm_s
    rounds_s = horizon * fixed_s + full_active * per_user_s
    prompt = float(ledger.get("prompt_tokens", 0) + ledger.get("cached_prompt_tokens", 0))
    completion = float(
        ledger.get("completion_tokens", 0) + ledger.get("cached_completion_tokens", 0)
    )
    uncached = float(ledger.get("uncached_requests", 0))
    calls_per_request = ledger.get("calls", 0) / uncached if uncached else 1.0
    projection = Projection(
        scenario=config.scenario,
        users=users,
        rounds=horizon,
        pilot_users=main.cohort,
        pilot_rounds=len(main.rounds),
        pilot_wall_s=sum(t.ended.at_s - t.snapshots[0].at_s for t in traces),
        requests=requests * scale,
        calls=requests * scale * calls_per_request,
        prompt_tokens=prompt * scale,
        completion_tokens=completion * scale,
        cost_usd=None,
        wall_s=setup_s + finalize_s + rounds_s + (llm_wall_s or 0.0),
        setup_s=setup_s,
        llm_wall_s=llm_wall_s,
        cache_share=float(ledger.get("cache_hits", 0)) / requests if requests else 0.0,
        model=str(ledger.get("model", "")),
    )
    projection.cost_usd = _cost(ledger, projection)
    projection.notes = _notes(projection, len(main.rounds))
    return projection


def _active(trace: PilotTrace) -> list[float]:
    """Active users per pilot round (the whole cohort when the scenario does not say)."""
    return [trace.cohort if r.active_users is None else r.active_users for r in trace.rounds]


def projected_active(traces: list[PilotTrace], users: int, horizon: int) -> float:
    """The full run's active user-rounds: users who leave ask nothing more.

    The pilots' pooled first-round share of active users, then a geometric decline at
    their pooled per-round retention; the cohort itself when the scenario reports no
    `active_users`.
    """
    first = sum(_active(t)[0] for t in traces) / sum(t.cohort for t in traces)
    return users * first * sum(_retention(traces) ** k for k in range(horizon))


def _retention(traces: list[PilotTrace]) -> float:
    """Share of active users still there one round later: 1 - (pooled exits / pooled
    active users) when every round reports `exits` (each round's leavers count, the
    last round's too), else from the change in `active_users` between rounds."""
    rounds = [r for t in traces for r in t.rounds]
    if rounds and all(r.exits is not None and r.active_users for r in rounds):
        return 1.0 - sum(r.exits for r in rounds) / sum(r.active_users for r in rounds)
    start = sum(_active(t)[0] for t in traces if len(t.rounds) > 1)
    end = sum(_active(t)[-1] for t in traces if len(t.rounds) > 1)
    steps = max((len(t.rounds) - 1 for t in traces), default=0)
    return (end / start) ** (1 / steps) if steps and start else 1.0


def _nonllm_rounds(trace: PilotTrace) -> list[float]:
    """Each pilot round's wall seconds less the LLM batch seconds it held."""
    seconds = []
    for before, after in zip(trace.snapshots, trace.snapshots[1:], strict=False):
        llm_s = after.count("batch_wall_s") - before.count("batch_wall_s")
        seconds.append(max(0.0, after.at_s - before.at_s - llm_s))
    return seconds


def _round_cost(traces: list[PilotTrace]) -> tuple[float, float]:
    """(fixed non-LLM seconds per round, non-LLM seconds per active user-round).

    From rounds 2.. of each pilot (round 1 also holds the setup): a line through the two
    pilots' (active users, seconds) means; with one pilot, all of it per user.
    """
    points = []
    for trace in traces:
        later, active = _nonllm_rounds(trace)[1:], _active(trace)[1:]
        if later:
            points.append((sum(active) / len(active), sum(later) / len(later)))
    if not points:
        return 0.0, 0.0
    if len(points) == 1 or points[-1][0] <= points[0][0]:
        users, seconds = points[-1]
        return 0.0, seconds / users if users else 0.0
    (u0, s0), (u1, s1) = points[0], points[-1]
    per_user = max(0.0, (s1 - s0) / (u1 - u0))
    return max(0.0, s1 - per_user * u1), per_user


def _llm_seconds_per_request(ledger: dict[str, Any]) -> float | None:
    """LLM batch wall seconds per request that reached the backend (None: none did)."""
    uncached = ledger.get("uncached_requests", 0)
    if not uncached:
        return None
    return float(ledger.get("batch_wall_s", 0.0)) / uncached


def _cost(ledger: dict[str, Any], projection: Projection) -> float | None:
    """USD for the projected tokens: 0 for a local model or no LLM, None without a price."""
    from recagora.agents.llm.prices import price_of
    from recagora.agents.llm.specs import parse_spec

    if not projection.requests or parse_spec(str(ledger["spec"])).is_local:
        return 0.0
    price = price_of(projection.model)
    if price is None:
        return None
    return (projection.prompt_tokens * price[0] + projection.completion_tokens * price[1]) / 1e6


def _notes(projection: Projection, rounds_played: int) -> list[str]:
    notes = []
    if projection.requests and projection.llm_wall_s is None:
        notes.append(
            "every pilot reply came from the cache: LLM time unknown, wall time is a lower bound"
        )
    if projection.cost_usd is None:
        notes.append(
            f"no price for model {projection.model!r} in agents/llm/prices.py: pass prices= "
            "to price it"
        )
    if rounds_played == 1:
        notes.append("a 1-round pilot cannot tell setup from round time: rounds count as setup")
    return notes


def print_projection(projection: Projection, console: Any) -> None:
    """The projection as a rich table, then its notes (one line each)."""
    from rich.table import Table

    from recagora.agents.llm.prices import PRICES_CHECKED

    p = projection
    per_user_round = max(p.user_rounds, 1)
    table = Table(
        title=(
            f"dry run: {p.scenario}, {p.users:,} users x {p.rounds} rounds (pilot: "
            f"{p.pilot_users} users x {p.pilot_rounds} rounds, {p.pilot_wall_s:.1f} s)"
        ),
        show_header=False,
    )
    table.add_column("figure", style="bold")
    table.add_column("projected", justify="right")
    table.add_column("detail")
    cost = "unknown" if p.cost_usd is None else f"{p.cost_usd:,.2f}"
    llm_s = "unknown" if p.llm_wall_s is None else _duration(p.llm_wall_s)
    rows = [
        ("LLM requests", f"{p.requests:,.0f}", f"{p.requests / per_user_round:.2f} per user-round; "
         f"{p.cache_share:.0%} of the pilot's from the cache"),
        ("backend calls", f"{p.calls:,.0f}", "first tries, retries and repair re-asks"),
        ("prompt tokens", f"{p.prompt_tokens:,.0f}", f"{p.prompt_tokens / per_user_round:,.0f} per user-round"),
        ("completion tokens", f"{p.completion_tokens:,.0f}", f"{p.completion_tokens / per_user_round:,.0f} per user-round"),
        ("cost (USD)", cost, f"{p.model or 'no LLM'}; prices checked {PRICES_CHECKED}"),
        ("wall time", _duration(p.wall_s), f"setup {_duration(p.setup_s)}, LLM {llm_s}"),
    ]  # fmt: skip
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for note in p.notes:
        console.print(f"note: {note}")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def dry_run_from_cli(scenario: str, config_path: Any, flags: dict, overrides: list[str]) -> None:
    """`recagora run SCENARIO ... --dry-run`: load the config as a run would, warn about
    `fake:` (free and instant: the projection shows the plumbing only), run the pilots
    and print the projection. Bad input raises before any pilot starts."""
    import sys

    from rich.console import Console

    from recagora.environments.registry import get_scenario
    from recagora.experiments.runner.config import load_config

    spec = get_scenario(scenario)
    config = load_config(spec.config_cls, config_path, {**flags, "scenario": scenario}, overrides)
    pilot_config(config, PILOT_USERS, PILOT_ROUNDS)  # a scenario without users/rounds: refused
    if str(getattr(config, "llm", "")).startswith("fake:"):
        print(
            "warning: --dry-run with fake: projects the plumbing only (scripted replies cost "
            "nothing and take no time); pass the --llm you mean to run",
            file=sys.stderr,
        )
    console = Console()
    with console.status("running the dry run's pilots (temporary folder) ..."):
        projection = dry_run(config)
    print_projection(projection, console)
