"""Token, latency, failure and cost ledger for one run of one LLM client.

Counts are per REQUEST (what agents asked) and per CALL (what reached the backend:
first tries, retries and repair re-asks). Cached requests cost nothing and are
counted apart. `summary()` is a plain JSON-able dict; `print_table()` renders it with
rich; `write_json()` puts it in the run folder (atomically).

A run that is paused or killed and resumed keeps ONE ledger: `Ledger.continued(path)`
starts from the totals of the file an earlier process wrote. So that every figure can
be summed across processes, latencies are kept as a log-spaced histogram (buckets 2%
wide from 0.1 ms: percentiles within 1%), not as a list.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from recagora.agents.llm.contract import LLMResult
from recagora.agents.llm.prices import DEFAULT_PRICES_PER_MTOK
from recagora.item_space.errors import ConfigError

LEDGER_FILE = "llm_ledger.json"
LATENCY_FLOOR_S = 1e-4  # latencies below go to the first bucket
LATENCY_RATIO = 1.02  # each bucket is 2% wider than the last
_COUNTS = (
    "requests",
    "calls",
    "cache_hits",
    "prompt_tokens",
    "completion_tokens",
    "repairs",
    "cached_prompt_tokens",
    "cached_completion_tokens",
    "uncached_requests",
)


@dataclass
class _TagCounts:
    requests: int = 0
    cache_hits: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class _EndpointCounts:
    """One fleet endpoint: HTTP calls (failovers included), failed ones, and their latency
    histogram (the ledger's buckets, so that a resumed run continues it)."""

    calls: int = 0
    failures: int = 0
    latency_total_s: float = 0.0
    latency_histogram: Counter = field(default_factory=Counter)

    def summary(self) -> dict:
        return {
            "calls": self.calls,
            "failures": self.failures,
            "latency_s": _percentiles(self.latency_histogram, self.latency_total_s),
            "latency_total_s": self.latency_total_s,
            "latency_histogram": {str(b): n for b, n in sorted(self.latency_histogram.items())},
        }

    @classmethod
    def restored(cls, saved: dict) -> _EndpointCounts:
        histogram = Counter({int(b): int(n) for b, n in saved.get("latency_histogram", {}).items()})
        return cls(
            int(saved.get("calls", 0)),
            int(saved.get("failures", 0)),
            float(saved.get("latency_total_s", 0.0)),
            histogram,
        )


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
    latency_buckets: Counter = field(default_factory=Counter)
    latency_total_s: float = 0.0
    by_tag: dict[str, _TagCounts] = field(default_factory=dict)
    # Tokens the cached replies cost when they were first asked (what a run without the
    # cache would spend: the dry run's projection counts them).
    cached_prompt_tokens: int = 0
    cached_completion_tokens: int = 0
    uncached_requests: int = 0
    # Wall seconds the layer spent in batches (stages), summed: the LLM's share of a run.
    batch_wall_s: float = 0.0
    by_endpoint: dict[str, _EndpointCounts] = field(default_factory=dict)
    sessions: int = 1
    # What the earlier processes of this run spent (their prices may differ from ours).
    cost_before_usd: float | None = 0.0
    tokens_before: tuple[int, int] = (0, 0)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def continued(cls, path: Path | str, **fields) -> Ledger:
        """A ledger that starts from the totals in `path` (a file or run folder) when it
        exists; `fields` as for the constructor. A file that is no ledger is a one-line error."""
        ledger = cls(**fields)
        target = ledger_file(path)
        if target.is_file():
            try:
                ledger._restore(json.loads(target.read_text()))
            except (ValueError, TypeError, AttributeError) as error:
                raise ConfigError(
                    f"{target} is not an LLM ledger ({type(error).__name__}: {error}); "
                    "move it away or set LLMConfig.ledger_path to another file"
                ) from None
        return ledger

    def _restore(self, saved: dict) -> None:
        for name in _COUNTS:
            setattr(self, name, int(saved.get(name, 0)))
        self.failures = Counter({k: int(n) for k, n in saved.get("failures", {}).items()})
        self.retries = Counter({k: int(n) for k, n in saved.get("retries", {}).items()})
        self.by_tag = {tag: _TagCounts(**c) for tag, c in saved.get("by_tag", {}).items()}
        histogram = saved.get("latency_histogram", {})
        self.latency_buckets = Counter({int(b): int(n) for b, n in histogram.items()})
        self.latency_total_s = float(saved.get("latency_total_s", 0.0))
        self.batch_wall_s = float(saved.get("batch_wall_s", 0.0))
        self.by_endpoint = {
            url: _EndpointCounts.restored(c) for url, c in saved.get("by_endpoint", {}).items()
        }
        self.sessions = int(saved.get("sessions", 1)) + 1
        cost = saved.get("cost_usd", 0.0)
        self.cost_before_usd = None if cost is None else float(cost)
        self.tokens_before = (self.prompt_tokens, self.completion_tokens)

    def record_call(self) -> None:
        """One call reached (or tried to reach) the backend."""
        with self._lock:
            self.calls += 1

    def record_retry(self, kind: str) -> None:
        """A failed call of `kind` will be retried."""
        with self._lock:
            self.retries[kind] += 1

    def record_endpoint(self, url: str, latency_s: float, ok: bool) -> None:
        """One HTTP call to fleet endpoint `url` took `latency_s` seconds (failed unless ok)."""
        with self._lock:
            counts = self.by_endpoint.setdefault(url, _EndpointCounts())
            counts.calls += 1
            counts.failures += 0 if ok else 1
            counts.latency_total_s += latency_s
            counts.latency_histogram[_bucket(latency_s)] += 1

    def record_batch(self, wall_s: float) -> None:
        """One batch (stage) of the layer took `wall_s` seconds from first to last reply."""
        with self._lock:
            self.batch_wall_s += wall_s

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
                self.cached_prompt_tokens += result.prompt_tokens
                self.cached_completion_tokens += result.completion_tokens
                return
            self.uncached_requests += 1
            self.latency_buckets[_bucket(result.latency_s)] += 1
            self.latency_total_s += result.latency_s
            self.prompt_tokens += result.prompt_tokens
            self.completion_tokens += result.completion_tokens
            counts.prompt_tokens += result.prompt_tokens
            counts.completion_tokens += result.completion_tokens

    def cost_usd(self) -> float | None:
        """Estimated spend in USD; 0 for local models, None when the model has no price."""
        own = self._own_cost_usd()
        if own is None or self.cost_before_usd is None:
            return None
        return self.cost_before_usd + own

    def _own_cost_usd(self) -> float | None:
        if self.is_local:
            return 0.0
        price = self.prices.get(self.model)
        if price is None:
            return None
        prompt = self.prompt_tokens - self.tokens_before[0]
        completion = self.completion_tokens - self.tokens_before[1]
        return (prompt * price[0] + completion * price[1]) / 1e6

    def summary(self) -> dict:
        """A JSON-able dict of every counter, latency percentiles (seconds) and the cost.

        `latency_histogram` (bucket index -> requests; bucket b holds latencies from
        LATENCY_FLOOR_S * LATENCY_RATIO**b) and `latency_total_s` let a resume continue it.
        """
        with self._lock:
            latency = _percentiles(self.latency_buckets, self.latency_total_s)
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
                "cached_prompt_tokens": self.cached_prompt_tokens,
                "cached_completion_tokens": self.cached_completion_tokens,
                "uncached_requests": self.uncached_requests,
                "batch_wall_s": self.batch_wall_s,
                **self._endpoints_summary(),
                "sessions": self.sessions,
                "latency_total_s": self.latency_total_s,
                "latency_histogram": {str(b): n for b, n in sorted(self.latency_buckets.items())},
            }

    def _endpoints_summary(self) -> dict:
        if not self.by_endpoint:
            return {}
        return {"by_endpoint": {url: c.summary() for url, c in sorted(self.by_endpoint.items())}}

    def write_json(self, path: Path | str) -> Path:
        """Write `summary()` to `path` (a run folder gets `llm_ledger.json` inside it).

        Atomic (a temporary file renamed over the old one), so a process killed while
        writing leaves the previous ledger whole; concurrent writers each rename their own.
        """
        target = ledger_file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.summary(), indent=2) + "\n"
        with tempfile.NamedTemporaryFile(
            "w", dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
        ) as temporary:
            temporary.write(text)
        try:
            os.replace(temporary.name, target)
        except OSError:
            Path(temporary.name).unlink(missing_ok=True)
            raise
        return target

    def print_table(self, console=None) -> None:
        """Print the summary as a rich table (to stdout unless `console` is given)."""
        from rich.console import Console

        (console or Console()).print(summary_table(self.summary()))


def ledger_file(path: Path | str) -> Path:
    """The ledger file `path` names: itself, or `llm_ledger.json` in it when it is a folder
    (or has no suffix, like a run folder not made yet)."""
    target = Path(path)
    return target / LEDGER_FILE if target.is_dir() or not target.suffix else target


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
    for url, counts in summary.get("by_endpoint", {}).items():
        p50 = counts["latency_s"]["p50"]
        rows.append(
            (
                f"endpoint {url}",
                f"{counts['calls']} calls, {counts['failures']} failed, p50 {p50:.3f} s",
            )
        )
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def _counts_text(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items()) or "0"


def _bucket(latency_s: float) -> int:
    return max(
        0, math.floor(math.log(max(latency_s, LATENCY_FLOOR_S) / LATENCY_FLOOR_S, LATENCY_RATIO))
    )


def _percentiles(buckets: Counter, total_s: float) -> dict[str, float]:
    """p50/p90/p99 (each bucket's geometric middle: within 1%) and the exact mean."""
    count = sum(buckets.values())
    if count == 0:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "mean": 0.0}
    ordered = sorted(buckets.items())
    cumulative = np.cumsum([n for _, n in ordered])

    def at(share: float) -> float:
        rank = max(1, math.ceil(share * count))
        bucket = ordered[int(np.searchsorted(cumulative, rank))][0]
        return LATENCY_FLOOR_S * LATENCY_RATIO ** (bucket + 0.5)

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "mean": total_s / count}
