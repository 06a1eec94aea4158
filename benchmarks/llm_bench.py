"""LLM layer overhead, cache speed-up and SmolLM2 speed, against ONE real llama.cpp server.

Same prompts, same server, one process:
1. our layer (`open_llm("openai:smollm2")`, cache off) vs the bare `openai.AsyncOpenAI`
   client, at concurrency 1 and 8; runs alternate (bare, ours, ours, bare, ...) so that
   load drift on a shared machine hits both; the ratio of total wall times and the
   median per-pair ratio are reported (target < 1.05x);
2. a cached rerun vs the first run of the same batch (target >= 50x faster);
3. SmolLM2 completion tokens/s on this machine (bare client, concurrency 1);
4. the layer's own cost per call, bare vs layer against an instant loopback stub server
   (so that LLM time and machine load do not drown it).

5. `--tokens`: input tokens per LLM user-round of TriRec (docs/scale-plan.md): a run of
   8 users x 2 rounds with a `fake:` LLM whose replies are valid and complete (no
   retries), every request tokenized in ChatML with SmolLM2's own vocabulary (what the
   llama.cpp server counts), and the share a prefix cache could serve: per request, the
   longest token prefix shared with any earlier request, in 16-token blocks (vLLM's).

Run: .venv/bin/python benchmarks/llm_bench.py [--requests 8] [--max-tokens 16] [--repeats 4]
     .venv/bin/python benchmarks/llm_bench.py --tokens
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import openai

from recagora.agents.llm import open_llm
from recagora.agents.llm.config import LLMConfig
from recagora.agents.llm.diagnostics import bench_requests
from recagora.agents.llm.servers import start_llamacpp_server
from recagora.agents.llm.specs import embedded_gguf_path


async def bare_batch(client: openai.AsyncOpenAI, requests, concurrency: int) -> tuple[float, int]:
    """Wall seconds and completion tokens for the batch through the bare openai client."""
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
    return time.perf_counter() - started, sum(tokens)


async def layer_batch(llm, requests) -> tuple[float, list]:
    """Wall seconds and results for the batch through our layer."""
    started = time.perf_counter()
    results = await llm.chat_batch(requests)
    wall = time.perf_counter() - started
    assert all(r.ok for r in results), [r.failure for r in results if not r.ok]
    return wall, results


async def overhead(base_url: str, requests, concurrency: int, repeats: int) -> dict:
    """Total wall time of bare and layer runs of the same batch, alternated ABBA-style.

    Both runs of a pair see the same server state: llama.cpp keeps only the previous
    prompt's KV cache, and every batch starts after a batch of the same prompts.
    """
    bare_client = openai.AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    walls = {"bare": [], "layer": []}
    with open_llm(
        "openai:smollm2", base_url=base_url, concurrency=concurrency, use_cache=False
    ) as llm:
        runners = {
            "bare": lambda: bare_batch(bare_client, requests, concurrency),
            "layer": lambda: layer_batch(llm, requests),
        }
        for k in range(repeats):
            for name in ("bare", "layer") if k % 2 == 0 else ("layer", "bare"):
                walls[name].append((await runners[name]())[0])
    await bare_client.close()
    bare, ours = sum(walls["bare"]), sum(walls["layer"])
    pair_ratios = [b and o / b for b, o in zip(walls["bare"], walls["layer"], strict=True)]
    return {
        "bare_s": bare,
        "layer_s": ours,
        "ratio": ours / bare,
        "median_pair_ratio": statistics.median(pair_ratios),
    }


def cache_speedup(base_url: str, requests) -> dict:
    async def twice(cache_dir):
        with open_llm("openai:smollm2", base_url=base_url, cache_dir=cache_dir) as llm:
            return await layer_batch(llm, requests), await layer_batch(llm, requests)

    with tempfile.TemporaryDirectory() as cache_dir:
        (first, before), (second, after) = asyncio.run(twice(cache_dir))
    identical = [r.text for r in before] == [r.text for r in after]
    return {"first_s": first, "cached_s": second, "speedup": first / second, "identical": identical}


class _InstantHandler(BaseHTTPRequestHandler):
    """Answers every chat completion at once with the same tiny reply."""

    protocol_version = "HTTP/1.1"
    body = json.dumps(
        {"id": "x", "object": "chat.completion", "created": 0, "model": "stub",
         "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
         "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}}
    ).encode()  # fmt: skip

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


async def per_call_cost(requests, calls: int) -> tuple[float, float]:
    """Milliseconds per sequential call, bare client vs layer, against the instant stub."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _InstantHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    batch = (requests * calls)[:calls]
    bare_client = openai.AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    walls = {"bare": 0.0, "layer": 0.0}
    with open_llm("openai:stub", base_url=base_url, concurrency=1, use_cache=False) as llm:
        for k in range(4):
            for name in ("bare", "layer") if k % 2 == 0 else ("layer", "bare"):
                run = (
                    bare_batch(bare_client, batch, 1) if name == "bare" else layer_batch(llm, batch)
                )
                walls[name] += (await run)[0]
    await bare_client.close()
    httpd.shutdown()
    return walls["bare"] / (4 * calls) * 1000, walls["layer"] / (4 * calls) * 1000


async def _speed(base_url: str, requests) -> tuple[float, int]:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="not-needed", max_retries=0)
    await bare_batch(client, requests[:1], 1)  # warm-up
    result = await bare_batch(client, requests, 1)
    await client.close()
    return result


def _complete_reply(messages: list[dict], schema: dict | None) -> str:
    """A valid, complete reply for any TriRec schema: a score for every listed candidate."""
    import re

    from recagora.agents.llm.chat_models import minimal_instance

    value = minimal_instance(schema, schema) if schema else "ok"
    if isinstance(value, dict) and "scores" in value:
        listed = len(re.findall(r"^\d+ \|", messages[-1]["content"], re.M))
        value["scores"] = [{"id": i, "score": (3 * i) % 11} for i in range(1, listed + 1)]
    if isinstance(value, dict) and "reason" in value:
        value["reason"] = "I like dramas more than comedies these days."
    return json.dumps(value)


def trirec_prompts(agents: str, users: int = 8, rounds: int = 2) -> list[list[dict]]:
    """Every request's messages in a TriRec run with a complete-reply `fake:` LLM."""
    from recagora.environments.registry import get_scenario
    from recagora.experiments.runner.config import build_config
    from recagora.experiments.runner.runner import start_run

    recorded: list[list[dict]] = []

    def reply(messages, schema):
        recorded.append(messages)
        return _complete_reply(messages, schema)

    fields = {"scenario": "trirec", "llm": "fake:", "agents": agents, "users": users}
    config = build_config(get_scenario("trirec").config_cls, {**fields, "rounds": rounds})
    with (
        open_llm("fake:", fake_reply_fn=reply, use_cache=False) as llm,
        tempfile.TemporaryDirectory() as runs,
    ):
        start_run(config, runs_dir=runs, llm=llm)
    return recorded


def _prompt_kind(messages: list[dict]) -> str:
    if messages[0]["content"].startswith("You are a product promotion"):
        return "item promote"
    last = messages[-1]["content"]
    return (
        "score"
        if "score from 0 to 10" in last
        else "respond"
        if "Pick at most" in last
        else "reflect"
    )


def token_report(prompts: list[list[dict]], user_rounds: int, block: int = 16) -> dict:
    """Tokens per user-round and per request kind; the prefix-cacheable share."""
    from llama_cpp import Llama

    vocab = Llama(model_path=str(embedded_gguf_path("smollm2")), vocab_only=True, verbose=False)

    def chatml(messages):
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return (turns + "<|im_start|>assistant\n").encode()

    ids = [vocab.tokenize(chatml(m), add_bos=False, special=True) for m in prompts]
    reusable = 0
    for i, tokens in enumerate(ids):
        shared = max((_common_prefix(tokens, ids[j]) for j in range(i)), default=0)
        reusable += shared // block * block
    kinds: dict[str, list[int]] = {}
    for messages, tokens in zip(prompts, ids, strict=True):
        kinds.setdefault(_prompt_kind(messages), []).append(len(tokens))
    total = sum(map(len, ids))
    return {
        "requests_per_user_round": len(ids) / user_rounds,
        "input_tokens_per_user_round": total / user_rounds,
        "new_tokens_per_user_round": (total - reusable) / user_rounds,
        "prefix_cacheable_share": reusable / total,
        "mean_tokens_by_kind": {k: sum(v) / len(v) for k, v in sorted(kinds.items())},
    }


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def tokens_main() -> None:
    for agents in ("user=llm,item=surrogate", "user=llm,item=llm"):
        report = token_report(trirec_prompts(agents), user_rounds=8 * 2)
        print(agents, json.dumps(report, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=8, help="requests per batch")
    parser.add_argument(
        "--max-tokens", type=int, default=16, help="completion tokens per request (upper bound)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="alternated bare/layer runs per concurrency level"
    )
    parser.add_argument("--tokens", action="store_true", help="only TriRec's tokens per user-round")
    args = parser.parse_args()
    if args.tokens:
        tokens_main()
        return
    bare_ms, layer_ms = asyncio.run(per_call_cost(bench_requests(8, 16), calls=100))
    print(f"per-call cost against an instant stub server: bare client {bare_ms:.2f} ms, "
          f"layer {layer_ms:.2f} ms (+{layer_ms - bare_ms:.2f} ms per call)")  # fmt: skip
    threads = LLMConfig().resolved_n_threads()
    server = start_llamacpp_server(
        embedded_gguf_path("smollm2"), "smollm2", n_ctx=2048, n_threads=threads, ready_timeout_s=120
    )
    try:
        requests = bench_requests(args.requests, args.max_tokens, salt="bench-")
        wall, tokens = asyncio.run(_speed(server.base_url, requests))
        print(f"SmolLM2-135M Q4_1, llama.cpp server, {threads} thread(s): {tokens / wall:.1f} completion tokens/s "
              f"({tokens} tokens, {args.requests} requests, {wall:.2f} s, bare client, concurrency 1)")  # fmt: skip
        for level in (1, 8):
            row = asyncio.run(overhead(server.base_url, requests, level, args.repeats))
            print(f"concurrency {level}: bare {row['bare_s']:.2f} s, layer {row['layer_s']:.2f} s "
                  f"(totals of {args.repeats} alternated runs): overhead ratio {row['ratio']:.3f}x, "
                  f"median per-pair ratio {row['median_pair_ratio']:.3f}x (target < 1.05x)")  # fmt: skip
        row = cache_speedup(server.base_url, requests)
        print(f"cache: first run {row['first_s']:.3f} s, cached rerun {row['cached_s'] * 1000:.2f} ms, "
              f"{row['speedup']:.0f}x faster (target >= 50x), identical replies: {row['identical']}")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
