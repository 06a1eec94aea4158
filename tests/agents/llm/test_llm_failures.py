"""Honest failure: a refused key stops at once, a stage with too many failures pauses, and a
resume asks only the failed requests again. Our loopback `FaultServer` plays the backend."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from recagora.agents.llm import LLMRequest, open_llm
from recagora.agents.llm.cache import ResponseCache
from recagora.agents.llm.failures import LLMAuthError, LLMFailureRateExceeded
from recagora.item_space.errors import ConfigError, RunPaused

SECRET = "sk-test-0123456789abcdef"


class Verdict(BaseModel):
    liked: bool


def _requests(count: int, prefix: str = "q") -> list[LLMRequest]:
    return [
        LLMRequest(messages=({"role": "user", "content": f"{prefix}{i}"},)) for i in range(count)
    ]


def _open(server, **options):
    settings = {
        "base_url": server.base_url,
        "use_cache": False,
        "retry_backoff_s": 0.01,
        "timeout_s": 5.0,
        "max_retries": 1,
    }
    return open_llm("openai:test-model", **(settings | options))


@pytest.mark.parametrize(
    ("status", "in_config", "named"),
    [
        (401, False, "OPENAI_API_KEY"),
        (403, False, "OPENAI_API_KEY"),
        (401, True, "LLMConfig.api_key"),
    ],
)
def test_a_refused_key_stops_the_batch_at_once_naming_where_the_key_came_from(
    fault_server, monkeypatch, status, in_config, named
):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    # OpenAI's real 401 body quotes part of the key: it must not reach the message.
    body = f"Incorrect API key provided: {SECRET[:6]}***{SECRET[-4:]}"
    fault_server.default_action = lambda _: ("status", status, body)
    key = {"api_key": SECRET} if in_config else {}
    with _open(fault_server, concurrency=4, max_retries=4, **key) as llm:
        with pytest.raises(LLMAuthError) as refused:
            llm.chat_batch_sync(_requests(40))
        sent = len(fault_server.requests)
        with pytest.raises(LLMAuthError):  # later batches do not try again
            llm.ask("once more")
        summary = llm.ledger_summary()
    message = str(refused.value)
    assert named in message and str(status) in message and "openai:test-model" in message
    assert SECRET[:6] not in message and SECRET[-4:] not in message and "\n" not in message
    # At most the first wave of the concurrency bound: no retries, the rest cancelled.
    assert 1 <= sent <= 4 and len(fault_server.requests) == sent
    assert summary["calls"] <= 4 and set(summary["failures"]) == {"auth"}
    assert isinstance(refused.value, RunPaused) and refused.value.exit_code == 2


def test_an_unset_key_is_named_as_unset(fault_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fault_server.default_action = lambda _: ("status", 401, "no key")
    with (
        _open(fault_server) as llm,
        pytest.raises(LLMAuthError, match=r"OPENAI_API_KEY \(not set\)"),
    ):
        llm.ask("hello")


def test_an_exhausted_quota_pauses_the_stage_with_the_counts_and_the_kind(fault_server):
    fault_server.default_action = lambda _: ("status", 429, "You exceeded your current quota")
    with _open(fault_server) as llm, pytest.raises(LLMFailureRateExceeded) as paused:
        llm.chat_batch_sync(_requests(10))
    message = str(paused.value)
    assert "10 of 10 requests to openai:test-model failed" in message
    assert (
        "rate_limited: 10" in message and "20% limit" in message and "max_failure_rate" in message
    )
    assert "exceeded your current quota" in message and "\n" not in message
    assert paused.value.exit_code == 3 and isinstance(paused.value, RunPaused)
    assert (paused.value.failed, paused.value.asked, paused.value.kinds) == (
        10,
        10,
        {"rate_limited": 10},
    )
    assert len(fault_server.requests) == 10 * 2  # each request tried once and retried once


@pytest.mark.parametrize(("failing", "pauses"), [(1, False), (2, False), (3, True)])
def test_the_stage_pauses_only_over_its_failure_limit(fault_server, failing, pauses):
    for i in range(failing):
        fault_server.script(f"q{i}", ("status", 500), ("status", 500))
    with _open(fault_server) as llm:
        if pauses:
            with pytest.raises(LLMFailureRateExceeded, match=f"{failing} of 10 requests"):
                llm.chat_batch_sync(_requests(10))
            return
        results = llm.chat_batch_sync(_requests(10))
    assert [r.failure.kind for r in results if not r.ok] == ["transport"] * failing
    assert sum(r.ok for r in results) == 10 - failing


def test_a_single_failure_in_a_small_stage_pauses_it_and_1_0_never_pauses(fault_server):
    fault_server.script("q0", *[("status", 500)] * 4)  # two tries in each of two clients
    with _open(fault_server) as llm, pytest.raises(LLMFailureRateExceeded, match="1 of 3"):
        llm.chat_batch_sync(_requests(3))
    with _open(fault_server, max_failure_rate=1.0) as llm:
        results = llm.chat_batch_sync(_requests(3))
    assert [r.ok for r in results] == [False, True, True]


def test_invalid_schema_is_the_models_answer_and_does_not_pause(fault_server):
    fault_server.default_action = lambda _: ("reply", "prose, not JSON")
    with _open(fault_server) as llm:
        results = llm.structured_batch_sync(_requests(4), Verdict)
    assert [r.failure.kind for r in results] == ["invalid_schema"] * 4


def test_a_resume_asks_only_the_failed_requests_again(fault_server, tmp_path):
    fault_server.default_reply = lambda _: '{"liked": true}'
    for i in range(4):
        fault_server.script(f"q{i}", ("status", 429), ("status", 429))
    cached = {"use_cache": True, "cache_dir": tmp_path}
    with _open(fault_server, **cached) as llm, pytest.raises(LLMFailureRateExceeded) as paused:
        llm.structured_batch_sync(_requests(10), Verdict)
    assert "4 of 10" in str(paused.value) and "the 6 other answers are cached" in str(paused.value)
    assert len(ResponseCache(tmp_path)) == 6  # the answers, never the failures
    fault_server.requests.clear()
    with _open(fault_server, **cached) as llm:  # the backend answers again
        results = llm.structured_batch_sync(_requests(10), Verdict)
        summary = llm.ledger_summary()
    assert all(r.ok for r in results) and [r.cached for r in results] == [False] * 4 + [True] * 6
    assert sorted(fault_server.prompts_seen()) == ["q0", "q1", "q2", "q3"]
    assert summary["cache_hits"] == 6


def test_the_failure_limit_is_checked(fault_server):
    with pytest.raises(ConfigError, match="max_failure_rate=1.5 must be between 0 and 1"):
        _open(fault_server, max_failure_rate=1.5)
