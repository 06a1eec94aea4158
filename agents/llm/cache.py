"""Persistent SQLite response cache: an identical rerun makes zero LLM calls.

The key hashes everything that can change a reply: backend, model, messages,
sampling parameters, seed, sample index and (for structured calls) the JSON schema.
Only final outcomes are stored: replies (after any repair) and `invalid_schema`
failures, which are deterministic; transport failures are never cached.

Concurrency: one connection shared by the event loop and the sync wrappers' threads,
guarded by a lock (each operation is a single short statement); WAL mode lets
several processes (e.g. Ray workers) share one file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from recagora.agents.llm.contract import LLMFailure, LLMResult
from recagora.agents.llm.structured import parse_reply
from recagora.item_space.embedding import cache_dir

CACHE_FILE = "llm_responses.sqlite"
MEMORY = ":memory:"

_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    failure_kind TEXT,
    failure_message TEXT,
    created_at REAL NOT NULL
)
"""


def default_cache_dir() -> Path:
    """`$RECAGORA_CACHE_DIR` when set, else the user cache dir (e.g. ~/.cache/recagora)."""
    return cache_dir()


def cache_key(**parts: object) -> str:
    """A stable sha256 hex digest of keyword parts (JSON with sorted keys)."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedReply:
    """One stored outcome. `failure_kind` is None for a usable reply."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    failure_kind: str | None = None
    failure_message: str = ""


class ResponseCache:
    """Key -> `CachedReply` in `<cache_dir>/llm_responses.sqlite` (":memory:": this process only)."""

    def __init__(self, cache_dir: Path | str | None = None) -> None:
        if cache_dir == MEMORY:
            self.path = MEMORY
        else:
            directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
            directory.mkdir(parents=True, exist_ok=True)
            self.path = directory / CACHE_FILE
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30.0)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: durable across crashes of this process, no fsync per reply.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA_SQL)
            self._db.commit()

    def get(self, key: str) -> CachedReply | None:
        """The stored outcome for `key`, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT text, prompt_tokens, completion_tokens, failure_kind, failure_message "
                "FROM responses WHERE key = ?",
                (key,),
            ).fetchone()
        return None if row is None else CachedReply(row[0], row[1], row[2], row[3], row[4] or "")

    def put(self, key: str, backend: str, model: str, reply: CachedReply) -> None:
        """Store (or overwrite) the outcome for `key`."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    backend,
                    model,
                    reply.text,
                    reply.prompt_tokens,
                    reply.completion_tokens,
                    reply.failure_kind,
                    reply.failure_message,
                    time.time(),
                ),
            )
            self._db.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def storable(result: LLMResult) -> CachedReply | None:
    """What to store for a finished request; None for transient failures (never cached)."""
    failure = result.failure
    if failure is not None and failure.kind != "invalid_schema":
        return None
    return CachedReply(
        result.text,
        result.prompt_tokens,
        result.completion_tokens,
        failure.kind if failure else None,
        failure.message if failure else "",
    )


def cached_result(stored: CachedReply, schema: type[BaseModel] | None, call_id: str) -> LLMResult:
    """Rebuild the `LLMResult` of a stored outcome (the value re-parsed from the stored text)."""
    failure = (
        LLMFailure(stored.failure_kind, stored.failure_message) if stored.failure_kind else None
    )
    value = None
    if failure is None:
        value = stored.text if schema is None else parse_reply(stored.text, schema)[0]
    return LLMResult(
        value=value,
        text=stored.text,
        failure=failure,
        cached=True,
        prompt_tokens=stored.prompt_tokens,
        completion_tokens=stored.completion_tokens,
        call_id=call_id,
    )
