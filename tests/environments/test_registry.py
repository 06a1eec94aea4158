"""Every registered scenario resolves to a spec whose declared nodes match its graph."""

from __future__ import annotations

import typing

import pytest

from recagora.environments.registry import get_scenario, scenario_names
from recagora.environments.scenario import ScenarioSpec, UnknownScenario


@pytest.mark.parametrize("name", scenario_names())
def test_registered_spec_matches_its_graph_and_state_schema(name):
    spec = get_scenario(name)
    assert isinstance(spec, ScenarioSpec) and spec.name == name
    graph = spec.build_graph()
    assert set(graph.nodes) == set(spec.nodes)
    assert graph.context_schema is not None
    schema_keys = set(typing.get_type_hints(spec.state_schema, include_extras=True))
    for contract in spec.nodes.values():
        assert set(contract.reads) | set(contract.writes) <= schema_keys
    assert all(f.metadata.get("help") for f in spec.config_cls.__dataclass_fields__.values())


def test_unknown_scenario_suggests_the_closest_name():
    with pytest.raises(UnknownScenario, match="did you mean 'trirec'"):
        get_scenario("tri-rec")
