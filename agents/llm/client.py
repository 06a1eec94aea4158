"""`open_llm(spec)`: the run-scoped `LLMClient` agents hold (see `contract.py`).

Every request goes: cache lookup -> bounded concurrency (one semaphore per event
loop) -> the backend's chat model with per-attempt timeout and retries (tenacity:
exponential backoff with full jitter, honouring Retry-After) -> for structured
requests, pydantic validation and one repair re-ask -> cache write -> ledger.
A backend that dies mid-run turns every request not yet answered into a
`server_died` failure; answers so far are kept. Each batch is a "stage": a refused
key raises `LLMAuthError` at once, and a stage with too many failures raises
`LLMFailureRateExceeded` once it is over (rules in `failures.py`). The ledger file
(`ledger_path`) is continued from and rewritten after every batch.

Example:
    with open_llm("llamacpp:smollm2") as llm:
        results = llm.structured_batch_sync([LLMRequest(messages=(...,))], MySchema)
        llm.print_ledger()
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import weakref
from pathlib import Path

from pydantic import BaseModel

from recagora.agents.llm.aio import gather_or_cancel, run_sync
from recagora.agents.llm.backends import Backend, open_backend
from recagora.agents.llm.cache import MEMORY, ResponseCache, cache_key, cached_result, storable
from recagora.agents.llm.config import LLMConfig
from recagora.agents.llm.contract import LLMFailure, LLMRequest, LLMResult, SchemaT
from recagora.agents.llm.failures import auth_error, key_source, stage_failure
from recagora.agents.llm.ledger import Ledger
from recagora.agents.llm.logprobs import logprob_result
from recagora.agents.llm.retry import CallFailed, call_with_retries
from recagora.agents.llm.structured import (
    MODES,
    json_schema_of,
    parse_reply,
    repair_messages,
    response_format_for,
    schema_instruction,
)

log = logging.getLogger(__name__)


def open_llm(
    spec: str = LLMConfig.spec,
    *,
    cache_dir: Path | str | None = None,
    concurrency: int = 8,
    timeout_s: float = 120.0,
    max_retries: int = 4,
    prices: dict[str, tuple[float, float]] | None = None,
    ledger_path: Path | str | None = None,
    **options,
) -> LLMLayerClient:
    """Open the backend `spec` names (starting its server if local) and wrap it.

    Args:
        spec: openai:<model>, llamacpp:smollm2, llamacpp:<file.gguf>, vllm:<hf-model> or fake:.
        cache_dir, concurrency, timeout_s, max_retries, prices, ledger_path: see `LLMConfig`.
        **options: any other `LLMConfig` field (base_url, api_key, structured_mode, ...).

    Returns:
        An `LLMLayerClient`; use it as a context manager (or call `close()`) to stop servers.

    Raises:
        ModelError: unknown spec, missing model/package/GPU, or a server that does not start.
    """
    config = LLMConfig(
        spec=spec,
        cache_dir=cache_dir,
        concurrency=concurrency,
        timeout_s=timeout_s,
        max_retries=max_retries,
        prices=prices,
        ledger_path=Path(ledger_path) if ledger_path else None,
        **options,
    )
    return LLMLayerClient(config)


class LLMLayerClient:
    """Cached, metered, bounded, retrying access to one backend (implements `LLMClient`)."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.backend: Backend = open_backend(config)
        try:
            self.cache = self._open_cache(config)
        except BaseException:
            self.backend.stop()
            raise
        self.spec = config.spec
        self.model = self.backend.spec.model
        self.structured_mode = self.backend.structured_mode
        try:
            self.ledger = self._open_ledger(config)
        except BaseException:
            self.backend.stop()
            raise
        if self.backend.fleet is not None:  # per-endpoint calls and latency
            self.backend.fleet.observer = self.ledger.record_endpoint
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._dead_message: str | None = None
        self._auth_message: str | None = None
        self._closed = False

    def _open_ledger(self, config: LLMConfig) -> Ledger:
        fields = {
            "spec": config.spec,
            "model": self.model,
            "is_local": self.backend.spec.is_local,
            **({"prices": config.prices} if config.prices is not None else {}),
        }
        if config.ledger_path is None:
            return Ledger(**fields)
        return Ledger.continued(config.ledger_path, **fields)

    @staticmethod
    def _open_cache(config: LLMConfig) -> ResponseCache | None:
        if not config.use_cache:
            return None
        # fake: scripts change between tests; persist them only where the caller says.
        if config.cache_dir is None and config.spec.startswith("fake:"):
            return ResponseCache(MEMORY)
        return ResponseCache(config.cache_dir)

    @property
    def chat_model(self):
        """The langchain-core `BaseChatModel` underneath (for plain LangChain use)."""
        return self.backend.chat_model

    # ---- batch API (contract) -------------------------------------------------------

    async def chat_batch(self, requests: list[LLMRequest]) -> list[LLMResult[str]]:
        """Answer every request (concurrently, bounded); one result per request, in order.

        Raises:
            LLMAuthError: the backend refused the key (the rest of the batch is cancelled).
            LLMFailureRateExceeded: too many requests of this batch failed (see failures.py).
        """
        return await self._stage(requests, None)

    async def structured_batch(
        self, requests: list[LLMRequest], schema: type[SchemaT]
    ) -> list[LLMResult[SchemaT]]:
        """Like `chat_batch`, but each value is a validated `schema` instance (or a failure)."""
        return await self._stage(requests, schema)

    async def _stage(self, requests: list[LLMRequest], schema: type[BaseModel] | None) -> list:
        started = time.perf_counter()
        try:
            results = await gather_or_cancel([self._answer(r, schema) for r in requests])
        finally:
            self.ledger.record_batch(time.perf_counter() - started)
            self._flush_ledger()
        # An in-memory cache ends with the process: a resume would ask everything again.
        persisted = self.cache is not None and self.cache.path != MEMORY
        pause = stage_failure(results, self.spec, self.config.max_failure_rate, persisted)
        if pause is not None:
            raise pause
        return results

    def chat_batch_sync(self, requests: list[LLMRequest]) -> list[LLMResult[str]]:
        """`chat_batch` for scripts (works inside a running event loop too, via a thread)."""
        return run_sync(self._in_own_loop(self.chat_batch(requests)))

    def structured_batch_sync(
        self, requests: list[LLMRequest], schema: type[SchemaT]
    ) -> list[LLMResult[SchemaT]]:
        """`structured_batch` for scripts."""
        return run_sync(self._in_own_loop(self.structured_batch(requests, schema)))

    async def _in_own_loop(self, batch):
        """Run `batch`, then close the HTTP client bound to this short-lived loop."""
        try:
            return await batch
        finally:
            closer = getattr(self.chat_model, "aclose_loop_client", None)
            if closer is not None:
                await closer()

    def ask(
        self, prompt: str, schema: type[BaseModel] | None = None, **request_fields
    ) -> LLMResult:
        """One user message, answered synchronously (a convenience for notebooks and checks)."""
        request = LLMRequest(messages=({"role": "user", "content": prompt},), **request_fields)
        if schema is None:
            return self.chat_batch_sync([request])[0]
        return self.structured_batch_sync([request], schema)[0]

    # ---- one request ----------------------------------------------------------------

    async def _answer(self, request: LLMRequest, schema: type[BaseModel] | None) -> LLMResult:
        key = self._key(request, schema)
        result = self._from_cache(key, schema)
        if result is None:
            async with self._semaphore():
                result = await self._answer_uncached(request, schema)
            result.call_id = key[:16]
            self._store(key, result)
        self.ledger.record_result(request.tag, result)
        return result

    async def _answer_uncached(
        self, request: LLMRequest, schema: type[BaseModel] | None
    ) -> LLMResult:
        if self._auth_message is not None:
            raise auth_error(self.spec, *self._auth_message)
        if self._dead_message is not None:
            return _failed("server_died", self._dead_message)
        started = time.perf_counter()
        try:
            if schema is None:
                result = await self._chat(request)
            else:
                result = await self._structured(request, schema)
        except CallFailed as failure:
            if failure.kind == "auth":
                self._refused_key(request, failure)
            result = _failed(
                failure.kind, failure.message, failure.prompt_tokens, failure.completion_tokens
            )
            if failure.kind == "server_died":
                self._mark_dead(failure.message)
        result.latency_s = time.perf_counter() - started
        return result

    async def _chat(self, request: LLMRequest) -> LLMResult[str]:
        reply = await self._call(list(request.messages), request, response_format=None)
        if request.top_logprobs:
            return logprob_result(reply.text, reply.top_logprobs, **reply.counts())
        return LLMResult(value=reply.text, text=reply.text, **reply.counts())

    async def _structured(self, request: LLMRequest, schema: type[BaseModel]) -> LLMResult:
        messages = list(request.messages)
        reply = await self._structured_call(messages, request, schema)
        value, error = parse_reply(reply.text, schema)
        if value is None:
            self.ledger.record_repair()
            bad_text = reply.text
            reply = reply + await self._structured_call(
                repair_messages(messages, bad_text, error, schema), request, schema
            )
            value, error = parse_reply(reply.text, schema)
            if value is None:
                failure = LLMFailure("invalid_schema", f"after one repair re-ask: {error}")
                return LLMResult(value=None, text=reply.text, failure=failure, **reply.counts())
            return LLMResult(
                value=value, text=reply.text, extra={"repaired": True}, **reply.counts()
            )
        return LLMResult(value=value, text=reply.text, **reply.counts())

    async def _structured_call(self, messages: list[dict], request: LLMRequest, schema) -> _Reply:
        """One structured call; a server that rejects the constraint downgrades the mode once."""
        while True:
            mode = self.structured_mode
            sent = [schema_instruction(schema), *messages] if mode == "prompt" else messages
            try:
                return await self._call(sent, request, response_format_for(schema, mode))
            except CallFailed as failure:
                if not (failure.rejected_request and mode != "prompt"):
                    raise
                self._downgrade_mode(mode, failure.message)

    def _downgrade_mode(self, mode: str, reason: str) -> None:
        if self.structured_mode == mode:  # another request may have downgraded already
            self.structured_mode = MODES[MODES.index(mode) + 1]
            log.warning(
                "%s rejected structured mode %s (%s); using %s",
                self.spec,
                mode,
                reason,
                self.structured_mode,
            )

    async def _call(self, messages: list[dict], request: LLMRequest, response_format) -> _Reply:
        params = {
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": _sample_seed(request),
        }
        if response_format is not None:
            params["response_format"] = response_format
        if request.top_logprobs:
            params.update(logprobs=True, top_logprobs=request.top_logprobs)
        message = await call_with_retries(
            self.backend,
            self.config,
            self.ledger,
            lambda: self.chat_model.ainvoke(messages, **params),
        )
        usage = message.usage_metadata or {}
        return _Reply(
            str(message.content),
            usage.get("input_tokens", 0),
            usage.get("output_tokens", 0),
            (message.response_metadata or {}).get("top_logprobs"),
        )

    # ---- cache, liveness, ledger ----------------------------------------------------

    def _key(self, request: LLMRequest, schema: type[BaseModel] | None) -> str:
        return cache_key(
            backend=self.backend.spec.kind,
            model=self.backend.cache_identity,
            messages=list(request.messages),
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            seed=request.seed,
            sample_index=request.sample_index,
            schema=json_schema_of(schema) if schema is not None else None,
            # only when asked: the keys of every earlier cached reply stay as they were
            **({"top_logprobs": request.top_logprobs} if request.top_logprobs else {}),
        )

    def _from_cache(self, key: str, schema: type[BaseModel] | None) -> LLMResult | None:
        stored = self.cache.get(key) if self.cache is not None else None
        return None if stored is None else cached_result(stored, schema, call_id=key[:16])

    def _store(self, key: str, result: LLMResult) -> None:
        stored = storable(result) if self.cache is not None else None
        if stored is not None:
            self.cache.put(key, self.backend.spec.kind, self.backend.cache_identity, stored)

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if loop not in self._semaphores:
            self._semaphores[loop] = asyncio.Semaphore(self.config.concurrency)
        return self._semaphores[loop]

    def _mark_dead(self, message: str) -> None:
        if self._dead_message is None:
            self._dead_message = message
            # Info only: the stage's pause (LLMFailureRateExceeded) tells the user.
            log.info("%s: %s; the rest fail as server_died", self.spec, message)

    def _refused_key(self, request: LLMRequest, failure: CallFailed) -> None:
        """Count the refusal, remember it (later requests fail at once) and raise it."""
        self.ledger.record_result(request.tag, _failed("auth", failure.message))
        if self._auth_message is None:
            self._auth_message = (key_source(self.config.api_key), failure.message)
        raise auth_error(self.spec, *self._auth_message)

    def _flush_ledger(self) -> None:
        """Rewrite the ledger file after each batch: a killed process loses one batch at most."""
        if self.config.ledger_path is not None:
            self.write_ledger(self.config.ledger_path)

    def ledger_summary(self) -> dict:
        """The ledger as a JSON-able dict (see `Ledger.summary`)."""
        fleet = self.backend.fleet
        return (
            self.ledger.summary()
            | {"structured_mode": self.structured_mode}
            | ({"endpoints": fleet.states()} if fleet is not None else {})
        )

    def print_ledger(self, console=None) -> None:
        """Print the ledger as a rich table."""
        self.ledger.print_table(console)

    def write_ledger(self, run_dir: Path | str) -> Path:
        """Write the ledger JSON into `run_dir` (or to that file path); return the path."""
        return self.ledger.write_json(run_dir)

    # ---- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        """Stop any server we started, write the ledger to `ledger_path`, close the cache."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.config.ledger_path is not None:
                self.write_ledger(self.config.ledger_path)
        finally:
            self.backend.stop()
            if self.cache is not None:
                self.cache.close()

    def __enter__(self) -> LLMLayerClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    async def __aenter__(self) -> LLMLayerClient:
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.close()


@dataclasses.dataclass
class _Reply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    top_logprobs: dict[str, float] | None = None

    def __add__(self, later: _Reply) -> _Reply:
        """The later reply's text with the tokens of both calls."""
        return _Reply(
            later.text,
            self.prompt_tokens + later.prompt_tokens,
            self.completion_tokens + later.completion_tokens,
        )

    def counts(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


def _failed(
    kind: str, message: str, prompt_tokens: int = 0, completion_tokens: int = 0
) -> LLMResult:
    return LLMResult(
        value=None,
        failure=LLMFailure(kind, message),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def _sample_seed(request: LLMRequest) -> int:
    """The seed sent to the server: distinct per sample index when sampling (temperature > 0)."""
    if request.temperature <= 0:
        return request.seed
    return (request.seed * 1_000_003 + request.sample_index) % (2**31 - 1)
