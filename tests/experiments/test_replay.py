"""The terminal replay renders events as tables of readable values, never raw JSON."""

from __future__ import annotations

import json

from rich.console import Console

from recagora.experiments.runner.folder import RunFolder
from recagora.experiments.runner.replay import _readable, replay_events

EVENTS = [
    {"seq": 0, "kind": "run_start", "round": None, "config": {"alpha": 0.3, "users": 2}},
    {"seq": 1, "kind": "round_start", "round": 0, "active": 2},
    {"seq": 2, "round": 0, "stage": "rerank", "user": "u1", "slate": [4, 2, 9],
     "score": 0.123456, "extra": {"moved": [1, 2]}},
    {"seq": 3, "round": 0, "stage": "rerank", "user": "u2", "slate": [1, 3, 5],
     "score": 0.5, "extra": {"moved": []}},
    {"seq": 4, "kind": "round_metrics", "round": 0, "ndcg@5": 0.41234, "left": 0},
]  # fmt: skip


def test_values_read_as_text():
    assert _readable(0.123456) == "0.1235"
    assert _readable([4, 2, 9]) == "[4, 2, 9]"
    assert _readable({"moved": [1, 2], "ok": True}) == "moved=[1, 2], ok=true"
    assert _readable([{"a": 1}, {"a": 2}]) == "[a=1; a=2]"


def test_replay_shows_tables_without_json(tmp_path):
    folder = RunFolder(tmp_path)
    folder.events_path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    console = Console(record=True, width=140)
    assert replay_events(folder, console) == 5
    shown = console.export_text()
    assert "round 1 - rerank (2 events)" in shown
    assert "0.1235" in shown and "extra=(moved=[1, 2])" in shown and "alpha=0.3" in shown
    assert '{"' not in shown and '": ' not in shown


def test_replay_filters_one_user(tmp_path):
    folder = RunFolder(tmp_path)
    folder.events_path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    console = Console(record=True, width=140)
    assert replay_events(folder, console, only_user="u2") == 1
    assert "u2" in console.export_text() and "u1" not in console.export_text()
