"""Scenarios from outside the package: entry points and RECAGORA_SCENARIOS."""

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from recagora.environments import registry
from recagora.item_space.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def fresh_registry(monkeypatch):
    """A private copy of the registry, plugins not yet read, the example not yet imported
    (other tests' import of it is put back afterwards, and this test's own is dropped)."""
    monkeypatch.setattr(registry, "SCENARIOS", dict(registry.SCENARIOS))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.delenv(registry.PLUGINS_VARIABLE, raising=False)
    monkeypatch.setattr("sys.path", [p for p in sys.path if p != str(EXAMPLES)])
    before = {n: m for n, m in sys.modules.items() if n.startswith("minimal_scenario")}
    for name in before:
        del sys.modules[name]
    yield
    for name in [n for n in sys.modules if n.startswith("minimal_scenario")]:
        del sys.modules[name]
    sys.modules.update(before)


def test_module_named_in_the_variable_registers_from_the_current_folder(
    fresh_registry, monkeypatch
):
    monkeypatch.chdir(EXAMPLES)
    monkeypatch.setenv(registry.PLUGINS_VARIABLE, "minimal_scenario.scenario")
    assert "minimal-shop" in registry.scenario_names()
    assert registry.get_scenario("minimal-shop").name == "minimal-shop"


def test_entry_point_scenario_is_listed_and_resolved(fresh_registry, monkeypatch):
    point = EntryPoint(
        name="trirec-alias",
        value="recagora.environments.trirec.scenario:TRIREC",
        group=registry.ENTRY_POINT_GROUP,
    )
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    assert "trirec-alias" in registry.scenario_names()
    assert registry.get_scenario("trirec-alias") is registry.get_scenario("trirec")


def test_unimportable_module_is_one_line_naming_it(fresh_registry, monkeypatch):
    monkeypatch.setenv(registry.PLUGINS_VARIABLE, "no_such_scenario_module")
    with pytest.raises(ConfigError, match="no_such_scenario_module") as error:
        registry.get_scenario("trirec")
    assert "\n" not in str(error.value)
