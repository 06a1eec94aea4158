"""`recagora run / runs / replay`: a real run folder from the CLI, and the exit-2 cases."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recagora.experiments.cli.main import main

SMALL = [
    "--llm",
    "fake:",
    "--users",
    "3",
    "--rounds",
    "2",
    "--set",
    "user_fit.max_train_samples=2000",
    "--quiet",
]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    code = main(
        ["run", "trirec", "--agents", "user=surrogate,item=llm", *SMALL, "--runs-dir", str(runs)]
    )
    assert code == 0
    (folder,) = runs.iterdir()
    return runs, folder


@pytest.mark.slow
def test_run_writes_every_file_of_the_run_folder(finished_run):
    _, folder = finished_run
    for name in (
        "config.yaml",
        "manifest.json",
        "events.jsonl",
        "metrics.parquet",
        "metrics.csv",
        "llm_ledger.json",
        "summary.json",
    ):
        assert (folder / name).is_file(), name
    assert folder.name.startswith("trirec-")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (
        manifest["seed"] == 0
        and manifest["status"] == "finished"
        and manifest["packages"]["langgraph"] != "absent"
    )
    metrics = pd.read_parquet(folder / "metrics.parquet")
    assert list(metrics["round"]) == [0, 1]
    assert {
        "ndcg@10",
        "mrr",
        "dgu",
        "mgu",
        "eiu@10",
        "exposure_gini",
        "coverage",
        "exit_rate",
        "prompt_tokens",
    } <= set(metrics.columns)
    assert metrics["llm_requests"].sum() > 0  # the item agents asked the (fake) LLM
    assert sorted(p.name for p in (folder / "plots").iterdir()) == [
        "round_dgu.png",
        "round_exposure_gini.png",
        "round_item_utility.png",
        "round_ndcg_at_10.png",
    ]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["overall"]["rounds_done"] == 2 and summary["llm"]["requests"] > 0


@pytest.mark.slow
def test_runs_list_show_replay_and_resume_of_a_finished_run(finished_run, capsys):
    runs, folder = finished_run
    assert main(["runs", "list", "--runs-dir", str(runs)]) == 0
    assert folder.name in capsys.readouterr().out
    assert main(["runs", "show", folder.name[:12], "--runs-dir", str(runs)]) == 0
    assert "per-round metrics" in capsys.readouterr().out
    assert main(["replay", folder.name, "--no-pause", "--runs-dir", str(runs)]) == 0
    shown = capsys.readouterr().out
    assert "round 1" in shown and "round 2" in shown and "events shown" in shown
    before = (folder / "events.jsonl").read_text().count('"round_end"')
    assert main(["run", "--resume", str(folder), "--quiet"]) == 0
    assert (folder / "events.jsonl").read_text().count('"round_end"') == before


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "trirek"], "did you mean 'trirec'"),
        (["run"], "name a scenario"),
        (
            ["run", "trirec", "--set", "platform.trirec.alpha_maxx=0.3"],
            "did you mean 'platform.trirec.alpha_max'",
        ),
        (["run", "trirec", "--set", "rounds=many"], "expects int"),
        (["run", "trirec", "--set", "item.mode=personalised"], "did you mean 'personalized'"),
        (["run", "trirec", "--agents", "user=surogate"], "did you mean 'surrogate'"),
        (["run", "trirec", "--candidates", "sasrek"], "did you mean 'sasrec'"),
        (["run", "trirec", "--llm", "lamacpp:smollm2"], "unknown LLM backend"),
        (
            ["run", "trirec", "--dataset", "ml100k", "--agents", "user=surrogate,item=surrogate"],
            "ml-100k",
        ),
        (
            ["run", "trirec", "--users", "5000", "--agents", "user=surrogate,item=surrogate"],
            "--population 5000",
        ),
        (["run", "--resume", "no-such-run"], "no run 'no-such-run'"),
        (["run", "trirec", "--resume", "x"], "--resume continues a run"),
        (["replay", "no-such-run"], "no run"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_leaves_no_run_folder(argv, message, tmp_path, capsys):
    assert main([*argv, "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


def test_config_file_and_fields_listing(tmp_path, capsys):
    config = tmp_path / "c.yaml"
    config.write_text("users: 2\nplatform:\n  trirec:\n    alpha_maxx: 0.2\n")
    assert main(["run", "trirec", "--config", str(config), "--runs-dir", str(tmp_path / "r")]) == 2
    assert "did you mean 'platform.trirec.alpha_max'" in capsys.readouterr().err
    assert main(["runs", "fields", "trirec"]) == 0
    assert "platform.trirec.lambda_item" in capsys.readouterr().out


@pytest.mark.slow
def test_default_candidates_put_the_held_out_item_within_reach_of_ndcg_at_5(tmp_path):
    """Popularity-sampled negatives (the default source): the held-out item is not always last."""
    runs = tmp_path / "runs"
    argv = ["run", "trirec", "--agents", "user=surrogate,item=surrogate", "--llm", "fake:"]
    argv += ["--users", "30", "--rounds", "1", "--runs-dir", str(runs), "--quiet"]
    assert main(argv) == 0
    (folder,) = runs.iterdir()
    metrics = pd.read_parquet(folder / "metrics.parquet")
    assert metrics["ndcg@5"].iloc[0] > 0
