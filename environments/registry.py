"""The scenario registry: one visible list of names -> "module:attribute" strings.

Entries resolve lazily (importlib on first use), so listing scenarios imports
nothing heavy (as Gymnasium's registry does with entry points). Each target is a
`ScenarioSpec` (see `recagora.environments.scenario`). Bump the version suffix in
a spec's `version` when its dynamics or prompts change results.
"""

from __future__ import annotations

import importlib

from recagora.environments.scenario import ScenarioSpec, UnknownScenario
from recagora.item_space.errors import ConfigError, did_you_mean

# name -> "module:attribute" of its spec (imported on first use), or the spec itself
SCENARIOS: dict[str, str | ScenarioSpec] = {
    "trirec": "recagora.environments.trirec.scenario:TRIREC",
    "grounded": "recagora.environments.grounded.scenario:GROUNDED",
    "papereval": "recagora.environments.papereval.scenario:PAPEREVAL",
    "clinic": "recagora.environments.clinic.scenario:CLINIC",
}


def scenario_names() -> list[str]:
    """Registered scenario names, sorted."""
    return sorted(SCENARIOS)


def get_scenario(name: str) -> ScenarioSpec:
    """The spec registered under `name`.

    Raises:
        UnknownScenario: no such name (the message suggests the closest one).
    """
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
