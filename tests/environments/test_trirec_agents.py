"""The TriRec scenario with the REAL roles (surrogate user, LLM item agents over `fake:`)."""

from __future__ import annotations

import asyncio
import json

import pytest

from recagora.agents.llm import open_llm
from recagora.environments.scenario import MemorySink, RunServices
from recagora.environments.trirec.config import TrirecConfig
from recagora.environments.trirec.graph import build_trirec_graph
from recagora.environments.trirec.prepare import prepare_trirec
from recagora.experiments.runner.config import load_config


def _scripted_promotion(messages, schema) -> str:
    """A deterministic reply per prompt: promotions name the prompt's last words; memories too."""
    tail = " ".join(messages[-1]["content"].split()[-6:])
    key = "promotion" if "promotion" in json.dumps(schema) else "memory"
    return json.dumps({key: f"Scripted text about {tail}"})


def _episode_events(
    hashing_space, tmp_path, seed: int, mode: str = "personalized"
) -> tuple[list, list]:
    config = load_config(
        TrirecConfig,
        None,
        {
            "users": 5,
            "rounds": 2,
            "seed": seed,
            "llm": "fake:",
            "agents": "user=surrogate,item=llm",
        },
        ["user_fit.max_train_samples=2000", f"item.mode={mode}"],
    )
    sink = MemorySink()
    with open_llm(
        "fake:", fake_reply_fn=_scripted_promotion, cache_dir=tmp_path / "llm-cache"
    ) as llm:
        episode = prepare_trirec(
            config, RunServices(sink=sink, llm=llm, extras={"space": hashing_space})
        )
        graph = build_trirec_graph().compile()
        asyncio.run(
            graph.ainvoke(episode.initial_state, {"recursion_limit": 1000}, context=episode.context)
        )
    return sink.all_events(), sink.metrics_rows()


@pytest.mark.slow
def test_same_seed_and_fake_llm_give_identical_events(hashing_space, tmp_path):
    first, first_metrics = _episode_events(hashing_space, tmp_path / "a", seed=0)
    second, _ = _episode_events(hashing_space, tmp_path / "b", seed=0)
    other, _ = _episode_events(hashing_space, tmp_path / "c", seed=1)
    assert first == second
    assert first != other
    stages = {e.get("stage") for e in first}
    assert {"promotion", "score", "rerank", "response", "memory"} <= stages
    assert all(
        row["llm_requests"] > 0 for row in first_metrics
    )  # item agents asked the LLM every round


@pytest.mark.slow
def test_promotion_mode_none_asks_the_llm_for_no_promotion(hashing_space, tmp_path):
    _, none_metrics = _episode_events(hashing_space, tmp_path / "none", seed=0, mode="none")
    _, personal_metrics = _episode_events(hashing_space, tmp_path / "personal", seed=0)
    # Promoting: 5 users x 10 candidates = 50 promotion requests (+ memory rewrites); none: no ad, no call.
    assert none_metrics[0]["llm_requests"] == 0
    assert personal_metrics[0]["llm_requests"] >= 50
