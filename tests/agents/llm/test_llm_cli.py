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
        (["llm", "bench", "--llm", "fake:", "--concurrency", "0"], "integers from 1 to 1024"),
        (["llm", "bench", "--llm", "fake:", "--concurrency", "1,5000"], "integers from 1 to 1024"),
        (["llm", "bench", "--llm", "fake:", "--requests", "0"], "--requests 0 must be from 1"),
        (["llm", "bench", "--llm", "fake:", "--max-tokens", "0"], "--max-tokens 0 must be at"),
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


def _openai(fault_server) -> list[str]:
    return ["--llm", "openai:test-model", "--base-url", fault_server.base_url]


BENCH = ["llm", "bench", "--concurrency", "1,2", "--requests", "3"]


def test_a_refused_key_is_one_line_naming_the_variable_and_exit_2(
    capsys, fault_server, monkeypatch, tmp_path
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-do-not-print-me")
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    fault_server.default_action = lambda _: ("status", 401, "Incorrect API key sk-do-***-me")
    for command in (["llm", "check"], BENCH):
        assert main([*command, *_openai(fault_server)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "OPENAI_API_KEY" in err
        assert "do-not-print" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("command", "expected"),
    [(["llm", "check"], "other: 1 (BadRequestError"), (BENCH, "other: 6")],
)
def test_nothing_succeeded_is_one_line_with_the_failure_counts_and_exit_1(
    capsys, fault_server, monkeypatch, tmp_path, command, expected
):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path))
    # 400 is not retried, so this stays fast.
    fault_server.default_action = lambda _: ("status", 400, "model test-model is not served")
    assert main([*command, *_openai(fault_server)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: no request succeeded: {expected}")


def test_bench_with_some_answers_exits_0(capsys, fault_server):
    calls = iter(range(100))
    fault_server.default_action = lambda _: (
        ("status", 400, "busy") if next(calls) % 2 else ("reply", "a film")
    )
    assert main([*BENCH, *_openai(fault_server)]) == 0
    assert "error" not in capsys.readouterr().err


def test_openai_without_a_key_or_a_base_url_is_refused_before_any_request(capsys, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert main(["llm", "check", "--llm", "openai:gpt-4o-mini"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs an API key and OPENAI_API_KEY is not set" in err[0]
