"""`recagora ground`: one-line errors with exit code 2, and a real run on MovieLens-100K."""

from __future__ import annotations

import pytest

from recagora.experiments.cli.main import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ground", "ml-10k", "a space adventure"], "did you mean 'ml-100k'"),
        (["ground", "ml-100k", ""], "query text is empty"),
        (["ground", "ml-100k", "   "], "query text is empty"),
        (["ground", "ml-100k", "space", "-k", "0"], "-k must be in 1..1000"),
        (["ground", "ml-100k", "space", "--index", "hnws"], "did you mean 'hnsw'"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.strip().count("\n") == 0
    assert not any(tmp_path.glob("indexes/*"))


@pytest.mark.slow
def test_ground_prints_real_movies(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    assert main(["ground", "ml-100k", "Star Wars", "-k", "3", "--min-score", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "Star Wars (1977)" in out and "ungrounded" not in out
    assert main(["ground", "ml-100k", "Star Wars", "-k", "3", "--min-score", "0.99"]) == 0
    assert "ungrounded: best score" in capsys.readouterr().out
