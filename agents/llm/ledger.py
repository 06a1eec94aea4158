"""Token, latency, failure and cost ledger for one run of one LLM client.

Counts are per REQUEST (what agents asked) and per CALL (what reached the backend:
first tries, retries and repair re-asks). Cached requests cost nothing and are
counted apart. `summary()` is a plain JSON-able dict; `print_table()` renders it with
rich; `write_json()` puts it in the run folder.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recagora.agents.llm.contract import LLMResult

LEDGER_FILE = "llm_ledger.json"

# USD per million tokens (input, output); checked on the providers' price pages 2026-11.
# Override or extend with `prices=` (config); local backends always cost 0.
DEFAULT_PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


@dataclass
class _TagCounts:
    requests: int = 0
    cache_hits: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class Ledger:
    """Mutable counters for one client. Thread-safe (the sync wrappers may run in threads).

    Args:
        spec: the backend spec string, for the report.
        model: the model name, used to look up its price.
        is_local: True for backends on our own hardware (cost 0).
        prices: model -> (USD per 1M input tokens, USD per 1M output tokens).
    """

    spec: str
    model: str
    is_local: bool
    prices: dict[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_PRICES_PER_MTOK)
    )
    requests: int = 0
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    repairs: int = 0
    failures: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    by_tag: dict[str, _TagCounts] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record_call(self) -> None:
        """One call reached (or tried to reach) the backend."""
        with self._lock:
            self.calls += 1

    def record_retry(self, kind: str) -> None:
        """A failed call of `kind` will be retried."""
        with self._lock:
            self.retries[kind] += 1

    def record_repair(self) -> None:
        """One repair re-ask was sent after a reply failed schema validation."""
        with self._lock:
            self.repairs += 1

    def record_result(self, tag: str, result: LLMResult) -> None:
        """Account one finished request (cached or not, ok or failed)."""
        with self._lock:
            counts = self.by_tag.setdefault(tag, _TagCounts())
            self.requests += 1
            counts.requests += 1
            if result.failure is not None:
                self.failures[result.failure.kind] += 1
                counts.failures += 1
            if result.cached:
                self.cache_hits += 1
                counts.cache_hits += 1
                return
            self.latencies_s.append(result.latency_s)
            self.prompt_tokens += result.prompt_tokens
            self.completion_tokens += result.completion_tokens
            counts.prompt_tokens += result.prompt_tokens
            counts.completion_tokens += result.completion_tokens

    def cost_usd(self) -> float | None:
        """Estimated spend in USD; 0 for local models, None when the model has no price."""
        if self.is_local:
            return 0.0
        price = self.prices.get(self.model)
        if price is None:
            return None
        return (self.prompt_tokens * price[0] + self.completion_tokens * price[1]) / 1e6

    def summary(self) -> dict:
        """A JSON-able dict of every counter, latency percentiles (seconds) and the cost."""
        with self._lock:
            latency = _percentiles(self.latencies_s)
            return {
                "spec": self.spec,
                "model": self.model,
                "requests": self.requests,
                "calls": self.calls,
                "cache_hits": self.cache_hits,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "latency_s": latency,
                "failures": dict(sorted(self.failures.items())),
                "failed_requests": sum(self.failures.values()),
                "retries": dict(sorted(self.retries.items())),
                "repairs": self.repairs,
                "cost_usd": self.cost_usd(),
                "by_tag": {tag: vars(c).copy() for tag, c in sorted(self.by_tag.items())},
            }

    def write_json(self, path: Path | str) -> Path:
        """Write `summary()` to `path` (a run folder gets `llm_ledger.json` inside it)."""
        target = Path(path)
        if target.is_dir() or not target.suffix:
            target = target / LEDGER_FILE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.summary(), indent=2) + "\n")
        return target

    def print_table(self, console=None) -> None:
        """Print the summary as a rich table (to stdout unless `console` is given)."""
        from rich.console import Console

        (console or Console()).print(summary_table(self.summary()))


def summary_table(summary: dict):
    """A rich `Table` of a ledger summary: one row per figure."""
    from rich.table import Table

    table = Table(title=f"LLM ledger: {summary['spec']}", show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    lat = summary["latency_s"]
    cost = summary["cost_usd"]
    rows = [
        ("requests", summary["requests"]),
        ("calls (incl. retries, repairs)", summary["calls"]),
        ("cache hits", summary["cache_hits"]),
        (
            "prompt / completion tokens",
            f"{summary['prompt_tokens']} / {summary['completion_tokens']}",
        ),
        ("latency p50 / p90 / p99 (s)", f"{lat['p50']:.3f} / {lat['p90']:.3f} / {lat['p99']:.3f}"),
        ("retries", _counts_text(summary["retries"])),
        ("repair re-asks", summary["repairs"]),
        ("failures", _counts_text(summary["failures"])),
        ("estimated cost (USD)", "unknown price" if cost is None else f"{cost:.4f}"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def _counts_text(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "0"


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "mean": 0.0}
    p50, p90, p99 = np.percentile(np.asarray(values), [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "mean": float(np.mean(values))}
