"""Per-role implementation specs: parsing, defaults, one-line errors with suggestions."""

from __future__ import annotations

import pytest

from recagora.agents.registry import (
    AGENTS,
    UnknownAgentError,
    list_agents,
    parse_agent_spec,
    register_agent,
    resolve,
)
from recagora.item_space.errors import ConfigError

TRIREC = "user=surrogate,item=llm,platform=trirec"  # TriRec's roles and defaults


def test_a_full_spec_round_trips_and_partial_specs_keep_the_defaults():
    mix = parse_agent_spec("user=llm,item=surrogate,platform=trirec", TRIREC)
    assert (mix.user, mix.item, mix.platform) == ("llm", "surrogate", "trirec")
    assert str(parse_agent_spec(str(mix), TRIREC)) == str(mix)
    partial = parse_agent_spec("item=surrogate", default=TRIREC)
    assert str(partial) == "user=surrogate,item=surrogate,platform=trirec"
    assert parse_agent_spec("user=surrogate,item=surrogate", TRIREC).uses_llm() is False
    assert mix.versions()["user"] == "llm@v2"
    assert mix["item"] == "surrogate" and mix.roles()["platform"] == "trirec"


def test_each_scenario_parses_its_own_roles_through_the_registry():
    from recagora.environments.grounded.config import GroundedConfig
    from recagora.environments.grounded.config import parse_roles as grounded_roles
    from recagora.environments.papereval.config import parse_roles as papereval_roles

    assert grounded_roles("") == {"reasoner": "surrogate", "feedback": "learned"}
    assert grounded_roles("feedback=llm") == {"reasoner": "surrogate", "feedback": "llm"}
    assert papereval_roles("post_writer=llm") == {"evaluator": "llm", "post_writer": "llm"}
    assert GroundedConfig(agents="reasoner=llm").role("reasoner") == "llm"
    # A role of another scenario is refused, naming this scenario's roles.
    with pytest.raises(UnknownAgentError, match="role 'user'.*; roles: reasoner, feedback$"):
        grounded_roles("user=llm")
    with pytest.raises(UnknownAgentError, match="evaluator implementation 'scorr'.*'scorer'"):
        papereval_roles("evaluator=scorr")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("usr=llm", "unknown agent role 'usr' (did you mean 'user'?)"),
        ("user=surogate", "unknown user implementation 'surogate' (did you mean 'surrogate'?)"),
        ("user", "is not role=impl"),
        ("user=llm,user=surrogate", "names role 'user' twice"),
    ],
)
def test_bad_specs_are_one_line_config_errors(spec, message):
    with pytest.raises(UnknownAgentError) as caught:
        parse_agent_spec(spec, TRIREC)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_every_registered_entry_resolves_to_a_class_with_its_role_methods():
    methods = {
        "user": ("score", "respond", "reflect"),
        "item": ("promote", "update_memory", "init_state"),
        "platform": ("candidates", "rerank", "init_exposure"),
        "reasoner": ("step",),
        "feedback": ("critique",),
        "evaluator": ("judge",),
        "post_writer": ("write",),
        "clinician": ("scores", "propose"),
        "pharmacist": ("flag",),
        "editor": ("revise",),
        "explainer": ("explain",),
    }
    for role, impls in list_agents().items():
        for impl in impls:
            cls = resolve(role, impl)
            assert all(callable(getattr(cls, m)) for m in methods[role]), (role, impl)
    assert set(AGENTS) == set(methods)


def test_a_scenario_outside_the_package_registers_its_own_role(monkeypatch):
    class Coin:
        def flip(self) -> int:
            return 1

    monkeypatch.setitem(AGENTS, "shopper", {})
    register_agent("shopper", "coin", Coin, version="v3")
    assert resolve("shopper", "coin") is Coin
    mix = parse_agent_spec("", default="shopper=coin")
    assert mix.versions() == {"shopper": "coin@v3"} and not mix.uses_llm()
    with pytest.raises(UnknownAgentError, match="did you mean 'coin'"):
        parse_agent_spec("shopper=con", default="shopper=coin")
