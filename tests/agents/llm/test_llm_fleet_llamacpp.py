"""`llamacpp:smollm2x3`: three REAL llama.cpp servers on loopback behind one spec; one is
SIGKILLed mid-run and the batch still ends with every reply, each exactly once."""

from __future__ import annotations

import asyncio
import signal

import pytest

from recagora.agents.llm import LLMRequest, open_llm

pytestmark = [pytest.mark.llm, pytest.mark.slow]


def _request(n: int) -> LLMRequest:
    return LLMRequest(messages=({"role": "user", "content": f"Count to {n}."},), max_tokens=8)


def test_a_replica_killed_mid_run_loses_and_duplicates_no_reply(tmp_path):
    pytest.importorskip("llama_cpp", reason="needs llama-cpp-python[server] (the `local` extra)")

    async def run(llm, victim):
        batch = asyncio.create_task(llm.chat_batch([_request(n) for n in range(2, 14)]))
        while llm.ledger.requests < 3:
            await asyncio.sleep(0.02)
        victim.process.send_signal(signal.SIGKILL)
        return await batch

    with open_llm("llamacpp:smollm2x3", cache_dir=tmp_path, concurrency=6) as llm:
        servers = [e.server for e in llm.backend.fleet.endpoints]
        results = asyncio.run(run(llm, servers[1]))
        summary = llm.ledger_summary()
        cached = len(llm.cache)
        with_one_dead = llm.chat_batch_sync([_request(n) for n in range(20, 23)])
    assert all(r.ok and r.text for r in results)
    assert (summary["requests"], summary["failed_requests"], cached) == (12, 0, 12)
    assert summary["endpoints"][servers[1].base_url].startswith("down")
    assert summary["by_endpoint"][servers[1].base_url]["failures"] >= 1  # it died mid-request
    assert all(r.ok for r in with_one_dead)
    assert all(not s.alive() for s in servers)  # close() stopped the two survivors
