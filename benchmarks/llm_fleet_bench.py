"""LLM fleet throughput: N llama.cpp servers behind one spec vs one server, and a kill mid-run.

Same prompts (distinct, temperature 0, cache off), same total requests in flight (N),
one process:
1. one server (`openai:smollm2` at server 0) vs the fleet (`openai:smollm2@url0,...`),
   alternated (one, fleet, fleet, one, ...) so that load drift on a shared machine hits
   both; requests/s, completion tokens/s and the ratio of total wall times;
2. the fleet again with the last server SIGKILLed after a few replies: every request
   must still be answered, once (failed and duplicated counts are printed).
Each llama.cpp server gets `--threads` CPU threads: on a machine with fewer free cores
than servers x threads the fleet cannot beat one server by N (say so with the figures).

Run: .venv/bin/python benchmarks/llm_fleet_bench.py [--servers 3] [--requests 24]
     [--max-tokens 32] [--repeats 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time

from recagora.agents.llm import LLMRequest, open_llm
from recagora.agents.llm.servers import start_llamacpp_server
from recagora.agents.llm.specs import embedded_gguf_path


def bench_requests(n: int, max_tokens: int, salt: str = "") -> list[LLMRequest]:
    topics = ("rivers", "chess", "bread", "comets", "violins", "deserts", "bees", "trains")
    return [
        LLMRequest(
            messages=(
                {
                    "role": "user",
                    "content": f"Write one sentence about {topics[i % len(topics)]} ({salt}{i}).",
                },
            ),
            max_tokens=max_tokens,
            tag="bench",
        )
        for i in range(n)
    ]


def timed_batch(spec: str, requests: list[LLMRequest], concurrency: int, **options) -> dict:
    """Wall seconds, completion tokens and failures of one batch through `spec`."""
    with open_llm(
        spec, concurrency=concurrency, use_cache=False, max_failure_rate=1.0, **options
    ) as llm:
        started = time.perf_counter()
        results = llm.chat_batch_sync(requests)
        wall = time.perf_counter() - started
    tokens = sum(r.completion_tokens for r in results)
    return {"wall_s": wall, "tokens": tokens, "failed": sum(not r.ok for r in results)}


def compare(urls: list[str], args) -> dict:
    """Alternated one-server and fleet batches; totals per arm."""
    arms = {"one": f"openai:smollm2@{urls[0]}", "fleet": "openai:smollm2@" + ",".join(urls)}
    totals = {arm: {"wall_s": 0.0, "tokens": 0, "failed": 0, "requests": 0} for arm in arms}
    for k in range(args.repeats):
        order = ("one", "fleet") if k % 2 == 0 else ("fleet", "one")
        for arm in order:
            requests = bench_requests(args.requests, args.max_tokens, salt=f"r{k}-")
            row = timed_batch(arms[arm], requests, len(urls))
            for key in ("wall_s", "tokens", "failed"):
                totals[arm][key] += row[key]
            totals[arm]["requests"] += len(requests)
            print(
                f"  repeat {k} {arm:5s}: {row['wall_s']:.1f} s, {row['tokens']} tokens", flush=True
            )
    for total in totals.values():
        total["requests_per_s"] = total["requests"] / total["wall_s"]
        total["tokens_per_s"] = total["tokens"] / total["wall_s"]
    totals["speedup"] = totals["one"]["wall_s"] / totals["fleet"]["wall_s"]
    return totals


def kill_mid_run(servers, args) -> dict:
    """The fleet with the last server SIGKILLed after 3 replies: nothing lost or doubled."""
    urls = ",".join(s.base_url for s in servers)
    requests = bench_requests(args.requests, args.max_tokens, salt="kill-")

    async def run(llm):
        batch = asyncio.create_task(llm.chat_batch(requests))
        while llm.ledger.requests < 3:
            await asyncio.sleep(0.02)
        servers[-1].process.send_signal(signal.SIGKILL)
        return await batch

    with open_llm(
        f"openai:smollm2@{urls}",
        concurrency=len(servers),
        use_cache=False,
        max_failure_rate=1.0,
        retry_backoff_s=0.05,
    ) as llm:
        started = time.perf_counter()
        results = asyncio.run(run(llm))
        wall = time.perf_counter() - started
        summary = llm.ledger_summary()
    return {
        "requests": len(requests),
        "answered": sum(r.ok for r in results),
        "failed": sum(not r.ok for r in results),
        "ledger_requests": summary["requests"],  # > requests would be a duplicate
        "wall_s": wall,
        "by_endpoint_calls": {u: c["calls"] for u, c in summary["by_endpoint"].items()},
        "endpoints": summary["endpoints"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    gguf = embedded_gguf_path("smollm2")
    servers = [
        start_llamacpp_server(
            gguf,
            "smollm2",
            n_ctx=2048,
            n_threads=args.threads,
            n_threads_batch=args.threads,
            ready_timeout_s=300,
        )
        for _ in range(args.servers)
    ]
    try:
        urls = [s.base_url for s in servers]
        timed_batch("openai:smollm2@" + ",".join(urls), bench_requests(len(urls), 4, "warm-"), 3)
        report = {"compare": compare(urls, args), "kill": kill_mid_run(servers, args)}
    finally:
        for server in servers:
            server.stop()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
