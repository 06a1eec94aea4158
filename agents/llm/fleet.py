"""An LLM fleet: several OpenAI-compatible endpoints behind one chat model (`FleetChat`).

Routing is least-outstanding-requests (ties go round robin), with an optional cap of
requests in flight per endpoint: a request that finds every live endpoint full waits
for a slot. With `routing="prefix_affinity"` a request goes to the endpoint its prompt's
opening hashes to (rendezvous hashing, so a dead endpoint moves only its own prompts)
while that endpoint has at most `affinity_slack` more requests in flight than the least
busy one: the requests of one user, which open with the same memory, then meet the KV
blocks their server's prefix cache already holds (docs/scale-plan.md, section 3). An endpoint whose connection fails is checked at once (its managed server's
process, else `GET /models` within `PROBE_TIMEOUT_S`): a dead one is benched and the
request is sent again, at once, to another endpoint (failover). The request is still
ONE request of the layer: it is answered once, cached once and counted once in the
ledger (each HTTP call is counted per endpoint). A benched endpoint is probed again
after `cooldown_s` and comes back when it answers; a managed server that exited never
does. When no endpoint is left the call raises `FleetDown`, which the layer treats as
a dead server (the stage pauses; a resume asks only what failed).

Why not LiteLLM's Router (least-busy routing, cooldowns, retries): it is a heavy
dependency (tiktoken, whose encodings download at first use, plus many providers'
SDKs), and it is a retry loop of its own, whose retries the ledger would not see and
which would double ours (tenacity, in retry.py); what we need on top of ours is the
small routing and health part below.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import ConfigDict, PrivateAttr

from recagora.agents.llm.aio import run_sync

log = logging.getLogger(__name__)

ROUTINGS = ("least_outstanding", "prefix_affinity")
# The affinity key: the first message when it is this long (the LLM user's system message
# holds its memory), else the prompt's first AFFINITY_CHARS characters (the item agent's
# short static system message is followed by the audience).
AFFINITY_MIN_CHARS = 400
AFFINITY_CHARS = 1024
PROBE_TIMEOUT_S = 2.0  # a live llama.cpp server busy generating still answers /models at once
WAIT_RECHECK_S = 0.25  # a request waiting for a slot re-checks the fleet this often

# (endpoint url, seconds, ok) for each HTTP call; the client points it at the ledger.
Observer = Callable[[str, float, bool], None]


class FleetDown(Exception):
    """No endpoint of the fleet is left to send a request to."""


@dataclass(eq=False)
class Endpoint:
    """One OpenAI-compatible endpoint of a fleet.

    chat: its own chat model (one HTTP client per event loop).
    server: the server process we started for it, None for a URL we were given.
    outstanding: requests in flight on it now.
    down_until: None while healthy; monotonic seconds when it may be probed again
        (math.inf: a managed server that exited, never probed again).
    """

    index: int
    base_url: str
    chat: BaseChatModel
    server: Any = None
    outstanding: int = 0
    down_until: float | None = None
    why_down: str = ""

    def usable(self) -> bool:
        return self.down_until is None

    def exited(self) -> bool:
        """True when we started its server and that process has ended."""
        return self.server is not None and not self.server.alive()

    async def answers(self) -> bool:
        """Health check: the process runs (when managed) and `GET /models` answers 200."""
        if self.exited():
            return False
        try:
            async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
                return (await client.get(f"{self.base_url}/models")).status_code == 200
        except httpx.HTTPError:
            return False


class FleetChat(BaseChatModel):
    """A chat model that routes each call to one endpoint of `endpoints`.

    endpoint_cap: most requests in flight per endpoint (None: no cap of its own; the
        client's `concurrency` bounds the total).
    cooldown_s: seconds a benched endpoint waits before it is probed again.
    observer: told of every HTTP call (the ledger's per-endpoint figures).
    routing: "least_outstanding" or "prefix_affinity" (see the module docstring).
    affinity_slack: prefix_affinity: extra requests in flight the preferred endpoint may
        have over the least busy one before the request goes elsewhere.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    endpoints: list[Endpoint]
    endpoint_cap: int | None = None
    cooldown_s: float = 10.0
    observer: Observer | None = None
    routing: str = "least_outstanding"
    affinity_slack: int = 4
    _ties: Any = PrivateAttr(default_factory=itertools.count)
    _conditions: weakref.WeakKeyDictionary = PrivateAttr(default_factory=weakref.WeakKeyDictionary)

    @property
    def _llm_type(self) -> str:
        return "openai-compatible-fleet"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"endpoints": [e.base_url for e in self.endpoints]}

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        raise NotImplementedError("the fleet routes async calls only (the layer is async)")

    async def _agenerate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        failed: set[int] = set()
        key = affinity_key(messages) if self.routing == "prefix_affinity" else None
        while True:
            endpoint = await self._lease(failed, key)
            started = time.perf_counter()
            try:
                result = await endpoint.chat._agenerate(messages, stop=stop, **kwargs)
            except Exception as error:
                self._observe(endpoint, started, ok=False)
                if not await self._is_down(endpoint, error):
                    raise  # the endpoint lives: the layer's retry policy decides
                failed.add(endpoint.index)
                log.info("fleet: %s is down (%s); failing over", endpoint.base_url, error)
                continue
            finally:
                await self._release(endpoint)
            self._observe(endpoint, started, ok=True)
            return result

    # ---- routing ----------------------------------------------------------------------

    async def _lease(self, failed: set[int], key: bytes | None = None) -> Endpoint:
        """The live endpoint with room under the cap: the key's preferred one when it is
        not much busier than the rest, else the one with the fewest requests in flight."""
        await self._probe_due()
        condition = self._condition()
        async with condition:
            while (choice := self._pick(failed, key)) is None:
                if not any(e.usable() and e.index not in failed for e in self.endpoints):
                    raise FleetDown(self.down_message())
                # a slot frees up (release notifies), or re-check: endpoints may die
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(condition.wait(), WAIT_RECHECK_S)
            choice.outstanding += 1
            return choice

    def _pick(self, failed: set[int], key: bytes | None = None) -> Endpoint | None:
        cap = self.endpoint_cap or math.inf
        open_ = [
            e
            for e in self.endpoints
            if e.usable() and e.index not in failed and e.outstanding < cap
        ]
        if not open_:
            return None
        turn = next(self._ties) % len(self.endpoints)
        least = min(open_, key=lambda e: (e.outstanding, (e.index - turn) % len(self.endpoints)))
        if key is None:
            return least
        live = [e for e in self.endpoints if e.usable() and e.index not in failed]
        preferred = max(live, key=lambda e: _weight(key, e.base_url))
        if preferred in open_ and preferred.outstanding <= least.outstanding + self.affinity_slack:
            return preferred
        return least

    async def _release(self, endpoint: Endpoint) -> None:
        endpoint.outstanding -= 1
        condition = self._condition()
        async with condition:
            condition.notify_all()

    def _condition(self) -> asyncio.Condition:
        # One per event loop: the sync wrappers run each batch in a fresh loop.
        loop = asyncio.get_running_loop()
        if loop not in self._conditions:
            self._conditions[loop] = asyncio.Condition()
        return self._conditions[loop]

    # ---- health -----------------------------------------------------------------------

    async def _is_down(self, endpoint: Endpoint, error: BaseException) -> bool:
        """After a failed call: bench the endpoint when it is dead (connection-level
        failure and no health answer). Slow replies, 5xx and the like are not failover."""
        if not isinstance(error, openai.APIConnectionError) or isinstance(
            error, openai.APITimeoutError
        ):
            return False
        if endpoint.usable() and await endpoint.answers():
            return False  # one dropped connection of a live server: an ordinary retry
        self.bench(endpoint, f"{type(error).__name__}: {str(error)[:120]}")
        return True

    def bench(self, endpoint: Endpoint, why: str) -> None:
        """Take `endpoint` out of routing (for good when its managed server exited)."""
        if endpoint.down_until is None:
            log.warning("fleet: %s is down (%s)", endpoint.base_url, why)
        endpoint.why_down = why
        gone = endpoint.exited()
        endpoint.down_until = math.inf if gone else time.monotonic() + self.cooldown_s

    async def _probe_due(self) -> None:
        """Probe each benched endpoint whose cooldown is over; bring back those that answer."""
        now = time.monotonic()
        for endpoint in self.endpoints:
            if endpoint.down_until is None or endpoint.down_until > now:
                continue
            endpoint.down_until = now + self.cooldown_s  # one probe at a time
            if await endpoint.answers():
                endpoint.down_until = None
                log.warning("fleet: %s answers again; back in the fleet", endpoint.base_url)

    def alive(self) -> bool:
        """False once every endpoint is a managed server that has exited."""
        return any(not e.exited() for e in self.endpoints)

    def down_message(self) -> str:
        """One line naming every endpoint and why it is down."""
        parts = [f"{e.base_url} ({e.why_down or 'down'})" for e in self.endpoints]
        return f"every endpoint of the LLM fleet is down: {'; '.join(parts)}"

    def states(self) -> dict[str, str]:
        """url -> "up" | "down: why" (for the ledger summary)."""
        return {e.base_url: "up" if e.usable() else f"down: {e.why_down}" for e in self.endpoints}

    def _observe(self, endpoint: Endpoint, started: float, ok: bool) -> None:
        if self.observer is not None:
            self.observer(endpoint.base_url, time.perf_counter() - started, ok)

    async def aclose_loop_client(self) -> None:
        """Close every endpoint's client bound to this event loop."""
        for endpoint in self.endpoints:
            closer = getattr(endpoint.chat, "aclose_loop_client", None)
            if closer is not None:
                await closer()


def affinity_key(messages: list[BaseMessage]) -> bytes:
    """The opening of a prompt that tells one user's requests from another's (see
    AFFINITY_MIN_CHARS)."""
    first = str(messages[0].content) if messages else ""
    if len(first) >= AFFINITY_MIN_CHARS:
        return first.encode()
    return "\n".join(str(m.content) for m in messages)[:AFFINITY_CHARS].encode()


def _weight(key: bytes, url: str) -> bytes:
    """Rendezvous (highest random weight) hashing: each key prefers the URL with the
    largest digest; when that URL leaves, only its keys move."""
    return hashlib.blake2b(key + b"|" + url.encode(), digest_size=8).digest()


def check_endpoints(fleet: FleetChat) -> None:
    """At open: probe every endpoint; warn (one line each) about those that do not answer,
    and raise `FleetDown` when none does."""

    async def probe_all() -> list[bool]:
        return list(await asyncio.gather(*(e.answers() for e in fleet.endpoints)))

    answered = run_sync(probe_all())
    if not any(answered):  # one error line, no warning per endpoint before it
        for endpoint in fleet.endpoints:
            endpoint.why_down = "does not answer GET /models"
        raise FleetDown(fleet.down_message())
    for endpoint, ok in zip(fleet.endpoints, answered, strict=True):
        if not ok:
            fleet.bench(endpoint, "does not answer GET /models")
