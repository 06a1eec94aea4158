"""`recagora report RUN --html`: one self-contained file holding the run's charts, journeys,
items and ledger; bad input is one line and exit 2."""

from __future__ import annotations

import json
import re

from report_helpers import page_of, section

from recagora.experiments.cli.main import main
from recagora.experiments.runner.events import read_events

MAX_DEMO_BYTES = 2_000_000


def test_report_is_one_self_contained_file_with_everysection(small_run, capsys):
    assert main(["report", str(small_run), "--html"]) == 0
    link = capsys.readouterr().out.strip().splitlines()[-1]
    path = small_run / "report.html"
    assert link == f"report: {path.absolute().as_uri()}"
    html = path.read_text(encoding="utf-8")
    markup = re.sub(r"(<script[^>]*>).*?</script>", r"\1</script>", html, flags=re.S)
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", markup), "not inlined"
    assert "vegaEmbed" in html and path.stat().st_size < MAX_DEMO_BYTES
    page = page_of(path)
    ids = [s["id"] for s in page["sections"]]
    assert ids == ["overview", "metrics", "exposure", "users", "items", "ledger"]
    assert page["problems"] == []


def test_journey_shows_what_the_user_saw_scored_was_shown_and_consumed(small_run):
    main(["report", str(small_run), "--html"])
    users = section(page_of(small_run / "report.html"), "users")
    events = list(read_events(small_run / "events.jsonl"))
    assert users["total"] == 4 and len(users["entities"]) == 4
    journey = users["entities"][0]
    first = journey["rounds"][0]
    table, outcome = first["blocks"][0], dict(first["blocks"][1]["kv"])
    ads = _event(events, "ads", journey["key"], 0)
    rerank = _event(events, "rerank", journey["key"], 0)
    respond = _event(events, "respond", journey["key"], 0)
    assert [row[0] for row in table["rows"]] == ads["item"]  # candidates in the order seen
    assert [row[1] for row in table["rows"]] == [
        t[:299] + "…" if len(t) > 300 else t for t in ads["text"]
    ]
    assert [row[2] for row in table["rows"]] == _event(events, "score", journey["key"], 0)["scores"]
    assert [row[3] for row in table["rows"]] == [rerank["slate"].index(i) + 1 for i in ads["item"]]
    assert outcome["final slate"] == rerank["slate"] and outcome["satisfaction"] == respond["q"]
    consumed = [row[0] for row in table["rows"] if row[4] == "yes"]
    assert consumed == ([] if respond["chosen"] == -1 else [respond["chosen"]])


def test_item_view_counts_every_slate_and_keeps_the_promotions(small_run):
    main(["report", str(small_run), "--html"])
    items = section(page_of(small_run / "report.html"), "items")
    events = list(read_events(small_run / "events.jsonl"))
    slates = [i for e in events if e.get("kind") == "rerank" for i in e["slate"]]
    shown = {e["key"]: sum(p["shown"] for p in e["series"]) for e in items["entities"]}
    assert sum(shown.values()) == len(slates) and shown[
        str(max(set(slates), key=slates.count))
    ] == max(slates.count(i) for i in set(slates))
    assert any(e["rounds"][0]["blocks"][0]["rows"] for e in items["entities"])


def test_the_ledger_tab_holds_the_runs_llm_totals(llm_run, small_run):
    main(["report", str(llm_run), str(small_run), "--html"])
    ledger = section(page_of(llm_run / "report.html"), "ledger")
    totals = dict(ledger["parts"][0]["kv"])
    saved = json.loads((llm_run / "llm_ledger.json").read_text())
    assert (
        totals["requests"] == saved["requests"] > 0 and totals["cache_hits"] == saved["cache_hits"]
    )
    assert ledger["parts"][2]["spec"] is not None  # the latency histogram
    no_llm = section(page_of(small_run / "report.html"), "ledger")
    assert "No LLM calls" in no_llm["text"]


def test_output_flag_and_bad_input_are_one_line_exit_2(small_run, tmp_path, capsys):
    target = tmp_path / "out" / "mine.html"
    assert main(["report", str(small_run), "--html", "--output", str(target)]) == 0
    assert target.is_file()
    cases = [
        (["report", str(small_run)], "--html"),
        (["report", str(tmp_path / "nope"), "--html", "--runs-dir", str(tmp_path)], "no run"),
        (["report", str(small_run), str(small_run), "--html"], "named twice"),
        (["report", str(small_run), "--html", "--max-entities", "0"], "max-entities"),
    ]
    for argv, says in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        error = capsys.readouterr().err.strip()
        assert says in error and "\n" not in error, error


def _event(events: list[dict], kind: str, user: str, round_index: int) -> dict:
    return next(
        e
        for e in events
        if e.get("kind") == kind and e.get("user") == user and e["round"] == round_index
    )
