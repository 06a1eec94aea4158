"""Fixtures shared by the experiments tests."""

from __future__ import annotations

import json
import math

import pytest


@pytest.fixture()
def uninformative_hybrid(monkeypatch):
    """`recagora fidelity`'s hybrid over doubles: an LLM that always answers P(yes) = 0.5
    (logit 0, whatever w is picked) around the popularity baseline fitted on the split in
    place of the learned user (the real learned fit costs minutes)."""
    import recagora.agents.llm as llm_package
    import recagora.agents.user_models as user_models
    from recagora.item_space.fidelity.baselines import baseline_factories

    opened = llm_package.open_llm
    even = json.dumps({"Yes": math.log(0.5), "No": math.log(0.5)})
    monkeypatch.setattr(
        llm_package,
        "open_llm",
        lambda spec, **kw: opened(spec, fake_reply_fn=lambda messages, schema: even, **kw),
    )
    monkeypatch.setattr(
        user_models,
        "build_user_model",
        lambda name, dataset, split, seed=0, **kw: baseline_factories(len(dataset.catalog), seed)[
            "popularity"
        ](split),
    )
