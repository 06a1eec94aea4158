"""Sharded TriRec episodes: the shard layout and merges, the local executor against Ray
actors on a local 2-worker cluster (the same events and metrics, byte for byte), and a
sharded run interrupted mid-episode resuming to the uninterrupted run's events."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from recagora.agents.roles.base import ExposureState, Promotions
from recagora.environments.trirec.cohort import cohort_slice, concat_cohorts
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.shards import (
    merge_exposure,
    merge_promotions,
    shard_bounds,
    shard_seed,
)
from recagora.experiments.runner.config import build_config
from recagora.experiments.runner.events import read_events
from recagora.experiments.runner.runner import resume_run, start_run
from recagora.item_space.errors import RunPaused

HAS_RAY = importlib.util.find_spec("ray") is not None
RUN_LEVEL = {"run_started", "run_resumed", "run_paused", "run_finished", "run_failed"}


def _config(shards: int, executor: str = "local", rounds: int = 2) -> TrirecConfig:
    fields = {
        "agents": "user=surrogate,item=surrogate",
        "population": 200,
        "rounds": rounds,
        "seed": 5,
        "user_fit.max_train_samples": 2000,
        "platform.trirec.users_per_step": 16,
        "execution.shards": shards,
        "execution.executor": executor,
    }
    return build_config(TrirecConfig, fields)


def _episode(folder: Path) -> list[dict]:
    """Events without sequence numbers and run-level markers (they differ by design)."""
    return [
        {k: v for k, v in event.items() if k != "seq"}
        for event in read_events(folder / "events.jsonl")
        if event.get("kind") not in RUN_LEVEL
    ]


def test_shards_cover_the_cohort_in_order_with_sizes_one_apart():
    bounds = shard_bounds(10, 3)
    assert bounds == [(0, 3), (3, 6), (6, 10)]
    assert shard_bounds(2, 2) == [(0, 1), (1, 2)]


def test_each_shard_has_its_own_seed():
    seeds = [shard_seed(7, s, 3).generate_state(2).tolist() for s in range(3)]
    assert len({tuple(seed) for seed in seeds}) == 3
    assert shard_seed(7, 1, 3).generate_state(2).tolist() == seeds[1]  # stable


def test_the_merged_exposure_is_the_snapshot_plus_every_shards_increment():
    start = ExposureState(np.array([1.0, 2.0]), 3.0)
    after = [ExposureState(np.array([1.5, 2.0]), 3.5), ExposureState(np.array([1.0, 4.0]), 5.0)]
    merged = merge_exposure(start, after)
    assert merged.group_weight.tolist() == [1.5, 4.0] and merged.total == 5.5


def test_merged_promotions_keep_every_text_where_it_was():
    a = Promotions(("", "x", "y"), np.array([[1, 2], [0, 2]], np.int32))
    b = Promotions(("", "y", "z", "unused"), np.array([[2, 1]], np.int32))
    merged = merge_promotions([a, b])
    assert merged.texts == [["x", "y"], ["", "y"], ["z", "y"]]
    assert "unused" not in merged.table


def test_slicing_a_cohort_into_shards_and_joining_them_gives_it_back(hashing_space, tmp_path):
    from recagora.environments.scenario import RunServices
    from recagora.environments.trirec.prepare import prepare_trirec

    episode = prepare_trirec(_config(0), RunServices(sink=None, extras={"space": hashing_space}))
    cohort = episode.initial_state["cohort"]
    joined = concat_cohorts([cohort_slice(cohort, a, b) for a, b in shard_bounds(len(cohort), 3)])
    assert joined.keys == cohort.keys and joined.histories == cohort.histories
    assert np.array_equal(joined.history_sum, cohort.history_sum)


@pytest.fixture(scope="module")
def local_run(hashing_space, tmp_path_factory):
    """A 200-user x 2-round episode in 2 shards, local executor."""
    runs = tmp_path_factory.mktemp("local")
    return start_run(_config(2), runs_dir=runs, extras={"space": hashing_space})


def test_a_sharded_run_finishes_with_every_user_in_every_round(local_run):
    events = _episode(local_run.folder.path)
    assert local_run.status == "finished"
    for r in (0, 1):
        rounds = [e for e in events if e.get("round") == r]
        assert sum(e["kind"] == "rerank" for e in rounds) == 200
        assert sum(e["kind"] == "exposure" for e in rounds) == 2  # one per shard


@pytest.mark.skipif(not HAS_RAY, reason="needs the ray extra")
def test_ray_actors_give_the_local_executors_events_and_metrics(
    ray_cluster, local_run, hashing_space, tmp_path
):
    remote = start_run(_config(2, "ray"), runs_dir=tmp_path, extras={"space": hashing_space})
    assert remote.status == "finished"
    local_events = (local_run.folder.path / "events.jsonl").read_bytes()
    assert (remote.folder.path / "events.jsonl").read_bytes() == local_events
    local_metrics = (local_run.folder.path / "metrics.csv").read_bytes()
    assert (remote.folder.path / "metrics.csv").read_bytes() == local_metrics
    assert ray_cluster.available_resources().get("CPU") == 2.0  # no actor left holding a CPU


def test_an_interrupted_sharded_run_resumes_to_the_uninterrupted_events(
    local_run, hashing_space, tmp_path
):
    def stop_after_first_round(round_index, metrics):
        if round_index == 0:  # round 0 is on disk, its checkpoint is not
            raise RunPaused("stopped by the test")

    paused = start_run(
        _config(2),
        runs_dir=tmp_path,
        extras={"space": hashing_space},
        on_round=stop_after_first_round,
    )
    assert paused.status == "paused"
    resumed = resume_run(paused.folder.path, extras={"space": hashing_space})
    assert resumed.status == "finished"
    assert _episode(resumed.folder.path) == _episode(local_run.folder.path)
