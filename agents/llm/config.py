"""`LLMConfig`: every knob of the LLM layer, one help line each (experiments load it from YAML)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from recagora.agents.llm.specs import DEFAULT_SPEC
from recagora.agents.llm.structured import MODES
from recagora.item_space.errors import ConfigError, did_you_mean

NO_KEY = "not-needed"  # the key sent to local servers, which ignore it


@dataclass
class LLMConfig:
    """How to reach, cache, meter and retry one LLM backend."""

    spec: str = field(
        default=DEFAULT_SPEC,
        metadata={
            "help": "backend spec: openai:<model>, openai:<model>@<url>,<url> (a fleet), llamacpp:smollm2, llamacpp:smollm2x3 (3 servers), llamacpp:<file.gguf>, vllm:<hf-model>[xN], fake:"
        },
    )
    cache_dir: Path | None = field(
        default=None,
        metadata={
            "help": "response cache folder; None = $RECAGORA_CACHE_DIR or the user cache dir"
        },
    )
    use_cache: bool = field(
        default=True, metadata={"help": "read and write the persistent response cache"}
    )
    concurrency: int = field(
        default=8, metadata={"help": "most requests in flight at once (per client)"}
    )
    timeout_s: float = field(
        default=120.0,
        metadata={"help": "seconds one attempt may take before it counts as a timeout"},
    )
    max_retries: int = field(
        default=4,
        metadata={
            "help": "retries after the first attempt on transport errors, timeouts, 429 and 5xx"
        },
    )
    endpoint_concurrency: int | None = field(
        default=None,
        metadata={
            "help": "fleet: most requests in flight per endpoint; None = no cap of its own (concurrency bounds the total)"
        },
    )
    endpoint_cooldown_s: float = field(
        default=10.0,
        metadata={
            "help": "fleet: seconds a dead endpoint stays out of routing before it is probed again"
        },
    )
    routing: str = field(
        default="least_outstanding",
        metadata={
            "help": "fleet: least_outstanding, or prefix_affinity (one user's requests to one endpoint, for its prefix cache, unless that endpoint is busier by more than affinity_slack)"
        },
    )
    affinity_slack: int = field(
        default=4,
        metadata={
            "help": "fleet, prefix_affinity: requests in flight the preferred endpoint may have over the least busy one"
        },
    )
    requests_per_second: float | None = field(
        default=None,
        metadata={
            "help": "client-side rate limit (langchain-core InMemoryRateLimiter); None = unlimited"
        },
    )
    retry_backoff_s: float = field(
        default=0.5,
        metadata={
            "help": "first backoff in seconds; doubles per retry (full jitter), capped by retry_backoff_max_s"
        },
    )
    retry_backoff_max_s: float = field(
        default=20.0,
        metadata={
            "help": "longest backoff in seconds (a server's Retry-After may ask for more, up to 60)"
        },
    )
    prices: dict[str, tuple[float, float]] | None = field(
        default=None,
        metadata={
            "help": "model -> (USD per 1M input tokens, USD per 1M output tokens); None = built-in table"
        },
    )
    ledger_path: Path | None = field(
        default=None,
        metadata={
            "help": "ledger JSON (a folder gets llm_ledger.json): continued from when it exists, rewritten after every batch"
        },
    )
    max_failure_rate: float = field(
        default=0.2,
        metadata={
            "help": "pause the run when more than this share of one batch's uncached requests fail (invalid_schema aside); 1.0 = never"
        },
    )
    base_url: str | None = field(
        default=None,
        metadata={"help": "openai: server URL; None = $OPENAI_BASE_URL or api.openai.com"},
    )
    api_key: str | None = field(
        default=None,
        metadata={
            "help": "openai: API key; None = $OPENAI_API_KEY (a placeholder for local servers)"
        },
    )
    structured_mode: str | None = field(
        default=None,
        metadata={
            "help": "json_schema, json_object_schema or prompt; None = best the backend supports (downgraded on rejection)"
        },
    )
    server_ready_timeout_s: float = field(
        default=120.0,
        metadata={"help": "seconds to wait for a started llama.cpp server (vllm: 10x) to answer"},
    )
    n_ctx: int = field(default=2048, metadata={"help": "llamacpp: context length in tokens"})
    n_threads: int | None = field(
        default=None,
        metadata={
            "help": "llamacpp: server CPU threads; None = half the cores (shared by the replicas), 1 to 4 (llama.cpp spin-waits, so oversubscribing a busy machine is 10x slower)"
        },
    )
    vllm_args: list[str] = field(
        default_factory=list,
        metadata={"help": "vllm: extra `vllm serve` arguments, e.g. ['--max-model-len', '4096']"},
    )
    fake_replies: list[str] | None = field(
        default=None,
        metadata={"help": "fake: replies cycled in call order; None = schema-minimal JSON / echo"},
    )
    fake_reply_fn: object | None = field(
        default=None,
        metadata={
            "help": "fake: callable(messages, json_schema) -> reply text; overrides fake_replies"
        },
    )
    fake_latency_s: float | None = field(
        default=None, metadata={"help": "fake: seconds each reply takes (async sleep)"}
    )

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"LLMConfig.concurrency={self.concurrency} must be >= 1")
        if self.endpoint_concurrency is not None and self.endpoint_concurrency < 1:
            raise ConfigError(
                f"LLMConfig.endpoint_concurrency={self.endpoint_concurrency} must be >= 1 or None"
            )
        if self.routing not in ("least_outstanding", "prefix_affinity"):
            raise ConfigError(
                f"LLMConfig.routing={self.routing!r} is unknown"
                f"{did_you_mean(self.routing, ('least_outstanding', 'prefix_affinity'))}; "
                "use least_outstanding or prefix_affinity"
            )
        if self.max_retries < 0:
            raise ConfigError(f"LLMConfig.max_retries={self.max_retries} must be >= 0")
        if self.timeout_s <= 0:
            raise ConfigError(f"LLMConfig.timeout_s={self.timeout_s} must be > 0")
        if not 0.0 <= self.max_failure_rate <= 1.0:
            raise ConfigError(
                f"LLMConfig.max_failure_rate={self.max_failure_rate} must be between 0 and 1"
            )
        if self.structured_mode is not None and self.structured_mode not in MODES:
            raise ConfigError(
                f"LLMConfig.structured_mode={self.structured_mode!r} is unknown"
                f"{did_you_mean(self.structured_mode, MODES)}; use one of {', '.join(MODES)}"
            )

    def resolved_n_threads(self, replicas: int = 1) -> int:
        """Threads per llama.cpp server: half the cores shared by `replicas` servers, 1 to 4."""
        return self.n_threads or max(1, min(4, (os.cpu_count() or 2) // (2 * replicas)))

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def resolved_api_key(self) -> str:
        return self.api_key or os.environ.get("OPENAI_API_KEY") or NO_KEY
