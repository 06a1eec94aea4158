"""`recagora graph`, docs/graphs.md and langgraph.json name the registered graphs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from recagora.environments.registry import get_scenario, scenario_names
from recagora.experiments.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["trirec", "grounded", "papereval"])
def test_the_mermaid_diagram_draws_every_node_of_the_scenario(name, capsys):
    assert main(["graph", name]) == 0
    diagram = capsys.readouterr().out
    assert diagram.lstrip().startswith("---") and "graph TD;" in diagram
    for node in get_scenario(name).nodes:
        assert f"\t{node}(" in diagram, node


def test_all_scenarios_as_markdown(tmp_path, capsys):
    out = tmp_path / "graphs.md"
    assert main(["graph", "--all", "--output", str(out)]) == 0
    text = out.read_text()
    assert text.count("```mermaid") == len(scenario_names())


def test_langgraph_json_points_at_compiled_graphs_of_every_scenario():
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert set(config["graphs"]) == set(scenario_names()) - {"minimal-shop"}
    for target in config["graphs"].values():
        path, attribute = target.split(":")
        spec = importlib.util.spec_from_file_location("langgraph_app", ROOT / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert hasattr(getattr(module, attribute), "get_graph")


def test_the_committed_docs_name_every_scenario():
    text = (ROOT / "docs" / "graphs.md").read_text()
    for name in ("trirec", "grounded", "papereval"):
        assert f"## {name} (" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["graph"], "name one scenario or pass --all"), (["graph", "trirc"], "did you mean 'trirec'")],
)
def test_bad_input_is_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
