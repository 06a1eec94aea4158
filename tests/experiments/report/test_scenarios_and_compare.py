"""The report for PaperEval and grounded runs, several runs side by side, and the seeded
sample that keeps a large run's report small."""

from __future__ import annotations

import pytest
from report_helpers import page_of, section

from recagora.experiments.cli.main import main
from recagora.experiments.report.compare import varying_fields
from recagora.experiments.report.journeys import user_journeys


@pytest.mark.slow  # a whole PaperEval day (every paper judged twice by the fake: LLM)
def test_papereval_report_ranks_every_judged_paper_with_its_references(tmp_path):
    from recagora.item_space.datasets import shared_data_dir

    if not (shared_data_dir() / "iclr-openreview").is_dir():
        pytest.skip("shared iclr-openreview data not present (set RECAGORA_SHARED_DATA)")
    argv = [
        "run",
        "papereval",
        "--llm",
        "fake:",
        "--rounds",
        "1",
        "--quiet",
        "--runs-dir",
        str(tmp_path),
    ]
    assert main(argv) == 0
    (run,) = tmp_path.iterdir()
    assert main(["report", str(run), "--html"]) == 0
    page = page_of(run / "report.html")
    ranking, papers = section(page, "ranking"), section(page, "papers")
    scores = [row[3] for row in ranking["rows"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == papers["total"] > 0
    judged = papers["entities"][0]["rounds"][0]["blocks"][0]
    labels = [label for label, _ in judged["kv"]]
    assert judged["title"] == "judgement" and {"keyphrase", "references", "score"} <= set(labels)
    assert dict(section(page, "ledger")["parts"][0]["kv"])["requests"] > 0


def test_grounded_turns_become_each_users_rounds():
    """Events as environments/grounded/nodes.py writes them (`_user_events`)."""
    turn = {
        "kind": "grounded_turn",
        "stage": "record",
        "user": "A1",
        "action": "search",
        "query": "a racing game",
        "thought": "they like cars",
        "reply_failed": False,
        "grounded": [5, 9],
        "best_score": 0.71,
        "target_rank": 3,
        "feedback": "more like 5",
    }
    events = [{**turn, "round": 0}, {**turn, "round": 1, "action": "answer"}]
    view = user_journeys(events, limit=10, seed=0)
    (journey,) = view["entities"]
    assert journey["summary"] == "2 round(s) · answered in round 2"
    first = dict(journey["rounds"][0]["blocks"][0]["kv"])
    assert first["thought"] == "they like cars" and first["grounded"] == [5, 9]
    assert first["feedback"] == "more like 5"


def test_a_large_cohort_is_a_seeded_sample_and_says_so():
    events = [{"kind": "respond", "round": 0, "user": f"u{n}", "chosen": n} for n in range(5000)]
    view = user_journeys(events, limit=100, seed=3)
    again = user_journeys(events, limit=100, seed=3)
    keys = [e["key"] for e in view["entities"]]
    assert len(keys) == 100 and view["total"] == 5000 and "sample of 100 of 5000" in view["note"]
    assert keys == [e["key"] for e in again["entities"]]
    assert keys != [e["key"] for e in user_journeys(events, limit=100, seed=4)["entities"]]


def test_several_runs_get_a_side_by_side_page(small_run, llm_run, tmp_path, capsys):
    target = tmp_path / "compare.html"
    assert main(["report", str(small_run), str(llm_run), "--html", "--output", str(target)]) == 0
    links = capsys.readouterr().out.strip().splitlines()
    assert links[-1] == f"report: {target.as_uri()}" and len(links) == 3
    page = page_of(target)
    table = section(page, "table")
    labels = ["agents=user=surrogate,item=surrogate", "agents=user=surrogate,item=llm"]
    assert table["columns"] == ["", *labels]
    assert ["agents", "user=surrogate,item=surrogate", "user=surrogate,item=llm"] in table["rows"]
    spec = section(page, "metrics")["spec"]
    runs = {row["run"] for rows in spec["datasets"].values() for row in rows}
    assert runs == set(labels)


def test_varying_fields_are_the_nested_fields_that_differ():
    configs = [{"a": 1, "p": {"alpha": 0.1, "k": 5}}, {"a": 1, "p": {"alpha": 0.3, "k": 5}}]
    assert varying_fields(configs) == ["p.alpha"]
