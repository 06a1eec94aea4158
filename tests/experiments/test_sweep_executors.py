"""Sweeps on an executor: seed repeats, the local executor's table, and the same table from
Ray tasks on a local 2-worker cluster (skipped where Ray is not installed); bad executor
input is one line and writes nothing."""

from __future__ import annotations

import importlib.util

import pytest

from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.executors.ray_runs import RayUnavailable
from recagora.experiments.runner.config import build_config
from recagora.experiments.runner.sweep import run_arms, seed_repeats
from recagora.item_space.errors import ConfigError

HAS_RAY = importlib.util.find_spec("ray") is not None
ARMS = {"fair": ["platform.trirec.alpha_max=0.2"], "accurate": ["platform.trirec.alpha_max=0.9"]}


def _base() -> TrirecConfig:
    fields = {
        "agents": "user=surrogate,item=surrogate",
        "population": 60,
        "rounds": 2,
        "user_fit.max_train_samples": 2000,
    }
    return build_config(TrirecConfig, fields)


def test_seed_repeats_play_every_arm_once_per_seed():
    runs = seed_repeats(ARMS, [0, 1])
    assert list(runs) == ["fair/seed=0", "fair/seed=1", "accurate/seed=0", "accurate/seed=1"]
    assert runs["accurate/seed=1"] == ["platform.trirec.alpha_max=0.9", "seed=1"]


def test_an_unknown_executor_is_one_line_and_writes_nothing(tmp_path):
    with pytest.raises(ConfigError, match="unknown executor 'spark'"):
        run_arms(_base(), ARMS, tmp_path / "out", executor="spark")
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(HAS_RAY, reason="checks the message shown where Ray is missing")
def test_ray_missing_is_one_line_and_writes_nothing(tmp_path):
    with pytest.raises(RayUnavailable, match=r"pip install -e '\.\[ray\]'"):
        run_arms(_base(), ARMS, tmp_path / "out", executor="ray")
    assert not (tmp_path / "out").exists()


def test_ray_tasks_give_the_local_table(ray_cluster, hashing_space, tmp_path):
    extras = {"space": hashing_space}
    local = run_arms(_base(), ARMS, tmp_path / "local", extras=extras).table
    remote = run_arms(_base(), ARMS, tmp_path / "ray", extras=extras, executor="ray").table
    assert list(remote["arm"]) == ["fair", "accurate"]
    metrics = [c for c in local.columns if c != "run"]
    assert remote[metrics].equals(local[metrics])
    assert len(list((tmp_path / "ray" / "runs").iterdir())) == 2


def test_an_unreachable_ray_address_is_one_line_and_writes_nothing(tmp_path):
    pytest.importorskip("ray")
    import ray

    if ray.is_initialized():
        ray.shutdown()
    with pytest.raises(RayUnavailable, match="cannot start or reach a Ray cluster at"):
        run_arms(_base(), ARMS, tmp_path / "out", executor="ray", ray_address="127.0.0.1:1")
    assert not (tmp_path / "out").exists()
