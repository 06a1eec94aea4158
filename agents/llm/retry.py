"""Timeouts, retries and failure classification for one backend call.

Retries use tenacity (already a langchain-core dependency) rather than the `openai`
client's built-in retries, which are invisible to us: here every retry is counted in
the ledger by kind, a dead server stops the retries at once, and `fake:` and any
other chat model get the same policy. Backoff is exponential with full jitter
(AWS "Exponential Backoff And Jitter", 2015), raised to a server's Retry-After.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import openai
from langchain_core.messages import BaseMessage
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from recagora.agents.llm.chat_models import GarbageReplyError
from recagora.agents.llm.fleet import FleetDown

RETRY_AFTER_CAP_S = 60.0


class CallFailed(Exception):
    """A call that failed for good.

    kind: the contract's FailureKind. rejected_request: the server refused the
    request's `response_format` (the caller may retry with a weaker structured mode).
    """

    def __init__(self, kind: str, message: str, *, rejected_request: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.rejected_request = rejected_request
        self.prompt_tokens = 0
        self.completion_tokens = 0


class _ServerGone(Exception):
    """The server we started has exited (never retried)."""


def rejects_response_format(error: BaseException) -> bool:
    """The server refused the request's `response_format` (llama-cpp-python answers 500 to
    "json_schema", with a pydantic error naming the accepted types; others answer 400/422)."""
    if not isinstance(error, openai.APIStatusError) or error.status_code not in (400, 422, 500):
        return False
    return any(word in str(error) for word in ("response_format", "json_schema", "json_object"))


def classify(error: BaseException) -> tuple[str, bool]:
    """(failure kind, retryable) for an exception raised by a chat-model call."""
    if rejects_response_format(error):
        return "other", False
    if isinstance(error, openai.AuthenticationError | openai.PermissionDeniedError):
        return "auth", False
    if isinstance(error, TimeoutError | openai.APITimeoutError):
        return "timeout", True
    if isinstance(error, openai.RateLimitError):
        return "rate_limited", True
    if isinstance(error, openai.APIStatusError):
        return (
            ("transport", True)
            if error.status_code >= 500 or error.status_code in (408, 409)
            else ("other", False)
        )
    if isinstance(error, openai.APIConnectionError | openai.APIResponseValidationError):
        return "transport", True
    if isinstance(error, GarbageReplyError | json.JSONDecodeError):
        return "transport", True
    if isinstance(error, _ServerGone | FleetDown):
        return "server_died", False
    return "other", False


def _is_retryable(error: BaseException) -> bool:
    return classify(error)[1]


def _retry_after_s(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return min(float(headers[header]) / divisor, RETRY_AFTER_CAP_S)
        except (KeyError, TypeError, ValueError):
            continue
    return None


class _BackoffWithRetryAfter(wait_random_exponential):
    """Full-jitter exponential backoff, but never shorter than the server's Retry-After."""

    def __call__(self, retry_state) -> float:
        jittered = super().__call__(retry_state)
        asked = _retry_after_s(retry_state.outcome.exception())
        return jittered if asked is None else max(jittered, asked)


def _refused(error: BaseException) -> bool:
    """True when nothing listens at the address (connection refused, not a dropped reply)."""
    cause = error.__cause__
    return isinstance(error, openai.APIConnectionError) and type(cause).__name__ == "ConnectError"


async def call_with_retries(
    backend, config, ledger, make_call: Callable[[], Awaitable[BaseMessage]]
) -> BaseMessage:
    """Run `make_call()` with a per-attempt timeout and retries; raise `CallFailed` at the end.

    Args:
        backend: the `Backend` (for liveness of a server we started).
        config: the `LLMConfig` (timeout_s, max_retries, retry_backoff_s, retry_backoff_max_s).
        ledger: counts each attempt and each retry by kind.
        make_call: starts one attempt; returns the reply message.
    """

    def count_retry(retry_state) -> None:
        ledger.record_retry(classify(retry_state.outcome.exception())[0])

    retrying = AsyncRetrying(
        stop=stop_after_attempt(config.max_retries + 1),
        wait=_BackoffWithRetryAfter(
            multiplier=config.retry_backoff_s, max=config.retry_backoff_max_s
        ),
        retry=retry_if_exception(_is_retryable),
        before_sleep=count_retry,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await _attempt(backend, config, ledger, make_call)
    except Exception as error:  # noqa: BLE001 -- every failure becomes a typed CallFailed
        raise _as_call_failed(backend, error) from error
    raise AssertionError("unreachable: tenacity either returns or re-raises")


async def _attempt(backend, config, ledger, make_call) -> BaseMessage:
    if not backend.alive():
        raise _ServerGone(backend.exit_message())
    ledger.record_call()
    deadline = asyncio.timeout(config.timeout_s)
    try:
        async with deadline:
            return await make_call()
    except TimeoutError as error:
        if not deadline.expired():  # the call's own timeout error: keep its message
            raise
        raise TimeoutError(f"no reply within {config.timeout_s:g} s") from error


def _as_call_failed(backend, error: BaseException) -> CallFailed:
    kind, _ = classify(error)
    if kind == "transport" and not backend.alive():
        return CallFailed("server_died", backend.exit_message())
    # A fleet fails over from a refusing endpoint itself (fleet.py); FleetDown says when all are.
    if kind == "transport" and backend.fleet is None and _refused(error):
        where = backend.base_url or "the server"
        return CallFailed("server_died", f"{where} refuses connections (server down?)")
    if kind == "auth":
        return CallFailed(kind, _auth_detail(error))
    if kind == "server_died":  # _ServerGone / FleetDown carry the server's own exit message
        return CallFailed(kind, str(error))
    message = f"{type(error).__name__}: {str(error)[:300]}"
    return CallFailed(kind, message, rejected_request=rejects_response_format(error))


def _auth_detail(error: openai.APIStatusError) -> str:
    """Status, error class and the provider's error code: never the body, which may quote
    part of the key (OpenAI answers "Incorrect API key provided: sk-ab***yz")."""
    code = getattr(error, "code", None)
    return f"{error.status_code} {type(error).__name__}" + (f" {str(code)[:40]}" if code else "")
