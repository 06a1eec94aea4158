"""The LLM fleet (`openai:<model>@<url>,<url>`) over the tests' own loopback servers:
least-outstanding routing, the per-endpoint cap, failover when one server dies mid-run
(no reply lost or duplicated), dead endpoints at open, and the per-endpoint ledger."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from recagora.agents.llm import LLMRequest, open_llm
from recagora.agents.llm.servers import free_loopback_port
from recagora.item_space.errors import ModelError

from .conftest import FaultServer


def _request(text: str) -> LLMRequest:
    return LLMRequest(messages=({"role": "user", "content": text},), max_tokens=8)


class _Busy:
    """A reply function that takes `seconds` and remembers the most calls at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.now, self.most = seconds, 0, 0
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> str:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.seconds)
        with self.lock:
            self.now -= 1
        return "echo " + body["messages"][-1]["content"]


@pytest.fixture
def servers():
    started = [FaultServer() for _ in range(3)]
    yield started
    for server in started:
        if not server.dead:
            server.stop()


def _fleet(servers, tmp_path, **options):
    urls = ",".join(s.base_url for s in servers)
    options = {"retry_backoff_s": 0.01, "cache_dir": tmp_path, **options}
    return open_llm(f"openai:m@{urls}", **options)


def test_least_outstanding_routing_spreads_a_batch_evenly(servers, tmp_path):
    for server in servers:
        server.default_reply = _Busy(0.1)
    with _fleet(servers, tmp_path, concurrency=12) as llm:
        results = llm.chat_batch_sync([_request(f"q{i}") for i in range(12)])
        summary = llm.ledger_summary()
    assert [r.value for r in results] == [f"echo q{i}" for i in range(12)]
    assert [len(s.requests) for s in servers] == [4, 4, 4]
    calls = {url: c["calls"] for url, c in summary["by_endpoint"].items()}
    assert calls == {s.base_url: 4 for s in servers}
    assert all(c["latency_s"]["p50"] >= 0.09 for c in summary["by_endpoint"].values())


def test_the_per_endpoint_cap_bounds_requests_in_flight_on_each_server(servers, tmp_path):
    busy = [_Busy(0.05) for _ in servers]
    for server, reply in zip(servers, busy, strict=True):
        server.default_reply = reply
    with _fleet(servers, tmp_path, concurrency=9, endpoint_concurrency=1) as llm:
        results = llm.chat_batch_sync([_request(f"q{i}") for i in range(9)])
    assert all(r.ok for r in results)
    assert [b.most for b in busy] == [1, 1, 1]


def test_a_server_dying_mid_run_loses_and_duplicates_nothing(servers, tmp_path, caplog):
    for server in servers:
        server.default_reply = _Busy(0.05)
    servers[1].script("q4", ("die",))  # crashes while a request is in flight on it
    prompts = [f"q{i}" for i in range(30)]
    with caplog.at_level(logging.WARNING), _fleet(servers, tmp_path, concurrency=6) as llm:
        results = llm.chat_batch_sync([_request(p) for p in prompts])
        summary = llm.ledger_summary()
        cached = len(llm.cache)
    assert [r.value for r in results] == [f"echo {p}" for p in prompts]  # each once, in order
    assert (summary["requests"], summary["failed_requests"], cached) == (30, 0, 30)
    dead = summary["by_endpoint"][servers[1].base_url]
    assert dead["failures"] >= 1 and summary["endpoints"][servers[1].base_url].startswith("down")
    answered = sum(c["calls"] - c["failures"] for c in summary["by_endpoint"].values())
    assert answered == 30  # one reply per request reached the layer
    assert f"fleet: {servers[1].base_url} is down" in caplog.text


def test_every_server_dying_fails_the_rest_as_server_died(servers, tmp_path):
    for server in servers:
        server.script("q1", ("die",))
    with _fleet(servers[:2], tmp_path, concurrency=1, max_failure_rate=1.0) as llm:
        results = llm.chat_batch_sync([_request(f"q{i}") for i in range(4)])
    assert results[0].ok and not any(r.ok for r in results[1:])
    assert {r.failure.kind for r in results[1:]} == {"server_died"}
    assert "every endpoint of the LLM fleet is down" in results[-1].failure.message


def test_a_dead_url_at_open_is_a_warning_and_the_others_serve(servers, tmp_path, caplog):
    dead = f"http://127.0.0.1:{free_loopback_port()}/v1"
    urls = f"{servers[0].base_url},{dead}"
    with caplog.at_level(logging.WARNING), open_llm(f"openai:m@{urls}", cache_dir=tmp_path) as llm:
        results = llm.chat_batch_sync([_request(f"q{i}") for i in range(4)])
    assert all(r.ok for r in results) and len(servers[0].requests) == 4
    assert f"fleet: {dead} is down (does not answer GET /models)" in caplog.text


def test_a_fleet_with_no_live_url_is_a_one_line_error(tmp_path):
    urls = ",".join(f"http://127.0.0.1:{free_loopback_port()}/v1" for _ in range(2))
    with pytest.raises(ModelError) as error:
        open_llm(f"openai:m@{urls}", cache_dir=tmp_path)
    assert "every endpoint of the LLM fleet is down" in str(error.value)
    assert "\n" not in str(error.value)


def test_a_benched_server_comes_back_after_its_cooldown(servers, tmp_path):
    async def run(llm):
        fleet = llm.backend.fleet
        fleet.bench(fleet.endpoints[0], "test")
        await llm.chat_batch([_request("a")])
        assert len(servers[0].requests) == 0
        await asyncio.sleep(0.1)  # past the cooldown: probed, answers, back in
        await llm.chat_batch([_request(f"b{i}") for i in range(4)])

    with _fleet(servers[:2], tmp_path, endpoint_cooldown_s=0.05, concurrency=4) as llm:
        asyncio.run(run(llm))
        assert llm.ledger_summary()["endpoints"][servers[0].base_url] == "up"
    # Back in service: it takes requests again (how many of the 4 depends on timing).
    assert len(servers[0].requests) >= 1


def test_per_endpoint_figures_continue_in_a_resumed_ledger(servers, tmp_path):
    ledger = tmp_path / "run"
    for _ in range(2):
        with _fleet(servers[:2], tmp_path, ledger_path=ledger, use_cache=False) as llm:
            llm.chat_batch_sync([_request(f"q{i}") for i in range(4)])
            summary = llm.ledger_summary()
    assert sum(c["calls"] for c in summary["by_endpoint"].values()) == 8
    assert summary["sessions"] == 2


def _user_prompts(users: int, asks: int) -> list[LLMRequest]:
    """`asks` requests per user, each opening with that user's long system message."""
    return [
        LLMRequest(
            messages=(
                {"role": "system", "content": f"memory of user {u}: " + "likes dramas. " * 40},
                {"role": "user", "content": f"ask {a}"},
            ),
            max_tokens=8,
        )
        for u in range(users)
        for a in range(asks)
    ]


def _server_of_each_user(servers, users: int) -> dict[int, set[int]]:
    seen: dict[int, set[int]] = {}
    for index, server in enumerate(servers):
        for body in server.requests:
            user = int(body["messages"][0]["content"].split()[3].rstrip(":"))
            seen.setdefault(user, set()).add(index)
    assert set(seen) == set(range(users))
    return seen


def test_prefix_affinity_keeps_each_users_requests_on_one_server(servers, tmp_path):
    options = {"routing": "prefix_affinity", "affinity_slack": 100, "concurrency": 6}
    with _fleet(servers, tmp_path, **options) as llm:
        assert all(r.ok for r in llm.chat_batch_sync(_user_prompts(12, 3)))
    placement = _server_of_each_user(servers, 12)
    assert all(len(where) == 1 for where in placement.values())
    assert len({next(iter(w)) for w in placement.values()}) > 1  # users spread over servers


def test_prefix_affinity_moves_only_a_dead_servers_users(servers, tmp_path):
    options = {"routing": "prefix_affinity", "affinity_slack": 100, "use_cache": False}
    with _fleet(servers, tmp_path, **options) as llm:
        llm.chat_batch_sync(_user_prompts(12, 1))
        before = {u: next(iter(w)) for u, w in _server_of_each_user(servers, 12).items()}
        for server in servers:
            server.requests.clear()
        llm.backend.fleet.bench(llm.backend.fleet.endpoints[0], "test")
        llm.chat_batch_sync(_user_prompts(12, 1))
    after = {u: next(iter(w)) for u, w in _server_of_each_user(servers, 12).items()}
    assert all(after[u] == before[u] for u in before if before[u] != 0)
    assert all(after[u] != 0 for u in before)


def test_cli_with_every_fleet_url_dead_exits_2_with_one_line(capsys):
    from recagora.experiments.cli.main import main

    urls = ",".join(f"http://127.0.0.1:{free_loopback_port()}/v1" for _ in range(2))
    assert main(["llm", "check", "--llm", f"openai:m@{urls}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "every endpoint of the LLM fleet is down" in err
    assert "\n" not in err
