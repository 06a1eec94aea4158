"""A backend that fails mid-run pauses the run at its checkpoint with the reason; `resume`
asks only the failed requests again and finishes it, and the LLM ledger covers both."""

from __future__ import annotations

import json

import pytest

from recagora.agents.llm import open_llm
from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.runner.config import load_config
from recagora.experiments.runner.events import round_events
from recagora.experiments.runner.runner import resume_run, start_run


def _reply(messages, schema) -> str:
    key = "promotion" if "promotion" in json.dumps(schema) else "memory"
    return json.dumps({key: "A scripted line."})


class FlakyBackend:
    """A `fake:` reply function that records what it was asked and fails while down."""

    def __init__(self) -> None:
        self.up = True
        self.answered: set[str] = set()
        self.failed: set[str] = set()

    def __call__(self, messages, schema) -> str:
        prompt = json.dumps(messages, sort_keys=True)
        if not self.up:
            self.failed.add(prompt)
            raise TimeoutError("backend gone")
        self.answered.add(prompt)
        return _reply(messages, schema)


@pytest.mark.slow
def test_a_failing_llm_pauses_the_run_and_resume_asks_only_the_failed_requests(
    hashing_space, tmp_path
):
    config = load_config(
        TrirecConfig,
        None,
        {"users": 3, "rounds": 2, "llm": "fake:", "agents": "user=surrogate,item=llm"},
        ["user_fit.max_train_samples=2000"],
    )
    extras = {"space": hashing_space}
    backend = FlakyBackend()
    shared = {"fake_reply_fn": backend, "cache_dir": tmp_path / "cache"}
    ledger = tmp_path / "ledger.json"
    with open_llm("fake:", max_retries=0, ledger_path=ledger, **shared) as llm:
        paused = start_run(
            config,
            runs_dir=tmp_path / "runs",
            llm=llm,
            extras=extras,
            on_round=lambda *_: setattr(backend, "up", False),
        )
    assert paused.status == "paused"
    assert "requests to fake: failed during this stage (timeout: " in paused.message
    assert "backend gone" in paused.message
    assert f"recagora run --resume {paused.folder.name}" in paused.message
    assert paused.folder.read_manifest()["status"] == "paused"
    assert {e["round"] for e in round_events(paused.folder.events_path)} == {0}
    requests_before = json.loads(ledger.read_text())["requests"]

    answered_before, failed_before = set(backend.answered), set(backend.failed)
    backend.up, backend.answered = True, set()
    with open_llm("fake:", ledger_path=ledger, **shared) as llm:
        resumed = resume_run(paused.folder.path, llm=llm, extras=extras)
    assert resumed.status == "finished"
    assert {
        e["round"] for e in round_events(resumed.folder.events_path) if e.get("kind") == "round_end"
    } == {0, 1}
    # The failed requests were asked again; nothing answered before the pause was.
    assert failed_before <= backend.answered and not answered_before & backend.answered
    total = json.loads(ledger.read_text())
    assert total["sessions"] == 2 and total["requests"] > requests_before > 0
