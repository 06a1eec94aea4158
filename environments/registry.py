"""The scenario registry: one visible list of names -> "module:attribute" strings.

Entries resolve lazily (importlib on first use), so listing scenarios imports
nothing heavy (as Gymnasium's registry does with entry points). Each target is a
`ScenarioSpec` (see `recagora.environments.scenario`). Bump the version suffix in
a spec's `version` when its dynamics or prompts change results.

Scenarios from outside the package join the list in two ways, read once on first use:
- an installed distribution's entry point in the group `recagora.scenarios`
  (`name = "my_pkg.scenario:SPEC"` under `[project.entry-points."recagora.scenarios"]`);
- the `RECAGORA_SCENARIOS` environment variable: comma-separated modules imported for
  their `register_scenario` call, found from the current folder as `python -m` would
  (`cd examples && RECAGORA_SCENARIOS=minimal_scenario.scenario recagora run minimal-shop`).
"""

from __future__ import annotations

import importlib
import os
import sys
from importlib.metadata import entry_points

from recagora.environments.scenario import ScenarioSpec, UnknownScenario
from recagora.item_space.errors import ConfigError, did_you_mean

# name -> "module:attribute" of its spec (imported on first use), or the spec itself
SCENARIOS: dict[str, str | ScenarioSpec] = {
    "trirec": "recagora.environments.trirec.scenario:TRIREC",
    "grounded": "recagora.environments.grounded.scenario:GROUNDED",
    "papereval": "recagora.environments.papereval.scenario:PAPEREVAL",
    "clinic": "recagora.environments.clinic.scenario:CLINIC",
    "explain": "recagora.environments.explain.scenario:EXPLAIN",
}
ENTRY_POINT_GROUP = "recagora.scenarios"
PLUGINS_VARIABLE = "RECAGORA_SCENARIOS"
_plugins_loaded = False


def scenario_names() -> list[str]:
    """Registered scenario names, sorted (plugins included)."""
    _load_plugins()
    return sorted(SCENARIOS)


def get_scenario(name: str) -> ScenarioSpec:
    """The spec registered under `name`.

    Raises:
        UnknownScenario: no such name (the message suggests the closest one).
    """
    _load_plugins()
    if name not in SCENARIOS:
        hint = did_you_mean(name, SCENARIOS) or f" (known: {', '.join(scenario_names())})"
        raise UnknownScenario(f"unknown scenario {name!r}{hint}")
    entry = SCENARIOS[name]
    if isinstance(entry, ScenarioSpec):
        return entry
    module_name, attribute = entry.split(":")
    return getattr(importlib.import_module(module_name), attribute)


def register_scenario(spec: ScenarioSpec) -> ScenarioSpec:
    """Add `spec` under `spec.name` (again: a no-op for the same spec); returns it.

    Raises:
        ConfigError: another scenario already has that name.
    """
    known = SCENARIOS.get(spec.name)
    if known is not None and get_scenario(spec.name) is not spec:
        where = known if isinstance(known, str) else "at runtime"
        raise ConfigError(
            f"scenario {spec.name!r} is already registered ({where}); choose another name"
        )
    SCENARIOS[spec.name] = spec
    return spec


def _load_plugins() -> None:
    """Add entry-point scenarios and import the modules named in RECAGORA_SCENARIOS (once).

    Raises:
        ConfigError: a named module cannot be imported (one line naming it).
    """
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for point in entry_points(group=ENTRY_POINT_GROUP):
        SCENARIOS.setdefault(point.name, point.value)
    modules = [m.strip() for m in os.environ.get(PLUGINS_VARIABLE, "").split(",") if m.strip()]
    if modules and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # what `python -m` does, so local folders resolve
    for module in modules:
        try:
            importlib.import_module(module.split(":")[0])
        except ImportError as error:
            raise ConfigError(
                f"{PLUGINS_VARIABLE}: cannot import {module!r} ({error}); run from the folder "
                "that holds it or install it"
            ) from None
