"""LLM layer overhead, cache speed-up and SmolLM2 speed, against ONE real llama.cpp server.

Same prompts, same server, one process:
1. our layer (`open_llm("openai:smollm2")`, cache off) vs the bare `openai.AsyncOpenAI`
   client, at concurrency 1 and 8; runs alternate (bare, ours, bare, ours, ...) so that
   load drift on a shared machine hits both; the ratio of median wall times is reported
   (target < 1.05x);
2. a cached rerun vs the first run of the same batch (target >= 50x faster);
3. SmolLM2 completion tokens/s on this machine (bare client, concurrency 1).

Run: .venv/bin/python benchmarks/llm_bench.py [--requests 8] [--max-tokens 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

import openai

from recagora.agents.llm import open_llm
from recagora.agents.llm.config import LLMConfig
from recagora.agents.llm.diagnostics import bench_requests
from recagora.agents.llm.servers import start_llamacpp_server
from recagora.agents.llm.specs import embedded_gguf_path


async def bare_batch(base_url: str, requests, concurrency: int) -> tuple[float, int]:
    """Wall seconds and completion tokens for the batch through the bare openai client."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(request):
        async with gate:
            reply = await client.chat.completions.create(
                model="smollm2",
                messages=list(request.messages),
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                seed=request.seed,
            )
            return reply.usage.completion_tokens

    started = time.perf_counter()
    tokens = await asyncio.gather(*(one(r) for r in requests))
    wall = time.perf_counter() - started
    await client.close()
    return wall, sum(tokens)


def layer_batch(base_url: str, requests, concurrency: int, cache_dir=None) -> tuple[float, list]:
    """Wall seconds and results for the batch through our layer (cache off unless cache_dir)."""
    options = {"use_cache": cache_dir is not None, "cache_dir": cache_dir}
    with open_llm("openai:smollm2", base_url=base_url, concurrency=concurrency, **options) as llm:
        started = time.perf_counter()
        results = asyncio.run(llm.chat_batch(requests))
        wall = time.perf_counter() - started
    assert all(r.ok for r in results), [r.failure for r in results if not r.ok]
    return wall, results


def overhead(base_url: str, requests, concurrency: int, repeats: int) -> dict:
    """Median wall time of bare and layer runs, alternated `repeats` times."""
    bare_walls, layer_walls = [], []
    for _ in range(repeats):
        bare_walls.append(asyncio.run(bare_batch(base_url, requests, concurrency))[0])
        layer_walls.append(layer_batch(base_url, requests, concurrency)[0])
    bare, ours = statistics.median(bare_walls), statistics.median(layer_walls)
    return {"concurrency": concurrency, "bare_s": bare, "layer_s": ours, "ratio": ours / bare}


def cache_speedup(base_url: str, requests) -> dict:
    with tempfile.TemporaryDirectory() as cache_dir:
        first, before = layer_batch(base_url, requests, 8, cache_dir)
        second, after = layer_batch(base_url, requests, 8, cache_dir)
    identical = [r.text for r in before] == [r.text for r in after]
    return {"first_s": first, "cached_s": second, "speedup": first / second, "identical": identical}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8, help="requests per batch")
    parser.add_argument(
        "--max-tokens", type=int, default=16, help="completion tokens per request (upper bound)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="alternated bare/layer runs per concurrency level"
    )
    args = parser.parse_args()
    threads = LLMConfig().resolved_n_threads()
    server = start_llamacpp_server(
        embedded_gguf_path("smollm2"), "smollm2", n_ctx=2048, n_threads=threads, ready_timeout_s=120
    )
    try:
        requests = bench_requests(args.requests, args.max_tokens, salt="bench-")
        asyncio.run(bare_batch(server.base_url, requests[:1], 1))  # warm-up
        wall, tokens = asyncio.run(bare_batch(server.base_url, requests, 1))
        print(f"SmolLM2-135M Q4_1, llama.cpp server, {threads} thread(s): {tokens / wall:.1f} completion tokens/s "
              f"({tokens} tokens, {args.requests} requests, {wall:.2f} s, bare client, concurrency 1)")  # fmt: skip
        for level in (1, 8):
            row = overhead(server.base_url, requests, level, args.repeats)
            print(f"concurrency {level}: bare {row['bare_s']:.3f} s, layer {row['layer_s']:.3f} s, "
                  f"overhead ratio {row['ratio']:.3f}x (target < 1.05x; median of {args.repeats})")  # fmt: skip
        row = cache_speedup(server.base_url, requests)
        print(f"cache: first run {row['first_s']:.3f} s, cached rerun {row['cached_s'] * 1000:.2f} ms, "
              f"{row['speedup']:.0f}x faster (target >= 50x), identical replies: {row['identical']}")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
