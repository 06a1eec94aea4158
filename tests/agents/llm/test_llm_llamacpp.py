"""The `openai:` path against a REAL llama-cpp-python server serving SmolLM2 on loopback,
through the real `openai` client; and `llamacpp:smollm2` starting and stopping its own."""

from __future__ import annotations

import asyncio
import signal
from typing import Literal

import httpx
import pytest
from pydantic import BaseModel

from recagora.agents.llm import LLMRequest, open_llm

pytestmark = [pytest.mark.llm, pytest.mark.slow]


class Mood(BaseModel):
    mood: Literal["happy", "sad"]
    intensity: int


def _request(text: str, max_tokens: int = 24) -> LLMRequest:
    return LLMRequest(messages=({"role": "user", "content": text},), max_tokens=max_tokens)


def _open(llama_server, cache_dir, **options):
    return open_llm(
        "openai:smollm2", base_url=llama_server.base_url, cache_dir=cache_dir, **options
    )


def test_plain_chat_returns_text_and_counts_tokens(llama_server, tmp_path):
    with _open(llama_server, tmp_path) as llm:
        result = llm.ask("Say hello to Ada.", max_tokens=16)
        summary = llm.ledger_summary()
    assert result.ok and result.text.strip()
    assert result.prompt_tokens > 5 and 0 < result.completion_tokens <= 16
    assert summary["calls"] == 1 and summary["prompt_tokens"] == result.prompt_tokens
    assert summary["cost_usd"] is None  # openai: with a model that has no price


def test_structured_output_is_constrained_after_the_server_rejects_json_schema(
    llama_server, tmp_path
):
    with _open(llama_server, tmp_path) as llm:
        result = llm.ask("I just won the lottery! How do I feel?", Mood, max_tokens=64)
        summary = llm.ledger_summary()
    assert result.ok, result.failure
    assert isinstance(result.value, Mood) and result.value.mood in ("happy", "sad")
    # llama-cpp-python 0.3.36 answers 4xx to "json_schema"; the client downgrades once.
    assert summary["structured_mode"] == "json_object_schema"
    assert summary["failures"] == {}


def test_concurrent_batch_answers_every_request_in_order(llama_server):
    # Prompts of distinct token lengths: the server's prompt-token count identifies which
    # prompt a reply belongs to. (Texts are no fingerprint: llama.cpp reuses the previous
    # prompt's KV cache, so greedy replies may change with the order requests arrive in.)
    prompts = [
        "Name a fruit.",
        "Name a red fruit.",
        "Name a small red fruit.",
        "Name a small sweet red fruit.",
    ]
    with _open(llama_server, None, use_cache=False, concurrency=1) as sequential:
        one_by_one = [sequential.ask(p, max_tokens=8).prompt_tokens for p in prompts]
    with _open(llama_server, None, use_cache=False, concurrency=4) as concurrent:
        batch = asyncio.run(concurrent.chat_batch([_request(p, 8) for p in prompts]))
        summary = concurrent.ledger_summary()
    assert len(set(one_by_one)) == len(prompts)
    assert [r.prompt_tokens for r in batch] == one_by_one
    assert all(r.ok and r.text.strip() for r in batch)
    assert summary["calls"] == len(prompts) and summary["failures"] == {}


def test_rerun_hits_the_cache_with_zero_calls_and_identical_results(llama_server, tmp_path):
    requests = [
        _request(f"How does someone feel when {event}?", 64)
        for event in ("they lose their keys", "they get a puppy", "it rains all week")
    ]
    with _open(llama_server, tmp_path) as first:
        before = first.structured_batch_sync(requests, Mood)
    with _open(llama_server, tmp_path) as second:
        after = second.structured_batch_sync(requests, Mood)
        summary = second.ledger_summary()
    assert all(r.ok for r in before)
    assert summary["calls"] == 0 and summary["cache_hits"] == 3
    assert [(r.value, r.text, r.failure) for r in after] == [
        (r.value, r.text, r.failure) for r in before
    ]


def test_llamacpp_smollm2_starts_its_own_server_and_stops_it_on_close(tmp_path):
    with open_llm("llamacpp:smollm2", cache_dir=tmp_path) as llm:
        server = llm.backend.server
        result = llm.ask("Reply with one word: yes or no?", Mood, max_tokens=64)
        assert result.ok and llm.ledger_summary()["structured_mode"] == "json_object_schema"
    assert server.process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.base_url}/models", timeout=2)


def test_a_server_killed_mid_run_reports_server_died_and_keeps_earlier_answers(tmp_path):
    async def run(llm):
        batch = asyncio.create_task(
            llm.chat_batch([_request(f"Count to {n}.", 8) for n in range(2, 8)])
        )
        while llm.ledger.requests < 2:
            await asyncio.sleep(0.05)
        llm.backend.server.process.send_signal(signal.SIGKILL)
        return await batch

    # max_failure_rate=1.0: hand the failures back (by default the dead server pauses the stage).
    options = {"use_cache": False, "concurrency": 1, "retry_backoff_s": 0.01}
    with open_llm("llamacpp:smollm2", max_failure_rate=1.0, **options) as llm:
        results = asyncio.run(run(llm))
        summary = llm.ledger_summary()
    answered = [r for r in results if r.ok]
    died = [r for r in results if not r.ok]
    assert len(answered) >= 2 and results[: len(answered)] == answered
    assert died and all(r.failure.kind == "server_died" for r in died)
    assert "exited with code -9" in died[-1].failure.message
    assert summary["failures"] == {"server_died": len(died)}
    assert died[-1].failure.message.startswith("llama.cpp server (pid ")


def test_samples_with_distinct_indices_differ_and_each_is_cached(llama_server, tmp_path):
    prompt = ({"role": "user", "content": "Invent a name for a new movie."},)
    samples = [
        LLMRequest(messages=prompt, temperature=1.0, max_tokens=12, sample_index=i)
        for i in range(4)
    ]
    with _open(llama_server, tmp_path) as llm:
        first = llm.chat_batch_sync(samples)
        again = llm.chat_batch_sync(samples)
    assert len({r.text for r in first}) >= 2  # a per-index seed: repeated samples stay distinct
    assert [r.text for r in again] == [r.text for r in first] and all(r.cached for r in again)
