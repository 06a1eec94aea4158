"""The grounded loop (MGFRec): contract, guard, grounding, determinism, bad replies."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from recagora.agents.llm import open_llm
from recagora.agents.surrogate.choice_model import ChoiceModelConfig
from recagora.environments.checks import check_scenario
from recagora.environments.grounded.config import GroundedConfig
from recagora.environments.grounded.scenario import GROUNDED
from recagora.environments.registry import get_scenario
from recagora.environments.scenario import MemorySink, RunServices
from recagora.item_space.errors import ConfigError


@pytest.fixture(scope="module")
def video_games_world():
    """Video_Games with a hashing item space (no MiniLM load) and a small choice-model fit."""
    from learned_user_fixture import small_learned_user

    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.embedding import HashingEmbedder
    from recagora.item_space.space import ItemSpace

    dataset = load_dataset("video-games")
    space = ItemSpace.build(dataset.catalog, embedder=HashingEmbedder(), use_cache=False)
    # The default critic (feedback=learned) on a one-epoch fit: these tests are about the loop.
    return {"dataset": dataset, "space": space, "user_model": small_learned_user(dataset, space)}


def _config(**overrides) -> GroundedConfig:
    values = {
        "users": 6,
        "rounds": 3,
        "user_fit": ChoiceModelConfig(max_train_samples=2000),
        **overrides,
    }
    return GroundedConfig(**values)


def _play(config: GroundedConfig, extras: dict, llm=None) -> MemorySink:
    sink = MemorySink()
    episode = GROUNDED.prepare(config, RunServices(sink=sink, llm=llm, extras=extras))
    graph = GROUNDED.build_graph().compile()
    asyncio.run(
        graph.ainvoke(episode.initial_state, {"recursion_limit": 200}, context=episode.context)
    )
    return sink


def _reasoner_script(title: str, action: str = "search"):
    """fake: LLM whose reasoner always names `title`; the critic likes item 1."""

    def reply(messages, schema):
        if schema and "action" in schema.get("properties", {}):
            return json.dumps({"thought": "t", "action": action, "title": title})
        return json.dumps({"fits": [1], "misfits": [2], "feedback": "more like 1"})

    return reply


def test_registered_and_contract_holds(video_games_world):
    assert get_scenario("grounded") is GROUNDED
    report = check_scenario(GROUNDED, _config(), extras=dict(video_games_world))
    assert report.rounds >= 1
    assert {"reason", "ground", "feedback", "record_round"} <= set(report.nodes_seen)


def test_loop_stops_at_the_guard_and_writes_final_metrics(video_games_world):
    world = dict(video_games_world)
    title = world["dataset"].catalog[0].title
    llm = open_llm("fake:", fake_reply_fn=_reasoner_script(title), use_cache=False)
    sink = _play(_config(agents="reasoner=llm,feedback=llm", rounds=3), world, llm)
    rows = sink.metrics_rows()
    assert [r["round"] for r in rows] == [0, 1, 2]  # never answered on its own: the guard ends it
    assert rows[-1]["answered"] == 6 and rows[-1]["mean_answer_round"] == 3
    assert {"final_hr@10", "final_ndcg@5", "shortlist_hr@10", "target_rank_median"} <= set(rows[-1])


def test_grounding_a_known_title_returns_it_first(video_games_world):
    world = dict(video_games_world)
    catalog = world["dataset"].catalog
    known = 123
    llm = open_llm(
        "fake:", fake_reply_fn=_reasoner_script(catalog[known].title, "answer"), use_cache=False
    )
    sink = _play(_config(agents="reasoner=llm,feedback=surrogate", rounds=2), world, llm)
    turns = [e for e in sink.all_events() if e["kind"] == "grounded_turn"]
    in_history = {e["user"] for e in turns if known not in e["grounded"]}
    assert len(in_history) < len(turns)
    for event in turns:
        if event["user"] not in in_history:
            assert event["grounded"][0] == known and event["best_score"] == pytest.approx(
                1.0, abs=1e-5
            )
    assert sink.metrics_rows()[0]["answered"] == 6


def test_ungroundable_reply_is_counted_and_falls_back(video_games_world):
    world = dict(video_games_world)
    llm = open_llm("fake:", fake_replies=["not json at all"], use_cache=False)
    sink = _play(_config(agents="reasoner=llm,feedback=surrogate", rounds=2), world, llm)
    rows = sink.metrics_rows()
    assert rows[0]["reply_failures"] == 6 and rows[0]["active_users"] == 6
    turns = [e for e in sink.all_events() if e["kind"] == "grounded_turn"]
    assert all(e["reply_failed"] and e["query"] == "(vector query)" for e in turns)
    assert all(min(e["grounded"]) >= 0 for e in turns)


def test_same_seed_and_fake_llm_give_identical_events(video_games_world):
    world = dict(video_games_world)
    title = world["dataset"].catalog[7].title
    runs = []
    for _ in range(2):
        llm = open_llm("fake:", fake_reply_fn=_reasoner_script(title), use_cache=False)
        runs.append(_play(_config(agents="reasoner=llm,feedback=llm", seed=3), world, llm))
    strip = lambda events: [{k: v for k, v in e.items() if k != "llm"} for e in events]  # noqa: E731
    assert strip(runs[0].all_events()) == strip(runs[1].all_events())
    assert runs[0].metrics_rows() == runs[1].metrics_rows()
    other = _play(
        _config(agents="reasoner=llm,feedback=llm", seed=4),
        world,
        open_llm("fake:", fake_reply_fn=_reasoner_script(title), use_cache=False),
    )
    users = lambda sink: {e["user"] for e in sink.all_events() if e["kind"] == "grounded_turn"}  # noqa: E731
    assert users(other) != users(runs[0])


def test_surrogate_one_round_equals_the_shortlist(video_games_world):
    sink = _play(_config(rounds=1, users=20), dict(video_games_world))
    last = sink.metrics_rows()[-1]
    assert (
        last["final_hr@10"] == last["shortlist_hr@10"]
        and last["final_ndcg@10"] == last["shortlist_ndcg@10"]
    )


def test_surrogate_query_moves_toward_liked_items(video_games_world):
    from recagora.agents.reasoner import SurrogateReasoner, Turn

    vectors = video_games_world["space"].catalog.vectors
    reasoner = SurrogateReasoner(vectors)
    history, liked = (1, 2, 3), (500, 501)
    before = reasoner.query_vector(history, [])
    after = reasoner.query_vector(history, [Turn("q", (500, 501, 9), "f", liked, (9,))])
    centroid = vectors[list(liked)].mean(axis=0)
    assert float(after @ centroid) > float(before @ centroid)
    assert np.isclose(np.linalg.norm(after), 1.0, atol=1e-5)


def test_bad_agents_spec_is_one_line_error():
    with pytest.raises(ConfigError, match="did you mean 'reasoner'"):
        GroundedConfig(agents="reasonr=llm")
