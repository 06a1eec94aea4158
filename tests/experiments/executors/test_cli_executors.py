"""`recagora run --shards/--executor` and `recagora sweep`: the flags as config fields, the
arm and seed syntax, a sharded run on Ray actors equal to the local executor's from the
command line, and a sweep's one table."""

from __future__ import annotations

import importlib.util

import pandas as pd
import pytest

from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.cli.main import main
from recagora.experiments.cli.run_cmd import execution_flags
from recagora.experiments.cli.sweep_cmd import parse_arms, parse_seeds, seed_summary
from recagora.item_space.errors import ConfigError

HAS_RAY = importlib.util.find_spec("ray") is not None
SMALL = [
    "--agents",
    "user=surrogate,item=surrogate",
    "--population",
    "40",
    "--rounds",
    "2",
    "--set",
    "user_fit.max_train_samples=2000",
]


def test_ray_without_shards_plays_one_shard_per_worker():
    assert execution_flags(None, "ray", None, 3) == {
        "execution.shards": 3,
        "execution.executor": "ray",
        "execution.workers": 3,
    }
    assert execution_flags(4, None, None, None) == {"execution.shards": 4}
    assert execution_flags(None, None, None, None) == {}


def test_ray_only_flags_need_the_ray_executor():
    with pytest.raises(ConfigError, match="need --executor ray"):
        execution_flags(None, None, "auto", None)
    with pytest.raises(ConfigError, match="apply to --executor ray only"):
        execution_flags(2, "local", None, 4)


def test_arms_split_at_commas_but_an_agents_value_keeps_its_own():
    arms = parse_arms(
        [
            "fair=platform.trirec.alpha_max=0.2,seed=3",
            "llm=agents=user=llm,item=surrogate,rounds=4",
            "fair=population=10",
        ],
        TrirecConfig,
    )
    assert arms == {
        "fair": ["platform.trirec.alpha_max=0.2", "seed=3", "population=10"],
        "llm": ["agents=user=llm,item=surrogate", "rounds=4"],
    }
    assert parse_arms([], TrirecConfig) == {"base": []}
    assert parse_seeds("0, 2,5") == [0, 2, 5]


def _events(folder) -> list[str]:
    return [line for line in (folder / "events.jsonl").read_text().splitlines()]


@pytest.mark.slow  # ~2 min on 2 loaded cores: each actor loads the CLI's MiniLM item space
@pytest.mark.skipif(not HAS_RAY, reason="needs the ray extra")
def test_run_on_ray_from_the_cli_equals_the_local_shards(tmp_path):
    import ray

    try:
        local, remote = tmp_path / "local", tmp_path / "ray"
        assert (
            main(["run", "trirec", *SMALL, "--shards", "2", "--runs-dir", str(local), "--quiet"])
            == 0
        )
        argv = ["run", "trirec", *SMALL, "--executor", "ray", "--workers", "2", "--quiet"]
        assert main([*argv, "--runs-dir", str(remote)]) == 0
        ((local_run,), (remote_run,)) = (list(local.iterdir()), list(remote.iterdir()))
        assert _events(remote_run) == _events(local_run)
        assert "shards: 2" in (remote_run / "config.yaml").read_text()
    finally:
        ray.shutdown()


@pytest.mark.slow  # two CLI runs, each building the MiniLM item space
def test_a_seed_sweep_gives_one_table_row_per_arm_and_seed(tmp_path, capsys):
    argv = ["sweep", "trirec", *SMALL, "--rounds", "1", "--seeds", "0,1"]
    argv += ["--arm", "fair=platform.trirec.alpha_max=0.2"]
    assert main([*argv, "--out", str(tmp_path / "sweep")]) == 0
    table = pd.read_csv(tmp_path / "sweep" / "comparison.csv")
    assert list(table["arm"]) == ["fair/seed=0", "fair/seed=1"]
    assert len(list((tmp_path / "sweep" / "runs").iterdir())) == 2
    assert "| fair/seed=0 |" in capsys.readouterr().out
    by_arm = pd.read_csv(tmp_path / "sweep" / "comparison_by_arm.csv")
    assert list(by_arm["arm"]) == ["fair"] and by_arm["seeds"].tolist() == [2]


def test_the_seed_summary_gives_each_arms_mean_and_std():
    table = pd.DataFrame(
        {
            "arm": ["a/seed=0", "a/seed=1", "b/seed=0", "b/seed=1"],
            "ndcg@10": [0.2, 0.4, 0.5, 0.5],
            "run": ["r1", "r2", "r3", "r4"],
        }
    )
    summary = seed_summary(table)
    assert list(summary["arm"]) == ["a", "b"] and list(summary["seeds"]) == [2, 2]
    assert summary["ndcg@10 mean"].tolist() == pytest.approx([0.3, 0.5])
    assert summary["ndcg@10 std"].tolist() == pytest.approx([0.1414214, 0.0])
