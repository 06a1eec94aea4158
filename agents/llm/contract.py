"""The contract between agents and the LLM layer.

Agents never talk to a backend directly: they build `LLMRequest`s and hand a whole
cohort to `LLMClient.structured_batch` / `chat_batch`, which runs them concurrently
(bounded), through the cache, retries and the ledger, and returns one `LLMResult`
per request IN ORDER. A reply that cannot be parsed into the schema even after the
repair re-ask comes back with `failure` set: the caller must handle it (count it,
fall back), never crash and never drop the agent. A batch may instead RAISE a
`RunPaused` (see `failures.py`): `LLMAuthError` on a refused key, and
`LLMFailureRateExceeded` when too many of its requests failed; let it propagate (the
runner pauses the run at its checkpoint).

Implementation: `recagora.agents.llm.client` (open with `open_llm(spec, ...)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel

SchemaT = TypeVar("SchemaT", bound=BaseModel)
ValueT = TypeVar("ValueT")

# "auth" never reaches an agent: a refused key raises `LLMAuthError` (the ledger counts it).
FailureKind = Literal[
    "invalid_schema", "transport", "timeout", "server_died", "rate_limited", "auth", "other"
]


@dataclass(frozen=True)
class LLMRequest:
    """One chat request. `messages` are {"role": ..., "content": ...} dicts.

    tag: who asks (e.g. "user_agent.score"); the ledger groups by it.
    sample_index: with temperature > 0, distinct indices are distinct cached samples.
    top_logprobs: > 0 asks for the log-probabilities of the `top_logprobs` likeliest
        FIRST reply tokens (OpenAI-compatible `logprobs`); the result's value is then
        their JSON object {token: logprob}: one forward pass, no sampling (see
        `agents/llm/logprobs.py`).
    """

    messages: tuple[dict[str, str], ...]
    temperature: float = 0.0
    max_tokens: int = 256
    seed: int = 0
    sample_index: int = 0
    tag: str = "default"
    top_logprobs: int = 0


@dataclass(frozen=True)
class LLMFailure:
    kind: FailureKind
    message: str


@dataclass
class LLMResult(Generic[ValueT]):
    """The outcome of one request. Exactly one of `value` / `failure` is set."""

    value: ValueT | None
    text: str = ""
    failure: LLMFailure | None = None
    cached: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    call_id: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure is None


class LLMClient(Protocol):
    """What agents hold (run-scoped; put it in the LangGraph runtime context)."""

    spec: str

    async def chat_batch(self, requests: list[LLMRequest]) -> list[LLMResult[str]]: ...

    async def structured_batch(
        self, requests: list[LLMRequest], schema: type[SchemaT]
    ) -> list[LLMResult[SchemaT]]: ...

    def ledger_summary(self) -> dict: ...

    def close(self) -> None: ...
