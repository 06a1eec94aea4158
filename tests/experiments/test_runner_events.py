"""The event log writes each round exactly once, even across a kill and a re-run."""

from __future__ import annotations

import pytest

from recagora.experiments.runner.events import (
    CorruptEventLog,
    EventLog,
    read_events,
    round_events,
)


def _events(round_index: int, n: int = 3) -> list[dict]:
    return [{"round": round_index, "stage": "x", "user": str(u)} for u in range(n)]


def test_rounds_are_written_once(tmp_path):
    log = EventLog(tmp_path / "events.jsonl")
    assert log.write_round(0, _events(0))
    assert not log.write_round(0, _events(0))  # a re-run node: skipped
    assert log.write_round(1, _events(1))
    rows = list(read_events(tmp_path / "events.jsonl"))
    assert [r["seq"] for r in rows] == list(range(8))
    assert sum(r.get("kind") == "round_end" for r in rows) == 2


def test_reopened_log_knows_its_rounds_and_continues_seq(tmp_path):
    path = tmp_path / "events.jsonl"
    EventLog(path).write_round(0, _events(0))
    again = EventLog(path)
    assert again.complete_rounds == {0}
    assert not again.write_round(0, _events(0))
    again.write_round(1, _events(1))
    assert [r["seq"] for r in read_events(path)] == list(range(8))


def test_a_round_cut_short_by_a_kill_is_truncated_and_rewritten(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.write_once({"kind": "run_started"})
    log.write_round(0, _events(0))
    with path.open("a") as handle:  # a kill in the middle of round 1: two lines, the last one torn
        handle.write('{"seq": 5, "round": 1, "stage": "x", "user": "0"}\n{"seq": 6, "rou')
    reopened = EventLog(path)
    assert reopened.complete_rounds == {0}
    reopened.write_round(1, _events(1))
    assert round_events(path) == round_events_of_clean_run(tmp_path / "clean.jsonl")


def round_events_of_clean_run(path):
    log = EventLog(path)
    log.write_once({"kind": "run_started"})
    log.write_round(0, _events(0))
    log.write_round(1, _events(1))
    return round_events(path)


def test_a_damaged_line_before_the_end_is_refused_and_nothing_is_cut(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog(path)
    log.write_round(0, _events(0))
    log.write_round(1, _events(1))
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = '{"seq": 2, "round": 0, "sta\n'  # damaged in the middle, not torn by a kill
    path.write_text("".join(lines))
    before = path.read_bytes()
    with pytest.raises(CorruptEventLog, match="line 3"):
        EventLog(path)
    assert path.read_bytes() == before  # the later rounds are still there
    with pytest.raises(CorruptEventLog, match="line 3"):
        list(read_events(path))


def test_a_torn_last_line_is_skipped_by_readers_and_repaired_by_the_writer(tmp_path):
    path = tmp_path / "events.jsonl"
    EventLog(path).write_round(0, _events(0))
    with path.open("ab") as handle:
        handle.write(b'{"seq": 4, "kind": "run_fin')
    assert [e["seq"] for e in read_events(path)] == [0, 1, 2, 3]
    reopened = EventLog(path)
    assert reopened.complete_rounds == {0}
    assert path.read_bytes().endswith(b"\n")
    assert [e["seq"] for e in read_events(path)] == [0, 1, 2, 3]


def test_binary_garbage_as_the_last_line_is_a_torn_line(tmp_path):
    path = tmp_path / "events.jsonl"
    EventLog(path).write_round(0, _events(0))
    with path.open("ab") as handle:
        handle.write(b"\xff\xfe\x00garbage\n")
    assert EventLog(path).complete_rounds == {0}
