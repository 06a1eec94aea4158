"""The TriRec graph: contract, determinism, resume after a kill (role doubles, real platform)."""

from __future__ import annotations

import asyncio
import sqlite3

import numpy as np
import pytest
from trirec_doubles import InjectedKill, double_roles

from recagora.agents.surrogate.choice_model import ChoiceModelConfig
from recagora.environments.checks import check_scenario
from recagora.environments.registry import get_scenario
from recagora.environments.round_graph import per_round
from recagora.environments.scenario import MemorySink, RunServices
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.graph import build_trirec_graph
from recagora.environments.trirec.prepare import prepare_trirec
from recagora.experiments.runner.events import round_events
from recagora.experiments.runner.runner import resume_run, start_run


def _config(**changes) -> TrirecConfig:
    values = {"users": 6, "rounds": 3, "llm": "fake:", "seed": 0} | changes
    return TrirecConfig(**values)


def _run_in_memory(
    config: TrirecConfig, space, granular=lambda graph: graph, roles=double_roles
) -> tuple[dict, MemorySink]:
    sink = MemorySink()
    extras = {"space": space} | ({"roles_factory": roles()} if roles else {})
    episode = prepare_trirec(config, RunServices(sink=sink, extras=extras))
    graph = granular(build_trirec_graph()).compile()
    final = asyncio.run(
        graph.ainvoke(episode.initial_state, {"recursion_limit": 1000}, context=episode.context)
    )
    return final, sink


def test_contract_of_every_node(hashing_space):
    extras = {"space": hashing_space, "roles_factory": double_roles()}
    report = check_scenario(get_scenario("trirec"), _config(rounds=2), extras)
    assert report.rounds == 2
    assert set(report.nodes_seen) == set(get_scenario("trirec").nodes)


def test_episode_runs_the_horizon_and_writes_one_metrics_row_per_round(hashing_space):
    final, sink = _run_in_memory(_config(), hashing_space)
    assert final["round"] == 3 and final["done"]
    rows = sink.metrics_rows()
    assert [r["round"] for r in rows] == [0, 1, 2]
    for row in rows:
        assert 0.0 <= row["ndcg@10"] <= 1.0 and 0.0 <= row["dgu"] <= 1.0
        assert row["active_users"] == 6
    # Exposure accumulates over rounds: coverage never shrinks.
    assert rows[0]["coverage"] <= rows[1]["coverage"] <= rows[2]["coverage"]
    slates = final["slates"]
    assert slates.shape == (6, 10) and all(len(set(row)) == 10 for row in slates.tolist())


def test_same_seed_same_events_other_seed_other_events(hashing_space):
    _, first = _run_in_memory(_config(), hashing_space)
    _, second = _run_in_memory(_config(), hashing_space)
    _, other = _run_in_memory(_config(seed=1), hashing_space)
    assert first.all_events() == second.all_events()
    assert first.all_events() != other.all_events()


@pytest.mark.parametrize("roles", [double_roles, None], ids=["doubles", "surrogates"])
def test_one_node_per_round_gives_the_node_graphs_events_and_state(hashing_space, roles):
    fit = ChoiceModelConfig(max_train_samples=2000)
    config = _config(agents="user=surrogate,item=surrogate", population=40, user_fit=fit)
    by_node, node_sink = _run_in_memory(config, hashing_space, roles=roles)
    by_round, round_sink = _run_in_memory(config, hashing_space, per_round, roles=roles)
    assert list(per_round(build_trirec_graph()).nodes) == ["round"]
    assert round_sink.all_events() == node_sink.all_events()
    assert round_sink.metrics_rows() == node_sink.metrics_rows()
    assert by_round["exposure"].total == by_node["exposure"].total
    np.testing.assert_array_equal(by_round["item_exposure"], by_node["item_exposure"])
    np.testing.assert_array_equal(by_round["cohort"].history_sum, by_node["cohort"].history_sum)
    assert by_round["events"] == by_node["events"] and by_round["round"] == by_node["round"]


@pytest.mark.slow
def test_resume_after_a_kill_matches_an_uninterrupted_run(hashing_space, tmp_path):
    config = _config()
    clean = start_run(
        config,
        runs_dir=tmp_path / "clean",
        extras={"space": hashing_space, "roles_factory": double_roles()},
    )
    assert clean.status == "finished"
    # The saver keeps the newest checkpoint and its parent, not one state per node.
    with sqlite3.connect(clean.folder.checkpoint_path) as db:
        assert db.execute("SELECT count(*) FROM checkpoints").fetchone()[0] <= 2

    killed_extras = {
        "space": hashing_space,
        "roles_factory": double_roles(fail_on_call=2),
    }  # dies in round 2
    with pytest.raises(InjectedKill):
        start_run(config, runs_dir=tmp_path / "killed", extras=killed_extras)
    (killed_folder,) = (tmp_path / "killed").iterdir()
    assert _rounds_on_disk(killed_folder / "events.jsonl") == [0]

    resumed = resume_run(
        killed_folder, extras={"space": hashing_space, "roles_factory": double_roles()}
    )
    assert resumed.status == "finished"
    assert round_events(resumed.folder.events_path) == round_events(clean.folder.events_path)
    for name in ("metrics.parquet", "metrics.csv", "summary.json", "manifest.json", "config.yaml"):
        assert (resumed.folder.path / name).is_file()
    assert resumed.folder.read_manifest()["status"] == "finished"
    # Resuming a finished run changes nothing.
    again = resume_run(
        killed_folder, extras={"space": hashing_space, "roles_factory": double_roles()}
    )
    assert again.status == "finished"
    assert round_events(again.folder.events_path) == round_events(clean.folder.events_path)


def test_everyone_leaving_ends_the_episode_early(hashing_space):
    from trirec_doubles import CosineUser, TitleItem

    from recagora.agents.roles.platform import TriRecPlatform
    from recagora.environments.trirec.prepare import Roles

    class Leaver(CosineUser):
        async def reflect(self, cohort, idx, slates, responses, rng):
            from dataclasses import replace

            active = cohort.active.copy()
            active[idx] = False
            return replace(cohort, active=active), [{"kind": "leave"}]

    def build(world):
        return Roles(
            Leaver(world.facts),
            TitleItem(world.facts),
            TriRecPlatform(world.facts),
            ("m",) * len(world.draw.keys),
        )

    sink = MemorySink()
    episode = prepare_trirec(
        _config(rounds=5),
        RunServices(sink=sink, extras={"space": hashing_space, "roles_factory": build}),
    )
    final = asyncio.run(
        build_trirec_graph()
        .compile()
        .ainvoke(episode.initial_state, {"recursion_limit": 100}, context=episode.context)
    )
    assert final["done"] and final["round"] == 1
    assert sink.metrics_rows()[0]["exit_rate"] == 1.0
    assert not np.any(final["cohort"].active)


def _rounds_on_disk(path) -> list[int]:
    return sorted({e["round"] for e in round_events(path) if e.get("kind") == "round_end"})
