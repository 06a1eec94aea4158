"""Fault injection: our own loopback server answers 500, 429, garbage, invalid schemas,
slow replies and dropped connections on cue; the real `openai` client talks to it."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from recagora.agents.llm import LLMRequest, open_llm
from recagora.agents.llm.failures import LLMFailureRateExceeded


class Verdict(BaseModel):
    liked: bool


def _request(text: str) -> LLMRequest:
    return LLMRequest(messages=({"role": "user", "content": text},))


@pytest.fixture
def server(fault_server):
    return fault_server


def _open(server, **options):
    settings = {
        "base_url": server.base_url,
        "use_cache": False,
        "retry_backoff_s": 0.01,
        "timeout_s": 5.0,
    }
    return open_llm("openai:test-model", **(settings | options))


def test_500_429_garbage_and_dropped_connections_are_retried_until_an_answer(server):
    server.script(
        "q",
        ("status", 500),
        ("status", 429),
        ("garbage",),
        ("drop",),
        ("status", 503),
        ("reply", "finally"),
    )
    with _open(server, max_retries=5) as llm:
        result = llm.ask("q")
        summary = llm.ledger_summary()
    assert result.ok and result.value == "finally"
    assert server.prompts_seen() == ["q"] * 6
    assert summary["calls"] == 6
    assert summary["retries"] == {"rate_limited": 1, "transport": 4}
    assert summary["failures"] == {}


def test_a_slow_reply_times_out_and_the_retry_answers(server):
    server.script("slow one", ("slow", 2.0, "too late"), ("reply", "in time"))
    with _open(server, timeout_s=0.3) as llm:
        result = llm.ask("slow one")
        summary = llm.ledger_summary()
    assert result.ok and result.value == "in time"
    assert summary["retries"] == {"timeout": 1}


def test_retries_give_up_with_a_counted_failure_of_the_right_kind(server):
    server.script("busy", *[("status", 429)] * 3)
    server.script("broken", *[("status", 500)] * 3)
    server.script("slow", *[("slow", 1.0, "late")] * 3)
    # max_failure_rate=1.0: hand every failure back (3 of 4 would pause the stage).
    with _open(server, max_retries=2, timeout_s=0.2, concurrency=1, max_failure_rate=1.0) as llm:
        results = llm.chat_batch_sync(
            [_request("busy"), _request("broken"), _request("slow"), _request("fine")]
        )
        summary = llm.ledger_summary()
    assert [r.failure.kind if r.failure else None for r in results] == [
        "rate_limited",
        "transport",
        "timeout",
        None,
    ]
    assert results[3].value == "ok"
    assert summary["failures"] == {"rate_limited": 1, "timeout": 1, "transport": 1}
    assert summary["calls"] == 3 * 3 + 1


def test_an_invalid_structured_reply_gets_one_repair_re_ask_then_a_counted_failure(server):
    server.script("fixable", ("reply", '{"liked": "very much"}'), ("reply", '{"liked": true}'))
    server.script("hopeless", ("reply", "I cannot answer"), ("reply", "still prose"))
    with _open(server, concurrency=1) as llm:
        fixed, failed = llm.structured_batch_sync(
            [_request("fixable"), _request("hopeless")], Verdict
        )
        summary = llm.ledger_summary()
    assert fixed.ok and fixed.value == Verdict(liked=True) and fixed.extra["repaired"]
    assert failed.failure.kind == "invalid_schema" and failed.text == "still prose"
    assert summary["repairs"] == 2 and summary["failures"] == {"invalid_schema": 1}
    repair = server.requests[1]
    assert repair["messages"][-2] == {"role": "assistant", "content": '{"liked": "very much"}'}
    assert "liked: Input should be a valid boolean" in repair["messages"][-1]["content"]
    assert server.requests[0]["response_format"]["type"] == "json_schema"


def test_a_server_that_rejects_json_schema_is_downgraded_once(server):
    rejection = ("status", 400, "response_format: type 'json_schema' is not supported")
    server.script("first", rejection, ("reply", '{"liked": false}'))
    server.script("second", ("reply", '{"liked": true}'))
    with _open(server, concurrency=1) as llm:
        results = llm.structured_batch_sync([_request("first"), _request("second")], Verdict)
        mode = llm.ledger_summary()["structured_mode"]
    assert [r.ok for r in results] == [True, True]
    assert mode == "json_object_schema"
    formats = [body["response_format"]["type"] for body in server.requests]
    assert formats == ["json_schema", "json_object", "json_object"]


def test_other_bad_requests_fail_that_request_only_and_keep_the_mode(server):
    server.script("too long", ("status", 400, "context length 2048 exceeded"))
    server.script("fine", ("reply", '{"liked": true}'))
    with _open(server, concurrency=1, max_failure_rate=1.0) as llm:
        failed, fine = llm.structured_batch_sync([_request("too long"), _request("fine")], Verdict)
        summary = llm.ledger_summary()
    assert failed.failure.kind == "other" and "context length" in failed.failure.message
    assert fine.ok and summary["structured_mode"] == "json_schema"
    assert summary["calls"] == 2 and summary["retries"] == {}


def test_nothing_is_lost_under_concurrency_with_mixed_faults(server):
    prompts = [f"p{i}" for i in range(24)]
    for i, prompt in enumerate(prompts):
        server.script(prompt, *[("status", 500), ("drop",), ("garbage",), ("status", 429)][: i % 4])
    server.default_reply = lambda body: "answer " + body["messages"][0]["content"]
    with _open(server, concurrency=6) as llm:
        results = asyncio.run(llm.chat_batch([_request(p) for p in prompts]))
        summary = llm.ledger_summary()
    assert [r.value for r in results] == [f"answer {p}" for p in prompts]
    assert summary["requests"] == 24 and summary["calls"] == 24 + sum(i % 4 for i in range(24))


def test_a_server_that_dies_mid_run_fails_the_rest_as_server_died_and_keeps_the_answers(server):
    server.script("q3", ("die",))
    with _open(server, concurrency=1, max_retries=2, max_failure_rate=1.0) as llm:
        results = llm.chat_batch_sync([_request(f"q{i}") for i in range(8)])
        summary = llm.ledger_summary()
    assert [r.value for r in results[:3]] == ["ok", "ok", "ok"]
    assert [r.failure.kind for r in results[3:]] == ["server_died"] * 5
    assert "refuses connections" in results[-1].failure.message
    assert summary["failures"] == {"server_died": 5}
    # q3 tries 1 + 2 retries; once the death is known, later requests make no calls.
    assert summary["calls"] == 3 + 3


def test_a_server_that_dies_pauses_the_stage_even_when_most_requests_were_answered(server):
    server.script("q19", ("die",))
    with _open(server, concurrency=1, max_retries=1) as llm:
        with pytest.raises(LLMFailureRateExceeded) as paused:
            llm.chat_batch_sync([_request(f"q{i}") for i in range(20)])
        summary = llm.ledger_summary()
    # 1 of 20 (5%) is under the 20% limit, but a dead server fails every later stage.
    assert "1 of 20 requests" in str(paused.value) and "the server died" in str(paused.value)
    assert summary["requests"] == 20 and summary["failures"] == {"server_died": 1}


def test_the_backend_is_a_plain_langchain_chat_model_with_structured_output(server):
    server.script("how was it?", ("reply", '{"liked": true}'))
    with _open(server) as llm:
        chain = llm.chat_model.with_structured_output(Verdict, method="json_object_schema")
        verdict = chain.invoke([("user", "how was it?")])
        async_reply = asyncio.run(llm.chat_model.ainvoke("hello"))
    assert verdict == Verdict(liked=True)
    assert server.requests[0]["response_format"]["type"] == "json_object"
    assert "schema" in server.requests[0]["response_format"]
    assert async_reply.content == "ok" and async_reply.usage_metadata["output_tokens"] == 3
