"""`recagora run ... --dry-run`: the projection's arithmetic, its accuracy against the real
run on a small TriRec case, and the CLI (fake: warning, no run folder, --resume refused)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recagora.environments.registry import get_scenario
from recagora.experiments.cli.main import main
from recagora.experiments.dry_run import PilotTrace, Snapshot, project
from recagora.experiments.runner.config import build_config


def _config(**fields):
    fields = {"scenario": "trirec", "llm": "fake:", "user_fit.max_train_samples": 2000, **fields}
    return build_config(get_scenario("trirec").config_cls, fields)


def _trace(cohort, active, exits, requests_per_user=2):
    """A pilot whose rounds take 1 s + 0.1 s per active user outside the LLM, and 0.01 s
    per LLM request, round 1 3 s more (the setup); each active user asks 2 requests."""
    snapshots, at, asked, llm_total = [Snapshot(0.0, {})], 0.0, 0, 0.0
    for k, (users, left) in enumerate(zip(active, exits, strict=True)):
        llm_s = 0.01 * requests_per_user * users
        at += 1.0 + 0.1 * users + llm_s + (3.0 if k == 0 else 0.0)
        asked += requests_per_user * users
        llm_total += llm_s
        ledger = {"requests": asked, "uncached_requests": asked, "calls": asked}
        ledger |= {"batch_wall_s": llm_total, "prompt_tokens": 100 * asked, "spec": "fake:"}
        snapshots.append(Snapshot(at, ledger, users, left))
    ended = Snapshot(at + 0.5, dict(snapshots[-1].ledger, model="fake"))
    return PilotTrace(cohort, snapshots, ended)


def test_projection_splits_round_time_and_follows_the_pilots_exit_rate():
    small = _trace(4, active=[4, 4], exits=[0, 0])
    large = _trace(16, active=[16, 12], exits=[4, 0])  # 4 of the 36 active user-rounds left
    projection = project(_config(users=100, rounds=3), [small, large])
    retention = 1 - 4 / 36
    active = 100 * (1 + retention + retention**2)
    assert projection.requests == pytest.approx(2 * active)
    assert projection.prompt_tokens == pytest.approx(200 * active)
    assert projection.setup_s == pytest.approx(3.0)
    expected_wall = 3.0 + 0.5 + 3 * 1.0 + 0.1 * active + 0.01 * 2 * active
    assert projection.wall_s == pytest.approx(expected_wall)
    assert projection.cost_usd == 0.0 and not projection.notes


def test_a_pilot_answered_from_the_cache_says_its_wall_time_is_a_lower_bound():
    trace = _trace(4, active=[4, 4], exits=[0, 0])
    for snapshot in [*trace.snapshots[1:], trace.ended]:
        snapshot.ledger |= {"uncached_requests": 0, "cache_hits": snapshot.ledger["requests"]}
    projection = project(_config(users=4, rounds=2), [trace])
    assert projection.llm_wall_s is None and projection.cache_share == 1.0
    assert "lower bound" in projection.notes[0]


@pytest.mark.slow
def test_the_projection_is_within_20_percent_of_the_real_run():
    """Measured in a fresh interpreter (see dry_run_measure.py for why)."""
    script = Path(__file__).with_name("dry_run_measure.py")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600, check=True
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    projected, real = measured["projected"], measured["real"]
    for key in ("requests", "prompt_tokens", "completion_tokens", "wall_s"):
        assert projected[key] == pytest.approx(real[key], rel=0.2), key


def test_cli_dry_run_warns_about_fake_and_writes_no_run_folder(tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = ["run", "trirec", "--dry-run", "--llm", "fake:", "--agents", "user=surrogate,item=llm"]
    argv += ["--users", "4", "--rounds", "2", "--runs-dir", str(runs)]
    assert main([*argv, "--set", "user_fit.max_train_samples=2000"]) == 0
    out, err = capsys.readouterr()
    assert "dry run: trirec, 4 users x 2 rounds" in out and "LLM requests" in out
    assert err.startswith("warning: --dry-run with fake: projects the plumbing only")
    assert not runs.exists()


def test_cli_dry_run_with_resume_is_refused_in_one_line(tmp_path, capsys):
    assert main(["run", "--resume", "x", "--dry-run", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--resume continues a run with its saved config" in err and "\n" not in err
