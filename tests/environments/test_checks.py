"""`check_scenario` plays every registered scenario (tiny offline episodes, seconds each)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from recagora.agents.surrogate.choice_model import ChoiceModelConfig
from recagora.environments.checks import ScenarioContractError, check_scenario
from recagora.environments.registry import get_scenario, scenario_names
from recagora.environments.scenario import NodeContract

SMALL_FIT = ChoiceModelConfig(max_train_samples=2000)


def _trirec(world: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    agents = "user=surrogate,item=surrogate,platform=trirec"
    config = {"users": 6, "rounds": 2, "llm": "fake:", "agents": agents, "user_fit": SMALL_FIT}
    return config, {"space": world["space"]}


def _grounded(world: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    config = {"dataset": "ml-100k", "users": 6, "rounds": 2, "user_fit": SMALL_FIT}
    extras = {"space": world["space"], "dataset": world["dataset"]}
    return config, extras | {"user_model": _small_learned_user(world)}


def _small_learned_user(world: dict[str, Any]) -> Any:
    """The default (learned) critic fitted on a one-epoch budget: the contract, not the fit, is tested."""
    from learned_user_fixture import small_learned_user

    return small_learned_user(world["dataset"], world["space"])


def _papereval(world: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from recagora.item_space.datasets import shared_data_dir
    from recagora.item_space.embedding import HashingEmbedder
    from recagora.item_space.papers import ICLR_DIR_NAME

    if not (shared_data_dir() / ICLR_DIR_NAME).exists():
        pytest.skip("shared iclr-openreview data not present")
    config = {"papers": 12, "rounds": 2, "subscribers": 4, "llm": "fake:"}
    return config, {"embedder": HashingEmbedder(dim=64)}


def _explain(world: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    config = {"users": 12, "rounds": 2, "agents": "user=surrogate,explainer=template", "user_fit": SMALL_FIT}
    return config, {"space": world["space"]}


# Scenarios that need a faster world than their defaults (a hashing item space instead of
# MiniLM, a small choice-model fit). Any other registered scenario is played with its
# config's defaults and no extras, which must then be a seconds-long offline episode.
TINY = {"trirec": _trirec, "grounded": _grounded, "papereval": _papereval, "explain": _explain}


@pytest.fixture(scope="module")
def world(hashing_space) -> dict[str, Any]:
    from recagora.item_space.datasets import load_dataset

    return {"space": hashing_space, "dataset": load_dataset("ml-100k")}


@pytest.mark.parametrize("name", scenario_names())
def test_every_registered_scenario_keeps_its_contract(name, world):
    spec = get_scenario(name)
    overrides, extras = TINY[name](world) if name in TINY else ({}, {})
    config = spec.config_cls(**overrides)
    report = check_scenario(spec, config, extras)
    assert report.rounds == config.rounds
    assert set(report.nodes_seen) == set(spec.nodes)


def test_a_node_writing_an_undeclared_key_is_named(world):
    spec = get_scenario("trirec")
    narrowed = dict(spec.nodes)
    rerank = narrowed["rerank"]
    narrowed["rerank"] = NodeContract(
        rerank.reads, tuple(k for k in rerank.writes if k != "exposure")
    )
    overrides, extras = _trirec(world)
    with pytest.raises(
        ScenarioContractError, match=r"trirec.rerank wrote undeclared keys \['exposure'\]"
    ):
        check_scenario(replace(spec, nodes=narrowed), spec.config_cls(**overrides), extras)


def test_declared_nodes_must_match_the_graph():
    spec = get_scenario("grounded")
    nodes = {k: v for k, v in spec.nodes.items() if k != "feedback"}
    with pytest.raises(ScenarioContractError, match="graph nodes .* != declared"):
        check_scenario(replace(spec, nodes=nodes), None)


def test_a_plotted_metric_that_never_arrives_is_named(world):
    from recagora.environments.scenario import MetricSpec

    spec = get_scenario("grounded")
    broken = replace(spec, metrics=(*spec.metrics, MetricSpec("ndcg@11", "typo", plot=True)))
    overrides, extras = _grounded(world)
    with pytest.raises(ScenarioContractError, match=r"plotted metrics \['ndcg@11'\] were never"):
        check_scenario(broken, spec.config_cls(**overrides), extras)
    twice = replace(spec, metrics=(*spec.metrics, MetricSpec("hr@10")))
    with pytest.raises(ScenarioContractError, match=r"metrics \['hr@10'\] are listed twice"):
        check_scenario(twice, None)
