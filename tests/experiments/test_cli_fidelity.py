"""`recagora fidelity` through the real dispatcher: the report folder, seeds, bad input."""

from __future__ import annotations

import json
import os
import sys

import pytest

from recagora.experiments.cli.main import main

BASELINES = ["--agents", "user=random,user=popularity"]


def _run(tmp_path, *extra: str, name: str = "report") -> tuple[int, object]:
    out = tmp_path / name
    code = main(
        [
            "fidelity",
            "--dataset",
            "ml-100k",
            *BASELINES,
            "--users",
            "80",
            "--seed",
            "0",
            "--out",
            str(out),
            *extra,
        ]
    )
    return code, out


def test_the_report_folder_holds_json_csv_plots_config_and_manifest(tmp_path, capsys):
    code, out = _run(tmp_path, "--no-folds")
    assert code == 0
    printed = capsys.readouterr().out
    assert "fidelity: ml-100k, 80 users, seed 0" in printed
    assert "random" in printed and "popularity" in printed
    assert "ratings: held-out items" in printed
    names = sorted(path.name for path in out.iterdir())
    assert names == [
        "config.json",
        "discrimination.png",
        "fidelity.json",
        "leaderboard.csv",
        "manifest.json",
        "metrics.csv",
        "popularity_groups.png",
        "ratings.png",
        "reliability_popularity.png",
        "reliability_random.png",
    ]
    report = json.loads((out / "fidelity.json").read_text())
    assert report["models"] == ["random", "popularity"] and report["users"] == 80
    assert json.loads((out / "manifest.json").read_text())["status"] == "finished"
    assert json.loads((out / "config.json").read_text())["suite"]["folds"] is False
    assert (out / "leaderboard.csv").read_text().count("\n") == 3


def test_same_seed_gives_the_same_report(tmp_path, capsys):
    reports = []
    for name in ("a", "b"):
        code, out = _run(tmp_path, "--no-folds", name=name)
        assert code == 0
        report = json.loads((out / "fidelity.json").read_text())
        report.pop("timing")
        reports.append(report)
    assert reports[0] == reports[1]


def test_default_folder_is_runs_fidelity_dataset_seed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = [
        "fidelity",
        "--dataset",
        "ml-100k",
        *BASELINES,
        "--users",
        "30",
        "--no-folds",
        "--seed",
        "3",
    ]
    assert main(args) == 0
    assert (tmp_path / "runs" / "fidelity" / "ml-100k-seed3" / "fidelity.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents", "user=lerned"], "unknown user model 'lerned' (did you mean 'learned'?)"),
        (["--agents", "item=llm"], "expected user=MODEL[,user=MODEL...]"),
        (["--agents", "user=random,user=random"], "names user=random twice"),
        (["--agents", "user=llm"], "user=llm needs --llm SPEC"),
        (["--agents", "user=learned,user=hybrid"], "user=hybrid needs --llm SPEC"),
        (["--agents", "user=random", "--llm", "fake:"], "--llm is only used by user=llm"),
        (
            ["--agents", "user=random", "--users", "5000"],
            "--users 5000: dataset 'ml-100k' has 943 users",
        ),
        (["--agents", "user=random", "--users", "0"], "--users 0 must be >= 1"),
        (["--agents", "user=random", "--fold-workers", "0"], "--fold-workers 0 must be >= 1"),
        (
            ["--agents", "user=random", "--k", "2000"],
            "K=2000 is larger than the catalog (1682 items)",
        ),
        (["--agents", "user=random", "--k", "ten"], "--k 'ten': expected whole numbers"),
        (
            ["--agents", "user=random", "--split", "lo"],
            "unknown --split 'lo' (did you mean 'loo'?)",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(
    tmp_path, monkeypatch, capsys, args, message
):
    monkeypatch.chdir(tmp_path)
    assert main(["fidelity", "--dataset", "ml-100k", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_dataset_and_an_output_file_are_one_line(tmp_path, capsys):
    assert main(["fidelity", "--dataset", "ml-10k", *BASELINES]) == 2
    assert "unknown dataset 'ml-10k'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["fidelity", "--dataset", "ml-100k", *BASELINES, "--out", str(blocker)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_a_user_model_whose_module_is_missing_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "recagora.agents.user_models", None)  # import fails
    code = main(
        [
            "fidelity",
            "--dataset",
            "ml-100k",
            "--agents",
            "user=learned",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2
    assert "user model 'learned' is not available in this checkout" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_a_dataset_without_ratings_says_not_available_and_runs_the_rest(tmp_path, capsys):
    folder = tmp_path / "implicit"
    folder.mkdir()
    # real ML-100K users 1..3's movies as LightGCN lines (no ratings in this format)
    from recagora.item_space.datasets import load_dataset

    dataset = load_dataset("ml-100k")
    histories = dataset.interactions.histories()
    lines = {part: [] for part in ("train", "valid", "test")}
    for user in [str(u) for u in range(1, 41)]:
        keys = [dataset.catalog[i].key for i in histories[user].items]
        lines["train"].append(" ".join([user, *keys[:-2]]))
        lines["valid"].append(f"{user} {keys[-2]}")
        lines["test"].append(f"{user} {keys[-1]}")
    for part, rows in lines.items():
        (folder / f"{part}.txt").write_text("\n".join(rows) + "\n")
    assert (
        main(["fidelity", "--dataset", str(folder), *BASELINES, "--out", str(tmp_path / "r")]) == 0
    )
    printed = capsys.readouterr().out
    assert "ratings: not available" in printed and "40 users" in printed
    report = json.loads((tmp_path / "r" / "fidelity.json").read_text())
    assert report["split"] == "given"
    assert report["ratings"]["heldout"]["popularity"]["reason"] == "the dataset has no ratings"


def test_hybrid_with_an_uninformative_llm_scores_as_the_learned_model_it_wraps(
    tmp_path, uninformative_hybrid, capsys
):
    """An LLM that always answers P(yes) = 0.5 adds logit 0 whatever w validation picks, so
    the hybrid's choice and discrimination sections equal those of the model it wraps. The wrapped learned model is the popularity baseline fitted on the
    split (a test double: fitting the real learned user costs minutes here)."""
    out = tmp_path / "hybrid"
    args = ["--agents", "user=hybrid,user=learned", "--llm", "fake:", "--users", "20"]
    code = main(["fidelity", "--dataset", "ml-100k", *args, "--no-folds", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "fidelity.json").read_text())
    assert report["models"][:2] == ["hybrid", "learned"]
    for protocol, models in report["choice"].items():
        assert models["hybrid"] == models["learned"], protocol
        assert models["hybrid"] != models["random"], protocol
    assert report["discrimination"]["hybrid"] == report["discrimination"]["learned"]


def test_random_loo_is_named_in_the_header_config_and_title(tmp_path, capsys):
    code, out = _run(tmp_path, "--no-folds", "--split", "random_loo")
    assert code == 0
    assert "fidelity: ml-100k, 80 users, seed 0, random_loo split" in capsys.readouterr().out
    report = json.loads((out / "fidelity.json").read_text())
    assert list(report)[:3] == ["dataset", "split", "split_seed"]
    assert (report["split"], report["split_seed"]) == ("random_loo", 0)
    config = json.loads((out / "config.json").read_text())
    assert (config["split"], config["split_seed"]) == ("random_loo", 0)
    code, loo = _run(tmp_path, "--no-folds", name="loo")
    assert code == 0
    chronological = json.loads((loo / "fidelity.json").read_text())
    assert (chronological["split"], chronological["split_seed"]) == ("loo", None)
    # other held-out items: the popularity baseline does not score the same
    assert chronological["choice"] != report["choice"]


def test_the_command_asks_torch_for_huge_pages_unless_told_otherwise(monkeypatch, capsys):
    monkeypatch.delenv("THP_MEM_ALLOC_ENABLE", raising=False)
    assert main(["fidelity", "--dataset", "ml-100k", "--agents", "user=nobody"]) == 2
    assert os.environ["THP_MEM_ALLOC_ENABLE"] == "1"
    monkeypatch.setenv("THP_MEM_ALLOC_ENABLE", "0")
    assert main(["fidelity", "--dataset", "ml-100k", "--agents", "user=nobody"]) == 2
    assert os.environ["THP_MEM_ALLOC_ENABLE"] == "0"
