"""The whole request pipeline (cache, repair, ledger, concurrency) over the `fake:` backend."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import BaseModel, Field

from recagora.agents.llm import LLMRequest, open_llm
from recagora.item_space.errors import ConfigError


class Score(BaseModel):
    item_id: int
    score: float = Field(ge=0, le=1)


def _request(text: str, **fields) -> LLMRequest:
    return LLMRequest(messages=({"role": "user", "content": text},), **fields)


def test_chat_without_a_script_echoes_and_structured_gets_a_schema_valid_object():
    with open_llm("fake:") as llm:
        chat = llm.ask("hello there")
        scored = llm.ask("score it", Score)
    assert chat.ok and chat.value == "fake reply to: hello there"
    assert scored.ok and scored.value == Score(item_id=0, score=0)


def test_scripted_replies_come_back_in_request_order():
    replies = [json.dumps({"item_id": i, "score": i / 10}) for i in range(5)]
    with open_llm("fake:", fake_replies=replies, concurrency=2) as llm:
        results = llm.structured_batch_sync([_request(f"item {i}") for i in range(5)], Score)
    assert [r.value.item_id for r in results] == [0, 1, 2, 3, 4]


def test_a_bad_reply_gets_one_repair_re_ask_quoting_the_error():
    seen: list[list[dict]] = []

    def reply(messages, schema):
        seen.append(messages)
        return '{"item_id": 3, "score": 7}' if len(seen) == 1 else '{"item_id": 3, "score": 0.7}'

    with open_llm("fake:", fake_reply_fn=reply) as llm:
        result = llm.ask("score item 3", Score)
        summary = llm.ledger_summary()
    assert result.ok and result.value == Score(item_id=3, score=0.7)
    assert result.extra["repaired"] is True
    assert (
        len(seen) == 2
        and "score: Input should be less than or equal to 1" in seen[1][-1]["content"]
    )
    assert seen[1][-2] == {"role": "assistant", "content": '{"item_id": 3, "score": 7}'}
    assert (summary["repairs"], summary["calls"], summary["failed_requests"]) == (1, 2, 0)


def test_a_reply_still_invalid_after_repair_is_a_counted_typed_failure():
    with open_llm("fake:", fake_replies=["I like it a lot!"]) as llm:
        results = llm.structured_batch_sync([_request("a"), _request("b")], Score)
        summary = llm.ledger_summary()
    assert [r.ok for r in results] == [False, False]
    assert all(r.failure.kind == "invalid_schema" and r.value is None for r in results)
    assert summary["failures"] == {"invalid_schema": 2}
    assert (summary["repairs"], summary["calls"], summary["requests"]) == (2, 4, 2)


def test_a_rerun_makes_zero_calls_and_returns_identical_results(tmp_path):
    requests = [_request(f"item {i}") for i in range(4)] + [_request("bad")]
    replies = [json.dumps({"item_id": i, "score": 0.5}) for i in range(4)] + ["nope", "nope"]
    with open_llm("fake:", cache_dir=tmp_path, fake_replies=replies) as first:
        before = first.structured_batch_sync(requests, Score)
    with open_llm("fake:", cache_dir=tmp_path, fake_replies=["never used"]) as second:
        after = second.structured_batch_sync(requests, Score)
        summary = second.ledger_summary()
    assert summary["calls"] == 0 and summary["cache_hits"] == 5
    assert [(r.value, r.text, r.failure, r.call_id) for r in after] == [
        (r.value, r.text, r.failure, r.call_id) for r in before
    ]
    assert all(r.cached for r in after) and not any(r.cached for r in before)


def test_samples_with_distinct_indices_are_distinct_cache_entries(tmp_path):
    sampled = [_request("pick one", temperature=0.8, sample_index=i) for i in range(3)]
    with open_llm("fake:", cache_dir=tmp_path, fake_replies=["a", "b", "c"]) as llm:
        first = llm.chat_batch_sync(sampled)
        again = llm.chat_batch_sync(sampled)
    assert [r.value for r in first] == ["a", "b", "c"]
    assert [r.value for r in again] == ["a", "b", "c"] and all(r.cached for r in again)


def test_no_more_than_concurrency_requests_are_in_flight():
    in_flight = 0
    peak = 0

    async def run():
        nonlocal in_flight, peak
        with open_llm("fake:", concurrency=3, fake_latency_s=0.02) as llm:
            original = llm.chat_model._agenerate

            async def counting(*args, **kwargs):
                nonlocal in_flight, peak
                in_flight += 1
                peak = max(peak, in_flight)
                try:
                    return await original(*args, **kwargs)
                finally:
                    in_flight -= 1

            object.__setattr__(llm.chat_model, "_agenerate", counting)
            return await llm.chat_batch([_request(f"q{i}") for i in range(10)])

    results = asyncio.run(run())
    assert len(results) == 10 and all(r.ok for r in results)
    assert peak == 3


def test_sync_wrapper_works_inside_a_running_event_loop():
    async def inside_loop():
        with open_llm("fake:") as llm:
            return llm.ask("from a notebook")

    assert asyncio.run(inside_loop()).value == "fake reply to: from a notebook"


def test_ledger_is_written_to_the_run_folder_on_close(tmp_path):
    with open_llm("fake:", ledger_path=tmp_path / "run") as llm:
        llm.chat_batch_sync(
            [_request("x", tag="user_agent.score"), _request("y", tag="item_agent")]
        )
    written = json.loads((tmp_path / "run" / "llm_ledger.json").read_text())
    assert written["requests"] == 2 and written["cost_usd"] == 0.0
    assert set(written["by_tag"]) == {"user_agent.score", "item_agent"}


def test_bad_config_values_are_one_line_config_errors():
    with pytest.raises(ConfigError, match="concurrency=0 must be >= 1"):
        open_llm("fake:", concurrency=0)
    with pytest.raises(ConfigError, match="did you mean 'json_schema'"):
        open_llm("fake:", structured_mode="json_shema")


def test_a_rate_limit_spaces_requests_out():
    import time

    with open_llm("fake:", requests_per_second=40.0) as llm:
        started = time.perf_counter()
        results = llm.chat_batch_sync([_request(f"q{i}") for i in range(9)])
        elapsed = time.perf_counter() - started
    assert all(r.ok for r in results)
    # 9 requests at 40/s need at least 8 gaps of 25 ms (a lower bound: slowness cannot break it)
    assert elapsed >= 8 / 40.0 * 0.9
