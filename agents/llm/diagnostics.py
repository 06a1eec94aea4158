"""Backend health check and throughput measurement (what `recagora llm check|bench` call)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from pydantic import BaseModel, Field

from recagora.agents.llm.aio import gather_or_cancel
from recagora.agents.llm.contract import LLMRequest, LLMResult

CHECK_PROMPT = "Greet a new user of a movie recommender in a few words. Reply in JSON."
BENCH_TOPICS = (
    "science fiction",
    "comedy",
    "documentary",
    "thriller",
    "animation",
    "romance",
    "western",
    "horror",
)


class Greeting(BaseModel):
    """The tiny structured reply `check` asks for."""

    greeting: str = Field(description="a short greeting")


@dataclass(frozen=True)
class CheckReport:
    """One structured call's outcome. latency_s: wall seconds; tokens_per_s: completion tokens / latency."""

    spec: str
    model: str
    structured_mode: str
    result: LLMResult
    tokens_per_s: float


@dataclass(frozen=True)
class ThroughputRow:
    """One concurrency level: `requests` answered in `wall_s` seconds."""

    concurrency: int
    requests: int
    failures: int
    wall_s: float
    completion_tokens: int
    latency_p50_s: float

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.wall_s

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.wall_s


def check_backend(llm, max_tokens: int = 48) -> CheckReport:
    """One tiny structured call straight to the backend (the cache is bypassed by a fresh seed)."""
    request = LLMRequest(
        messages=({"role": "user", "content": CHECK_PROMPT},),
        max_tokens=max_tokens,
        seed=time.time_ns() % 2**31,
        tag="llm.check",
    )
    result = llm.structured_batch_sync([request], Greeting)[0]
    speed = result.completion_tokens / result.latency_s if result.latency_s > 0 else 0.0
    return CheckReport(llm.spec, llm.model, llm.structured_mode, result, speed)


def bench_requests(count: int, max_tokens: int, salt: str = "") -> list[LLMRequest]:
    """`count` distinct short chat requests (distinct so that no cache can answer them)."""
    return [
        LLMRequest(
            messages=(
                {
                    "role": "user",
                    "content": f"Recommend one {BENCH_TOPICS[i % len(BENCH_TOPICS)]} film "
                    f"for viewer {salt}{i} in one sentence.",
                },
            ),
            max_tokens=max_tokens,
            tag="llm.bench",
        )
        for i in range(count)
    ]


async def measure_throughput(
    llm, levels: tuple[int, ...] = (1, 4, 8), requests_per_level: int = 8, max_tokens: int = 32
) -> list[ThroughputRow]:
    """Answer `requests_per_level` fresh requests at each concurrency level; one row per level.

    The client's own bound must be >= max(levels); each level gets its own prompts.
    """
    rows = []
    for level in levels:
        requests = bench_requests(
            requests_per_level, max_tokens, salt=f"c{level}-{time.time_ns()}-"
        )
        started = time.perf_counter()
        results = await _bounded_chat(llm, requests, level)
        wall = time.perf_counter() - started
        latencies = sorted(r.latency_s for r in results)
        rows.append(
            ThroughputRow(
                concurrency=level,
                requests=len(results),
                failures=sum(not r.ok for r in results),
                wall_s=wall,
                completion_tokens=sum(r.completion_tokens for r in results),
                latency_p50_s=latencies[len(latencies) // 2],
            )
        )
    return rows


async def _bounded_chat(llm, requests: list[LLMRequest], level: int) -> list[LLMResult]:
    gate = asyncio.Semaphore(level)

    async def one(request: LLMRequest) -> LLMResult:
        async with gate:
            return (await llm.chat_batch([request]))[0]

    # A refused key raises from one request: stop the others rather than orphan them.
    return await gather_or_cancel([one(r) for r in requests])
