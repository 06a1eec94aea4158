"""The langchain-core chat models behind every spec.

`OpenAICompatibleChat` is a thin `BaseChatModel` over the official `openai` client; it
serves `openai:`, `llamacpp:` and `vllm:` (the last two are OpenAI-compatible servers
we start). Why not `langchain-openai`'s `ChatOpenAI`: it is not installed here, pulls
`tiktoken` (whose encodings download at first use, which breaks offline runs), and its
structured-output methods send `response_format` of type `json_schema`, which
llama-cpp-python's server rejects; we need the raw `response_format`, the usage
counts and the exact `openai` exceptions for the ledger and the retry policy.

`ScriptedChat` reuses langchain-core's `FakeListChatModel` for `fake:`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import time
import weakref
from collections.abc import Callable
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr


class GarbageReplyError(Exception):
    """The server answered 200 with a body that is not a chat completion (retryable)."""


class OpenAICompatibleChat(BaseChatModel):
    """Chat over any OpenAI-compatible `/v1/chat/completions` endpoint.

    Call kwargs (`temperature`, `max_tokens`, `seed`, `response_format`, ...) go
    straight into `chat.completions.create`. Retries are OFF in the `openai` client:
    the LLM layer retries itself so that it can count them (see `client.py`).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str
    base_url: str | None = None
    api_key: str = "not-needed"
    timeout_s: float = 60.0
    # One AsyncOpenAI per event loop: its connection pool is bound to the loop that
    # created it, and the sync wrappers run each batch in a fresh loop.
    _clients: weakref.WeakKeyDictionary = PrivateAttr(default_factory=weakref.WeakKeyDictionary)
    _sync_client: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "openai-compatible"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "base_url": self.base_url}

    def _async_client(self):
        import openai

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # Our own DefaultAsyncHttpxClient (not openai's wrapper, whose __del__ schedules
            # aclose() on whatever loop runs next, failing for sockets of a closed loop),
            # with one shared SSL context: building one costs ~70 ms, the client then 0.2 ms.
            http_client = openai.DefaultAsyncHttpxClient(verify=_shared_ssl_context())
            client = openai.AsyncOpenAI(
                base_url=self.base_url,
                api_key=self.api_key,
                timeout=self.timeout_s,
                max_retries=0,
                http_client=http_client,
            )
            self._clients[loop] = client
        return client

    async def _agenerate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        completion = await self._async_client().chat.completions.create(
            model=self.model_name,
            messages=convert_to_openai_messages(messages),
            stop=stop,
            **kwargs,
        )
        return _chat_result(completion)

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        import openai

        if self._sync_client is None:
            self._sync_client = openai.OpenAI(
                base_url=self.base_url, api_key=self.api_key, timeout=self.timeout_s, max_retries=0
            )
        completion = self._sync_client.chat.completions.create(
            model=self.model_name,
            messages=convert_to_openai_messages(messages),
            stop=stop,
            **kwargs,
        )
        return _chat_result(completion)

    def with_structured_output(self, schema, *, method: str = "json_schema", **kwargs):
        """LangChain-style structured output: constrained `response_format` + pydantic parsing.

        method: "json_schema" (OpenAI, vLLM) or "json_object_schema" (llama-cpp-python server).
        """
        from langchain_core.output_parsers import PydanticOutputParser

        from recagora.agents.llm.structured import response_format_for

        bound = self.bind(response_format=response_format_for(schema, method))
        return bound | PydanticOutputParser(pydantic_object=schema)

    async def aclose_loop_client(self) -> None:
        """Close this event loop's client (a sync batch's loop ends right after)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()


@functools.cache
def _shared_ssl_context() -> ssl.SSLContext:
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _chat_result(completion: Any) -> ChatResult:
    """Turn an `openai` ChatCompletion into a ChatResult with usage metadata."""
    choices = getattr(completion, "choices", None)
    if not choices:
        raise GarbageReplyError(f"not a chat completion: {str(completion)[:200]!r}")
    choice = choices[0]
    usage = getattr(completion, "usage", None)
    prompt_tokens = getattr(usage, "prompt_tokens", 0) or 0
    completion_tokens = getattr(usage, "completion_tokens", 0) or 0
    message = AIMessage(
        content=choice.message.content or "",
        usage_metadata={
            "input_tokens": prompt_tokens,
            "output_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        response_metadata={
            "model_name": completion.model,
            "finish_reason": choice.finish_reason,
            **_first_token_logprobs(choice),
        },
    )
    return ChatResult(generations=[ChatGeneration(message=message)])


def _first_token_logprobs(choice: Any) -> dict[str, dict[str, float]]:
    """{"top_logprobs": {token: logprob}} of the reply's first token, when the server sent them."""
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return {}
    first = content[0]
    alternatives = getattr(first, "top_logprobs", None) or [first]
    top: dict[str, float] = {}
    for alternative in alternatives:  # a token may come twice (byte variants): keep the best
        token, logprob = str(alternative.token), float(alternative.logprob)
        top[token] = max(logprob, top.get(token, float("-inf")))
    return {"top_logprobs": top}


ReplyFn = Callable[[list[dict], dict | None], str]


class ScriptedChat(FakeListChatModel):
    """`fake:`: scripted replies, cycled in call order (langchain-core's FakeListChatModel).

    `reply_fn(messages, json_schema)` replaces the list when given. With neither, a
    structured call gets the smallest JSON object valid for its schema and a chat call
    an echo of the last message, so agents run end to end with no script at all.
    Token counts are whitespace word counts.
    """

    responses: list[str] = []
    reply_fn: ReplyFn | None = None

    def _call(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs) -> str:
        if self.sleep is not None:
            time.sleep(self.sleep)
        return self._next_reply(messages, kwargs.get("response_format"))

    def _next_reply(self, messages: list[BaseMessage], response_format: dict | None) -> str:
        schema = (response_format or {}).get("schema") or (response_format or {}).get(
            "json_schema", {}
        ).get("schema")
        if self.reply_fn is not None:
            return self.reply_fn(convert_to_openai_messages(messages), schema)
        if self.responses:
            reply = self.responses[self.i]
            self.i = (self.i + 1) % len(self.responses)
            return reply
        if schema is not None:
            return json.dumps(minimal_instance(schema, schema))
        return f"fake reply to: {messages[-1].content}"

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        text = self._call(messages, stop=stop, **kwargs)
        return _fake_result(messages, text)

    async def _agenerate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs):
        # Runs in the loop (no executor thread), so the script is consumed in call order.
        if self.sleep is not None:
            await asyncio.sleep(self.sleep)
        return _fake_result(messages, self._next_reply(messages, kwargs.get("response_format")))


def _fake_result(messages: list[BaseMessage], text: str) -> ChatResult:
    prompt_tokens = sum(len(str(m.content).split()) for m in messages)
    completion_tokens = len(text.split())
    message = AIMessage(
        content=text,
        usage_metadata={
            "input_tokens": prompt_tokens,
            "output_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        response_metadata={"model_name": "fake", "finish_reason": "stop"},
    )
    return ChatResult(generations=[ChatGeneration(message=message)])


def minimal_instance(schema: dict, root: dict) -> Any:
    """The smallest value valid for a JSON schema (pydantic's `model_json_schema()` subset).

    Hand-written because no installed library builds examples from a JSON schema; it
    covers what pydantic emits: $ref/$defs, objects, arrays (minItems), enums, consts,
    anyOf, defaults, strings (minLength), numbers (minimum).
    """
    if "$ref" in schema:
        return minimal_instance(root["$defs"][schema["$ref"].split("/")[-1]], root)
    if "default" in schema:
        return schema["default"]
    for key in ("const", "enum"):
        if key in schema:
            return schema[key] if key == "const" else schema[key][0]
    if "anyOf" in schema:
        return minimal_instance(schema["anyOf"][0], root)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_instance(props[name], root) for name in schema.get("required", props)}
    if kind == "array":
        return [minimal_instance(schema.get("items", {}), root)] * schema.get("minItems", 0)
    return _minimal_scalar(kind, schema)


def _minimal_scalar(kind: str, schema: dict) -> Any:
    if kind == "string":
        return "x" * schema.get("minLength", 0)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return low + (1 if "exclusiveMinimum" in schema else 0)
    if kind == "boolean":
        return False
    return None
