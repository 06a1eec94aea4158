"""The clinic scenario on the open MIMIC-IV demo: contract, a real run, the alpha trade-off."""

from __future__ import annotations

import json

import pytest

from recagora.environments.checks import check_scenario
from recagora.environments.clinic.config import ClinicConfig
from recagora.environments.registry import get_scenario
from recagora.environments.scenario import MemorySink, RunServices
from recagora.experiments.cli.main import main


@pytest.fixture(scope="module")
def data(shared_data):
    from recagora.item_space.clinical import load_visits

    folder = shared_data / "clinical" / "mimic-iv-demo-2.2"
    if not folder.is_dir():
        pytest.skip(f"clinical demo data not present in {shared_data}")
    return load_visits(folder)


def _metrics(data, **config) -> list[dict]:
    import asyncio

    spec = get_scenario("clinic")
    sink = MemorySink()
    episode = spec.prepare(ClinicConfig(**config), RunServices(sink=sink, extras={"data": data}))
    graph = spec.build_graph().compile()
    asyncio.run(graph.ainvoke(episode.initial_state, context=episode.context))
    return sink.metrics_rows()


def test_the_scenario_keeps_its_contract(data):
    report = check_scenario(get_scenario("clinic"), ClinicConfig(rounds=2), {"data": data})
    assert report.rounds == 2


def test_alpha_zero_never_edits_and_a_larger_alpha_trades_jaccard_for_safety(data):
    still = _metrics(data, alpha=0.0, rounds=2)
    assert all(row["edits"] == 0 for row in still)
    assert still[-1]["ddi_rate"] == pytest.approx(still[-1]["proposed_ddi_rate"])
    strict = _metrics(data, alpha=5.0, rounds=4)
    assert strict[-1]["ddi_rate"] < still[-1]["ddi_rate"]
    assert strict[-1]["list_length"] < still[-1]["list_length"]
    assert strict[-1]["jaccard"] <= still[-1]["jaccard"] + 1e-12


def test_cooccurrence_beats_the_most_frequent_drugs(data):
    cooc = _metrics(data, alpha=0.0, rounds=1)[0]["proposed_jaccard"]
    frequent = _metrics(data, alpha=0.0, rounds=1, agents="clinician=frequent")[0][
        "proposed_jaccard"
    ]
    assert cooc > frequent


def test_cli_run_writes_per_visit_events(data, tmp_path, capsys):
    assert main(["run", "clinic", "--set", "rounds=2", "--runs-dir", str(tmp_path), "--quiet"]) == 0
    (folder,) = tmp_path.glob("clinic-*")
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert sum(e.get("kind") == "proposal" for e in events) == 37  # one per test visit
    assert "ODbL" in (folder / "summary.json").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "clinic", "--set", "alpha=-1"], "alpha must be >= 0"),
        (["run", "clinic", "--set", "data=/no/such/folder"], "clinical data folder not found"),
        (["run", "clinic", "--agents", "clinician=oracle"], "clinician implementation 'oracle'"),
    ],
)
def test_bad_input_is_one_line(argv, message, tmp_path, capsys):
    assert main([*argv, "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not list(tmp_path.iterdir())
