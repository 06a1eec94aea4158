"""`recagora data list|show` through the real dispatcher."""

from __future__ import annotations

import json

from recagora.experiments.cli.main import main


def test_data_list_shows_every_registered_dataset(capsys):
    assert main(["data", "list", "--no-counts"]) == 0
    out = capsys.readouterr().out
    for name in ("ml-100k", "video-games", "cds-vinyl", "games-semids"):
        assert name in out


def test_data_show_writes_the_popularity_png_and_a_summary(tmp_path, capsys):
    out_dir = tmp_path / "ml"
    assert main(["data", "show", "ml-100k", "--out", str(out_dir)]) == 0
    printed = capsys.readouterr().out
    png = out_dir / "popularity.png"
    assert f"popularity curve: {png}" in printed.replace("\n", "")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out_dir / "summary.json").read_text())
    assert (summary["items"], summary["users"], summary["interactions"]) == (1682, 943, 100_000)
    assert summary["split"] == {"protocol": "loo", "train": 97171, "valid": 943, "test": 943}
    assert abs(sum(summary["popularity_group_shares"]) - 1) < 1e-3
    assert sorted(p.name for p in out_dir.iterdir()) == ["popularity.png", "summary.json"]


def test_data_show_default_folder_is_runs_data_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    table = tmp_path / "events.csv"
    table.write_text("user_id,item_id,timestamp\na,1,1\na,2,2\na,3,3\nb,1,1\nb,3,2\n")
    assert main(["data", "show", str(table)]) == 0
    assert (tmp_path / "runs" / "data" / "events" / "popularity.png").is_file()


def test_unknown_name_exits_2_with_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "show", "ml100k"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown dataset 'ml100k' (did you mean 'ml-100k'?)" in err and "\n" not in err
    assert not (tmp_path / "runs").exists()


def test_malformed_file_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"user_id": "a", "item_id": 1}\n{oops\n')
    assert main(["data", "show", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()
