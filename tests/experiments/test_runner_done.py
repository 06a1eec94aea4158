"""The runner calls an episode finished only when its own state says so, never because
the graph stopped: a graph that ends early is reported, not taken for a finished run."""

from __future__ import annotations

import asyncio
import json
from typing import TypedDict

import pytest
from langgraph.graph import END, START, StateGraph

from recagora.environments.scenario import Episode, ScenarioSpec
from recagora.experiments.runner.folder import RunFolder
from recagora.experiments.runner.runner import EpisodeIncomplete, _drive


class _State(TypedDict):
    round: int
    done: bool


def _spec(ends_done: bool, plays: list | None = None) -> ScenarioSpec:
    def play(state: _State) -> dict:
        if plays is not None:
            plays.append(state["round"])
        return {"round": state["round"] + 1, "done": ends_done}

    def build():
        graph = StateGraph(_State)
        graph.add_node("play", play)
        graph.add_edge(START, "play")
        graph.add_edge("play", END)
        return graph

    return ScenarioSpec("stub", "v0", "", object, build, lambda c, s: None, _State)


def _folder(tmp_path) -> RunFolder:
    (tmp_path / "manifest.json").write_text(json.dumps({"run_id": "abc"}))
    return RunFolder(tmp_path)


def test_a_graph_that_stops_before_done_is_incomplete(tmp_path):
    episode = Episode(context=None, initial_state={"round": 0, "done": False})
    with pytest.raises(EpisodeIncomplete, match="stopped at round 1"):
        asyncio.run(_drive(_spec(ends_done=False), _folder(tmp_path), episode, resume=False))


def test_a_graph_that_ends_done_is_finished_and_a_resume_of_it_runs_nothing(tmp_path):
    folder = _folder(tmp_path)
    episode = Episode(context=None, initial_state={"round": 0, "done": False})
    plays: list[int] = []
    asyncio.run(_drive(_spec(True, plays), folder, episode, resume=False))
    asyncio.run(_drive(_spec(True, plays), folder, episode, resume=True))
    assert plays == [0]  # the resume found the episode done and played nothing
