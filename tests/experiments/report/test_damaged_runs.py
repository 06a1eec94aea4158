"""A killed, half-written or older run folder: the report says what is missing and
renders the rest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from report_helpers import SMALL_RUN, page_of, section

from recagora.experiments.report.build import report_run
from recagora.experiments.runner.folder import RunFolder


def _copy(run, tmp_path):
    target = tmp_path / run.name
    shutil.copytree(run, target)
    return target


def test_a_torn_log_and_missing_files_are_named_and_the_rest_rendered(small_run, tmp_path):
    run = _copy(small_run, tmp_path)
    lines = (run / "events.jsonl").read_text().splitlines(keepends=True)
    second = next(n for n, line in enumerate(lines) if '"round": 1' in line)
    cut = lines[: second + 5]  # round 2 begun, never closed, its last line torn by the kill
    (run / "events.jsonl").write_text("".join(cut) + lines[second + 5][:17])
    for name in ("summary.json", "llm_ledger.json", "config.yaml"):
        (run / name).unlink()
    manifest = json.loads((run / "manifest.json").read_text())
    (run / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    _, path = report_run(RunFolder(run))
    page = page_of(path)
    problems = " | ".join(page["problems"])
    for says in (
        "summary.json is missing",
        "config.yaml is missing",
        "llm_ledger.json is missing",
        "round 2 was cut short",
        "'running' with 1 complete round",
    ):
        assert says in problems, problems
    metrics = section(page, "metrics")
    assert {
        row["round"] for row in metrics["spec"]["datasets"][metrics["spec"]["data"]["name"]]
    } == {1}
    users = section(page, "users")
    assert any(len(e["rounds"]) == 2 for e in users["entities"])  # round 2 as far as written


def test_a_damaged_line_stops_the_events_there_and_says_so(small_run, tmp_path):
    run = _copy(small_run, tmp_path)
    lines = (run / "events.jsonl").read_text().splitlines(keepends=True)
    lines[3] = "{not json\n"
    (run / "events.jsonl").write_text("".join(lines))
    _, path = report_run(RunFolder(run))
    page = page_of(path)
    assert any("line 4 is not a valid event" in p for p in page["problems"])


def test_an_older_run_without_events_or_stages_still_renders(tmp_path):
    run = tmp_path / "old-run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"scenario": "trirec", "seed": 0}))
    (run / "events.jsonl").write_text(
        json.dumps({"kind": "pick", "round": 0, "user": "u1", "item": 3})
        + "\n"
        + json.dumps({"kind": "round_end", "round": 0})
        + "\n"
    )
    _, path = report_run(RunFolder(run))
    page = page_of(path)
    users = section(page, "users")
    assert users["entities"][0]["rounds"][0]["blocks"] == [{"title": "pick", "kv": [["item", 3]]}]
    assert "config.yaml is missing" in page["problems"]


@pytest.mark.slow
def test_report_of_a_run_killed_by_sigkill_mid_episode(tmp_path):
    """A real kill (as tests/experiments/test_kill_resume.py does): SIGKILL once round 1
    is on disk; the report renders round 1 and names what the kill left missing."""
    argv = list(SMALL_RUN)
    argv[argv.index("--rounds") + 1] = "30"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "recagora.experiments.cli.main",
            *argv,
            "--agents",
            "user=surrogate,item=surrogate",
            "--runs-dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not _round_on_disk(tmp_path):
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    (folder,) = tmp_path.iterdir()
    _, path = report_run(RunFolder(folder))
    page = page_of(path)
    assert "summary.json is missing" in page["problems"]
    assert any("'running'" in p for p in page["problems"])
    assert section(page, "metrics")["spec"] is not None


def _round_on_disk(root) -> bool:
    logs = list(root.glob("*/events.jsonl"))
    return bool(logs) and '"kind": "round_end"' in logs[0].read_text()
