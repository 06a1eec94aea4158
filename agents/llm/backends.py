"""Build the chat model (and, for local specs, start the server) that a spec names."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel

from recagora.agents.llm.chat_models import OpenAICompatibleChat, ScriptedChat
from recagora.agents.llm.config import NO_KEY, LLMConfig
from recagora.agents.llm.failures import KEY_ENV_VAR, KEY_FIELD, LLMAuthError
from recagora.agents.llm.fleet import Endpoint, FleetChat, FleetDown, check_endpoints
from recagora.agents.llm.servers import ManagedServer, start_llamacpp_server, start_vllm_server
from recagora.agents.llm.specs import BackendSpec, parse_spec
from recagora.agents.llm.structured import StructuredMode
from recagora.item_space.errors import ModelError

# The strongest structured mode each backend supports (see structured.py).
DEFAULT_MODE: dict[str, StructuredMode] = {
    "openai": "json_schema",
    "vllm": "json_schema",
    "llamacpp": "json_object_schema",
    "fake": "json_object_schema",
}


@dataclass
class Backend:
    """A ready backend.

    chat_model: the langchain-core chat model every request goes through.
    server: the server we started (None for `openai:` and `fake:`).
    cache_identity: the model's name in cache keys (stable across runs and ports).
    """

    spec: BackendSpec
    chat_model: BaseChatModel
    server: ManagedServer | None
    structured_mode: StructuredMode
    cache_identity: str
    base_url: str | None = None
    fleet: FleetChat | None = None  # set when requests are routed over several endpoints

    def alive(self) -> bool:
        """False once a server we started has exited (a fleet: once all of them have)."""
        if self.fleet is not None:
            return self.fleet.alive()
        return self.server is None or self.server.alive()

    def exit_message(self) -> str:
        """One line saying why the backend is gone."""
        if self.fleet is not None:
            return self.fleet.down_message()
        return self.server.exit_message() if self.server is not None else "the server is gone"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
        for endpoint in self.fleet.endpoints if self.fleet is not None else ():
            if endpoint.server is not None:
                endpoint.server.stop()


def open_backend(config: LLMConfig) -> Backend:
    """Parse `config.spec`, start its server if it is local, and wrap it in a chat model."""
    spec = parse_spec(config.spec)
    if spec.kind == "fake":
        backend = _fake_backend(spec, config)
    elif spec.is_fleet:
        backend = _fleet_backend(spec, config)
    else:
        backend = _served_backend(spec, config)
    if config.requests_per_second is not None:
        from langchain_core.rate_limiters import InMemoryRateLimiter

        backend.chat_model.rate_limiter = InMemoryRateLimiter(
            requests_per_second=config.requests_per_second, check_every_n_seconds=0.01
        )
    return backend


def _served_backend(spec: BackendSpec, config: LLMConfig) -> Backend:
    server = _start_server(spec, config)
    if server is not None:
        base_url = server.base_url
    else:  # openai:<model>@<url> names its one server in the spec
        base_url = spec.endpoints[0] if spec.endpoints else config.resolved_base_url()
    _require_key(spec, config, base_url)
    try:
        chat = _chat(spec, config, base_url)
    except BaseException:
        if server:
            server.stop()
        raise
    mode = config.structured_mode or DEFAULT_MODE[spec.kind]
    return Backend(spec, chat, server, mode, _cache_identity(spec), base_url)


def _require_key(spec: BackendSpec, config: LLMConfig, base_url: str | None) -> None:
    """OpenAI itself (no base URL) refuses every request without a key: say so before the
    first one. Local OpenAI-compatible servers take the placeholder key."""
    if spec.kind == "openai" and base_url is None and config.resolved_api_key() == NO_KEY:
        raise LLMAuthError(
            f"{spec.text} needs an API key and {KEY_ENV_VAR} is not set; set {KEY_ENV_VAR} "
            f"(or {KEY_FIELD}), or give the base URL of an OpenAI-compatible server (--base-url)"
        )


def _start_server(spec: BackendSpec, config: LLMConfig, replica: int = 0) -> ManagedServer | None:
    if spec.kind == "llamacpp":
        return start_llamacpp_server(
            spec.gguf_path,
            spec.model,
            n_ctx=config.n_ctx,
            n_threads=config.resolved_n_threads(spec.replicas),
            ready_timeout_s=config.server_ready_timeout_s,
            # replicas share the cores: prompt processing too (see start_llamacpp_server)
            n_threads_batch=config.resolved_n_threads(spec.replicas) if spec.replicas > 1 else None,
        )
    if spec.kind == "vllm":
        return start_vllm_server(
            spec.model,
            extra_args=config.vllm_args,
            ready_timeout_s=10 * config.server_ready_timeout_s,
            replica=(replica, spec.replicas),
        )
    return None


def _fleet_backend(spec: BackendSpec, config: LLMConfig) -> Backend:
    """Several endpoints behind one `FleetChat`: the URLs of an `openai:<model>@...` spec,
    or `replicas` servers we start (stopped again when a later one fails to start)."""
    servers = _start_servers(spec, config) if spec.replicas > 1 else [None] * len(spec.endpoints)
    urls = [s.base_url for s in servers] if spec.replicas > 1 else list(spec.endpoints)
    try:
        endpoints = [
            Endpoint(i, url, _chat(spec, config, url), server)
            for i, (url, server) in enumerate(zip(urls, servers, strict=True))
        ]
        fleet = FleetChat(
            endpoints=endpoints,
            endpoint_cap=config.endpoint_concurrency,
            cooldown_s=config.endpoint_cooldown_s,
            routing=config.routing,
            affinity_slack=config.affinity_slack,
        )
        check_endpoints(fleet)
    except FleetDown as down:
        _stop_all(servers)
        raise ModelError(f"{spec.text}: {down}; start the servers or fix the URLs") from None
    except BaseException:
        _stop_all(servers)
        raise
    mode = config.structured_mode or DEFAULT_MODE[spec.kind]
    backend = Backend(spec, fleet, None, mode, _cache_identity(spec), ",".join(urls), fleet)
    return backend


def _chat(spec: BackendSpec, config: LLMConfig, base_url: str) -> OpenAICompatibleChat:
    return OpenAICompatibleChat(
        model_name=spec.model,
        base_url=base_url,
        api_key=config.resolved_api_key(),
        timeout_s=config.timeout_s,
    )


def _start_servers(spec: BackendSpec, config: LLMConfig) -> list[ManagedServer]:
    """`spec.replicas` managed servers, one after another (each waits until it answers)."""
    servers: list[ManagedServer] = []
    try:
        for replica in range(spec.replicas):
            servers.append(_start_server(spec, config, replica))
    except BaseException:
        _stop_all(servers)
        raise
    return servers


def _stop_all(servers: list) -> None:
    for server in servers:
        if server is not None:
            server.stop()


def _fake_backend(spec: BackendSpec, config: LLMConfig) -> Backend:
    chat = ScriptedChat(
        responses=list(config.fake_replies or []),
        reply_fn=config.fake_reply_fn,
        sleep=config.fake_latency_s,
    )
    mode = config.structured_mode or DEFAULT_MODE["fake"]
    return Backend(spec, chat, None, mode, f"fake:{spec.model}")


def _cache_identity(spec: BackendSpec) -> str:
    if spec.gguf_path is not None:
        # Two GGUFs may share a file name; the size tells quantizations apart.
        return f"{spec.model}:{spec.gguf_path.stat().st_size}"
    return spec.model
