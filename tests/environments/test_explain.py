"""The `explain` scenario: contract, controls (none and restate change nothing), determinism, runner."""

from __future__ import annotations

import asyncio

import pytest

from recagora.agents.surrogate.choice_model import ChoiceModelConfig
from recagora.environments.checks import check_scenario
from recagora.environments.explain.config import ExplainConfig
from recagora.environments.registry import get_scenario
from recagora.environments.scenario import MemorySink, RunServices
from recagora.item_space.errors import ConfigError

FIT = ChoiceModelConfig(max_train_samples=2000)


def _config(explainer: str = "template", **changes) -> ExplainConfig:
    values = {"users": 40, "rounds": 2, "agents": f"user=surrogate,explainer={explainer}",
              "user_fit": FIT, "explanation_weight": 0.5, "seed": 0} | changes
    return ExplainConfig(**values)


def _play(config: ExplainConfig, space) -> tuple[dict, MemorySink]:
    spec, sink = get_scenario("explain"), MemorySink()
    episode = spec.prepare(config, RunServices(sink=sink, extras={"space": space}))
    final = asyncio.run(spec.build_graph().compile().ainvoke(
        episode.initial_state, {"recursion_limit": 100}, context=episode.context))
    return final, sink


def test_contract_of_every_node(hashing_space):
    spec = get_scenario("explain")
    report = check_scenario(spec, _config(users=12), {"space": hashing_space})
    assert set(report.nodes_seen) == set(spec.nodes)


def test_no_explanation_and_a_restated_item_change_nothing(hashing_space):
    _, none = _play(_config("none", rounds=1), hashing_space)
    _, restated = _play(_config("restate", rounds=1), hashing_space)
    row_none, row_restated = none.metrics_rows()[0], restated.metrics_rows()[0]
    assert row_none["explained_share"] == 0.0 and row_restated["explained_share"] == 1.0
    for name in ("hit", "accept", "top1", "p_hit", "p_accept"):
        assert row_none[f"{name}_gain"] == 0.0
        assert row_restated[f"{name}_gain"] == pytest.approx(0.0, abs=1e-6)
        assert row_restated[f"{name}_without"] == row_none[f"{name}_without"]


def test_template_explanations_move_the_decisions_and_the_run_is_seeded(hashing_space):
    final, sink = _play(_config(), hashing_space)
    again, sink_again = _play(_config(), hashing_space)
    rows = sink.metrics_rows()
    assert rows == sink_again.metrics_rows() and sink.all_events() == sink_again.all_events()
    assert rows[0]["active_users"] == 40 and rows[0]["explained_share"] == 1.0
    assert rows[0]["p_accept_gain"] != 0.0  # the texts are read
    assert 0 < rows[1]["active_users"] < 40  # who chose their held-out item is done
    shown = [e for e in sink.all_events() if e["kind"] == "explanations"]
    assert shown and all(len(e["text"]) == 5 and all(e["text"]) for e in shown)
    assert final["round"] == 2 and final["done"]


def test_bad_configs_are_one_line_errors():
    with pytest.raises(ConfigError, match="explainer=seller needs seller_run"):
        ExplainConfig(agents="explainer=seller")
    with pytest.raises(ConfigError, match="unknown explainer implementation 'templat'"):
        ExplainConfig(agents="explainer=templat")
    with pytest.raises(ConfigError, match="explanation_weight must be in"):
        ExplainConfig(explanation_weight=1.0)
    with pytest.raises(ConfigError, match="shown must be in 2..50"):
        ExplainConfig(shown=1)


def test_a_run_through_the_real_runner_writes_metrics_and_plots(hashing_space, tmp_path):
    import pandas as pd

    from recagora.experiments.runner.runner import start_run

    result = start_run(_config(users=20), runs_dir=tmp_path, extras={"space": hashing_space})
    assert result.status == "finished"
    frame = pd.read_csv(result.folder.metrics_csv)
    assert frame["round"].tolist()[0] == 0 and (frame["hit_with"].between(0, 1)).all()
    plots = {p.name for p in result.folder.plots_dir.iterdir()}
    assert {"round_hit_gain.png", "round_accept_gain.png", "round_top1_gain.png"} <= plots
    assert result.summary["setup"]["agents"]["explainer"] == "template@v0"
