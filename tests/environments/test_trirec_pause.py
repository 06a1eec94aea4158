"""A backend that dies mid-run pauses the run at its checkpoint; `resume` finishes it."""

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


@pytest.mark.slow
def test_a_dying_llm_pauses_the_run_and_resume_finishes_it(hashing_space, tmp_path):
    backend_up = {"value": True}

    def flaky(messages, schema):
        if not backend_up["value"]:
            raise TimeoutError("backend gone")
        return _reply(messages, schema)

    config = load_config(
        TrirecConfig,
        None,
        {"users": 3, "rounds": 2, "llm": "fake:", "agents": "user=surrogate,item=llm"},
        ["user_fit.max_train_samples=2000"],
    )
    extras = {"space": hashing_space}
    with open_llm("fake:", fake_reply_fn=flaky, max_retries=0, cache_dir=tmp_path / "c1") as llm:
        paused = start_run(
            config,
            runs_dir=tmp_path / "runs",
            llm=llm,
            extras=extras,
            on_round=lambda *_: backend_up.update(value=False),
        )
    assert paused.status == "paused"
    assert f"recagora run --resume {paused.folder.name}" in paused.message
    assert paused.folder.read_manifest()["status"] == "paused"
    assert {e["round"] for e in round_events(paused.folder.events_path)} == {0}

    with open_llm("fake:", fake_reply_fn=_reply, cache_dir=tmp_path / "c2") as llm:
        resumed = resume_run(paused.folder.path, llm=llm, extras=extras)
    assert resumed.status == "finished"
    assert {
        e["round"] for e in round_events(resumed.folder.events_path) if e.get("kind") == "round_end"
    } == {0, 1}
