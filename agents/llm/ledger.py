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
from recagora.item_space.errors import ConfigError

LEDGER_FILE = "llm_ledger.json"
LATENCY_FLOOR_S = 1e-4  # latencies below go to the first bucket
LATENCY_RATIO = 1.02  # each bucket is 2% wider than the last
_COUNTS = ("requests", "calls", "cache_hits", "prompt_tokens", "completion_tokens", "repairs")

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
    latency_buckets: Counter = field(default_factory=Counter)
    latency_total_s: float = 0.0
    by_tag: dict[str, _TagCounts] = field(default_factory=dict)
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
                "sessions": self.sessions,
                "latency_total_s": self.latency_total_s,
                "latency_histogram": {str(b): n for b, n in sorted(self.latency_buckets.items())},
            }

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
