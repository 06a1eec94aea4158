"""`recagora llm check|bench` through the real CLI entry point."""

from __future__ import annotations

import pytest

from recagora.experiments.cli.main import main


def test_check_on_the_fake_backend_prints_model_latency_and_speed(capsys):
    assert main(["llm", "check", "--llm", "fake:"]) == 0
    out = capsys.readouterr().out
    assert "model fake" in out and "latency" in out and "tokens/s" in out


def test_bench_prints_one_row_per_concurrency_level(capsys):
    assert main(["llm", "bench", "--llm", "fake:", "--concurrency", "1,2", "--requests", "3"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "│" in line and "3" in line]
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["llm", "check", "--llm", "opena:gpt-4o"], "did you mean 'openai'"),
        (["llm", "bench", "--llm", "fake:", "--concurrency", "0"], "must be positive integers"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, expected):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


@pytest.mark.llm
@pytest.mark.slow
def test_check_works_offline_on_the_embedded_smollm2(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    assert main(["llm", "check", "--llm", "llamacpp:smollm2"]) == 0
    out = capsys.readouterr().out
    assert "model smollm2" in out and "json_object_schema" in out and "tokens/s" in out
