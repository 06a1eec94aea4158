"""The SQLite response cache and the ledger, on their own."""

from __future__ import annotations

import json
import threading

import pytest
from rich.console import Console

from recagora.agents.llm import LLMRequest, open_llm
from recagora.agents.llm.cache import CachedReply, ResponseCache, cache_key, default_cache_dir
from recagora.agents.llm.contract import LLMFailure, LLMResult
from recagora.agents.llm.ledger import Ledger
from recagora.item_space.errors import ConfigError

BASE = {"backend": "openai", "model": "m", "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.0, "max_tokens": 8, "seed": 0, "sample_index": 0, "schema": None}  # fmt: skip


@pytest.mark.parametrize(
    ("field", "other"),
    [("backend", "vllm"), ("model", "m2"), ("messages", [{"role": "user", "content": "hi!"}]),
     ("temperature", 0.7), ("max_tokens", 9), ("seed", 1), ("sample_index", 1), ("schema", {"type": "object"})],
)  # fmt: skip
def test_every_part_of_a_request_changes_the_key(field, other):
    assert cache_key(**BASE) != cache_key(**(BASE | {field: other}))


def test_the_key_does_not_depend_on_argument_order():
    assert cache_key(**BASE) == cache_key(**dict(reversed(list(BASE.items()))))


def test_cache_dir_env_var_overrides_the_user_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RECAGORA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    assert ResponseCache().path.parent == tmp_path / "elsewhere"


def test_replies_persist_across_instances_and_threads(tmp_path):
    writer = ResponseCache(tmp_path)

    def write(start: int) -> None:
        for i in range(start, start + 50):
            writer.put(f"k{i}", "openai", "m", CachedReply(f"text {i}", i, 2 * i))

    threads = [threading.Thread(target=write, args=(s,)) for s in (0, 50, 100, 150)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    reader = ResponseCache(tmp_path)
    assert len(reader) == 200
    assert reader.get("k123") == CachedReply("text 123", 123, 246)
    assert reader.get("missing") is None


def _result(latency: float, failure: str | None = None, cached: bool = False) -> LLMResult:
    return LLMResult(
        value=None if failure else "x",
        failure=LLMFailure(failure, "m") if failure else None,
        cached=cached,
        prompt_tokens=100,
        completion_tokens=10,
        latency_s=latency,
    )


def test_ledger_counts_percentiles_failures_and_cached_tokens_apart():
    ledger = Ledger(spec="openai:gpt-4o-mini", model="gpt-4o-mini", is_local=False)
    for latency in range(1, 101):
        ledger.record_call()
        ledger.record_result("user", _result(latency / 100))
    ledger.record_result("item", _result(0.0, cached=True))
    ledger.record_result("item", _result(0.5, failure="timeout"))
    summary = ledger.summary()
    assert (summary["requests"], summary["calls"], summary["cache_hits"]) == (102, 100, 1)
    assert summary["prompt_tokens"] == 101 * 100 and summary["completion_tokens"] == 101 * 10
    # Histogram buckets are 2% wide: percentiles within 1%.
    assert summary["latency_s"]["p50"] == pytest.approx(0.5, rel=0.011)
    assert summary["latency_s"]["p99"] == pytest.approx(0.99, rel=0.011)
    assert summary["latency_s"]["mean"] == pytest.approx((50.5 + 0.5) / 101)  # the failure too
    assert summary["failures"] == {"timeout": 1}
    assert summary["by_tag"]["item"]["cache_hits"] == 1
    # gpt-4o-mini: $0.15 / $0.60 per 1M tokens
    assert summary["cost_usd"] == pytest.approx((10100 * 0.15 + 1010 * 0.60) / 1e6)


def test_local_models_cost_nothing_and_unknown_prices_are_unknown():
    local = Ledger(spec="llamacpp:smollm2", model="smollm2", is_local=True)
    local.record_result("t", _result(0.1))
    assert local.summary()["cost_usd"] == 0.0
    hosted = Ledger(spec="openai:new-model", model="new-model", is_local=False)
    hosted.record_result("t", _result(0.1))
    assert hosted.summary()["cost_usd"] is None
    priced = Ledger(
        spec="openai:new-model", model="new-model", is_local=False, prices={"new-model": (1.0, 2.0)}
    )
    priced.record_result("t", _result(0.1))
    assert priced.summary()["cost_usd"] == pytest.approx((100 * 1.0 + 10 * 2.0) / 1e6)


def test_ledger_prints_a_table_and_writes_json_into_a_run_folder(tmp_path):
    ledger = Ledger(spec="fake:", model="fake", is_local=True)
    ledger.record_retry("rate_limited")
    ledger.record_result("t", _result(0.25, failure="invalid_schema"))
    console = Console(record=True, width=100)
    ledger.print_table(console)
    text = console.export_text()
    assert "LLM ledger: fake:" in text and "invalid_schema: 1" in text and "rate_limited: 1" in text
    path = ledger.write_json(tmp_path / "run-1")
    assert path == tmp_path / "run-1" / "llm_ledger.json"
    assert json.loads(path.read_text())["failures"] == {"invalid_schema": 1}


def _ask_fake(ledger_path, prompts: list[str], close: bool = True) -> dict:
    llm = open_llm("fake:", ledger_path=ledger_path, fake_latency_s=0.01)
    llm.chat_batch_sync(
        [LLMRequest(messages=({"role": "user", "content": p},), tag="t") for p in prompts]
    )
    summary = llm.ledger_summary()
    if close:
        llm.close()
    return summary


def test_two_clients_on_one_ledger_path_sum_up(tmp_path):
    first = _ask_fake(tmp_path / "run", ["a", "b", "c"])
    second = _ask_fake(tmp_path / "run", ["a", "d"])  # a fresh process: its cache is empty
    saved = json.loads((tmp_path / "run" / "llm_ledger.json").read_text())
    assert saved | {"structured_mode": "json_object_schema"} == second
    assert (first["requests"], second["requests"]) == (3, 5) and second["sessions"] == 2
    assert second["prompt_tokens"] > first["prompt_tokens"] > 0
    assert second["by_tag"]["t"]["requests"] == 5 and second["calls"] == 5
    assert sum(second["latency_histogram"].values()) == 5
    assert second["latency_s"]["mean"] == pytest.approx(second["latency_total_s"] / 5)


def test_the_ledger_file_is_rewritten_after_every_batch_not_only_on_close(tmp_path):
    path = tmp_path / "ledger.json"
    _ask_fake(path, ["a", "b"], close=False)  # as if killed right after the batch
    assert json.loads(path.read_text())["requests"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]  # no temporary left


def test_cost_carries_over_a_resume_priced_by_each_session(tmp_path):
    fields = {"spec": "openai:m", "model": "m", "is_local": False}
    before = Ledger(**fields, prices={"m": (1.0, 0.0)})
    before.record_result("t", _result(0.1))  # 100 prompt tokens at $1 / 1M
    before.write_json(tmp_path)
    after = Ledger.continued(tmp_path, **fields, prices={"m": (2.0, 0.0)})
    after.record_result("t", _result(0.1))
    summary = after.summary()
    assert summary["cost_usd"] == pytest.approx((100 * 1.0 + 100 * 2.0) / 1e6)
    assert summary["prompt_tokens"] == 200 and summary["sessions"] == 2


def test_a_file_that_is_no_ledger_is_a_one_line_error(tmp_path):
    (tmp_path / "llm_ledger.json").write_text('["not", "a", "ledger"]')
    with pytest.raises(ConfigError, match="is not an LLM ledger") as refused:
        Ledger.continued(tmp_path, spec="fake:", model="fake", is_local=True)
    assert "\n" not in str(refused.value)


def test_cached_replies_keep_their_token_cost_apart_and_batches_are_timed(tmp_path):
    from recagora.agents.llm import LLMRequest, open_llm

    requests = [
        LLMRequest(messages=({"role": "user", "content": f"say {n} words"},)) for n in range(3)
    ]
    with open_llm("fake:", cache_dir=tmp_path, fake_latency_s=0.01) as llm:
        llm.chat_batch_sync(requests)
        first = llm.ledger_summary()
        llm.chat_batch_sync(requests)
        both = llm.ledger_summary()
    assert first["uncached_requests"] == 3 and first["batch_wall_s"] >= 0.01
    assert (both["uncached_requests"], both["cache_hits"]) == (3, 3)
    assert both["prompt_tokens"] == first["prompt_tokens"] > 0
    assert both["cached_prompt_tokens"] == first["prompt_tokens"]
    assert both["cached_completion_tokens"] == first["completion_tokens"]
