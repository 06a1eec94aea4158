"""The minimal example scenario (examples/minimal_scenario): registered from outside the
package, keeps its contract, runs through the real runner, sweeps, and takes 5 files."""

from __future__ import annotations

import ast
import importlib
import json
import sys
from dataclasses import fields
from pathlib import Path

import pandas as pd
import pytest

from recagora.agents.registry import AGENTS
from recagora.environments.checks import check_scenario
from recagora.environments.registry import SCENARIOS, get_scenario, scenario_names
from recagora.experiments.runner.runner import start_run
from recagora.experiments.runner.sweep import run_arms
from recagora.item_space.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "minimal_scenario"


@pytest.fixture(scope="module")
def shop():
    """The example's scenario module (importing it registers the scenario and its roles);
    unregistered afterwards so that later tests see only the package's scenarios."""
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        yield importlib.import_module("minimal_scenario.scenario")
    finally:
        sys.path.remove(str(EXAMPLE.parent))
        SCENARIOS.pop("minimal-shop", None)
        for role in ("shelf", "shopper"):
            AGENTS.pop(role, None)
        for name in [m for m in sys.modules if m.split(".")[0] == "minimal_scenario"]:
            del sys.modules[name]


def _config(shop, **changes):
    return shop.ShopConfig(**{"users": 40, "rounds": 3, **changes})


def test_importing_registers_it_and_its_contract_holds(shop):
    assert "minimal-shop" in scenario_names() and get_scenario("minimal-shop") is shop.SPEC
    report = check_scenario(shop.SPEC, _config(shop))
    assert report.rounds == 3 and report.nodes_seen == ["show", "shop"]
    assert all(f.metadata.get("help") for f in fields(shop.ShopConfig))


def test_a_run_through_the_real_runner(shop, tmp_path):
    result = start_run(_config(shop), runs_dir=tmp_path)
    assert result.status == "finished"
    frame = pd.read_csv(result.folder.metrics_csv)
    assert frame["round"].tolist() == [0, 1, 2]
    assert frame["buy_rate"].between(0, 1).all() and (frame["active_users"] == 40).all()
    plots = sorted(p.name for p in result.folder.plots_dir.iterdir())
    assert plots == ["round_buy_rate.png", "round_coverage.png", "round_liked_share.png"]
    events = [json.loads(line) for line in result.folder.events_path.read_text().splitlines()]
    bought = sum(e["kind"] == "purchase" for e in events)
    assert bought == round(frame["buy_rate"].sum() * 40)
    assert result.summary["setup"]["agents"] == {"shelf": "popular@v0", "shopper": "surrogate@v0"}


def test_same_seed_same_events_other_seed_other_events(shop, tmp_path):
    def purchases(seed: int, folder: str) -> list[dict]:
        result = start_run(_config(shop, seed=seed), runs_dir=tmp_path / folder)
        lines = result.folder.events_path.read_text().splitlines()
        return [e for e in map(json.loads, lines) if e["kind"] == "purchase"]

    assert purchases(1, "a") == purchases(1, "b") != purchases(2, "c")


def test_a_sweep_compares_the_shelves_on_the_specs_columns(shop, tmp_path):
    arms = {"popular": ["agents=shelf=popular"], "random": ["agents=shelf=random"]}
    table = run_arms(_config(shop), arms, tmp_path, label="shelf").table.set_index("shelf")
    assert list(table.columns) == [*shop.SPEC.sweep_metrics, "run"]
    # The popular shelf shows the same few movies to everyone: far less of the catalog.
    assert table.loc["popular", "coverage"] < 0.5 < table.loc["random", "coverage"]


def test_bad_settings_are_one_line_errors(shop):
    with pytest.raises(ConfigError, match="unknown shelf implementation 'randm'.*'random'"):
        _config(shop, agents="shelf=randm")
    with pytest.raises(ConfigError, match="shelf_size must be in 1..items"):
        _config(shop, shelf_size=0)


def test_a_second_scenario_cannot_take_a_registered_name(shop):
    from dataclasses import replace

    from recagora.environments.registry import register_scenario

    assert register_scenario(shop.SPEC) is shop.SPEC  # again: a no-op
    with pytest.raises(ConfigError, match="'trirec' is already registered"):
        register_scenario(replace(shop.SPEC, name="trirec"))


def test_the_scenario_takes_the_five_files_its_docstring_lists():
    listed = {"config.py", "agents.py", "graph.py", "scenario.py"}
    assert {p.name for p in EXAMPLE.glob("*.py")} == listed
    docstring = ast.get_docstring(ast.parse((EXAMPLE / "scenario.py").read_text()))
    assert all(name in docstring for name in listed)
    assert "tests/examples/test_minimal_scenario.py" in docstring  # the fifth file
