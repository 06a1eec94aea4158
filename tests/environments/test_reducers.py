"""The shared state reducers, and that every registered scenario's state uses them."""

from __future__ import annotations

import typing

import numpy as np
import pytest

from recagora.environments import reducers
from recagora.environments.reducers import add_arrays, add_counts, append_round_events
from recagora.environments.registry import get_scenario, scenario_names


def test_events_append_within_a_round_and_restart_with_the_next():
    first = append_round_events([], [{"round": 0, "kind": "a"}])
    both = append_round_events(first, [{"round": 0, "kind": "b"}])
    assert [e["kind"] for e in both] == ["a", "b"]
    assert append_round_events(both, [{"round": 1, "kind": "c"}]) == [{"round": 1, "kind": "c"}]
    assert append_round_events(both, []) is both


def test_arrays_and_counters_add_up():
    assert add_arrays(None, np.array([1.0])).tolist() == [1.0]
    assert add_arrays(np.array([1.0, 2.0]), np.array([0.5, 0.5])).tolist() == [1.5, 2.5]
    assert add_arrays(np.array([3.0]), None).tolist() == [3.0]
    assert add_counts({"calls": 1}, {"calls": 2, "failures": 1}) == {"calls": 3, "failures": 1}
    assert add_counts(None, None) == {}


@pytest.mark.parametrize("name", scenario_names())
def test_every_scenario_merges_its_events_with_the_shared_reducer(name):
    hints = typing.get_type_hints(get_scenario(name).state_schema, include_extras=True)
    assert hints["events"] == reducers.RoundEvents
    reducer_owners = {
        meta.__module__ for hint in hints.values() for meta in getattr(hint, "__metadata__", ())
    }
    assert reducer_owners <= {"recagora.environments.reducers"}
