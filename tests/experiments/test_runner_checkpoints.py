"""Round-boundary checkpoints leave the round's events out (they are in events.jsonl by
then) and the round task's state writes (the checkpoint holds the same values), and keep
everything a resume reads."""

from __future__ import annotations

import pickle
import sqlite3

import numpy as np

from recagora.agents.roles.base import Promotions, Responses, Scores
from recagora.environments.trirec.config import TrirecConfig
from recagora.experiments.runner.checkpoints import PAGE_SIZE, without_events
from recagora.experiments.runner.config import build_config
from recagora.experiments.runner.runner import start_run


def test_without_events_empties_the_event_list_and_the_outputs_events_only():
    event = {"kind": "score", "user": "7"}
    scores = Scores(np.ones((1, 2)), np.ones(1, bool), [""], events=[event])
    assert without_events("events", [event]) == []
    stripped = without_events("scores", scores)
    assert stripped.events == [] and stripped.scores is scores.scores
    assert scores.events == [event]  # the live value is untouched
    responses = Responses(np.zeros(1, np.int64), np.zeros(1), events=[])
    assert without_events("responses", responses) is responses
    promotions = Promotions.empty((1, 2))
    assert without_events("promotions", promotions) is promotions
    assert without_events("round", 3) == 3
    assert without_events("other", [event]) == [event]  # only the state's `events` key


def test_a_round_checkpoint_holds_the_state_but_no_round_events(tmp_path):
    from recagora.item_space.datasets import load_dataset
    from recagora.item_space.embedding import HashingEmbedder
    from recagora.item_space.space import ItemSpace

    catalog = load_dataset("ml-100k").catalog
    space = ItemSpace.build(catalog, embedder=HashingEmbedder(), use_cache=False)
    config = build_config(
        TrirecConfig,
        {"agents": "user=surrogate,item=surrogate", "population": 60, "rounds": 2, "seed": 3},
    )
    result = start_run(config, runs_dir=tmp_path, extras={"space": space})
    assert result.status == "finished"
    with sqlite3.connect(result.folder.checkpoint_path) as db:
        blob = db.execute(
            "SELECT checkpoint FROM checkpoints ORDER BY checkpoint_id DESC"
        ).fetchone()
        channels = [c for (c,) in db.execute("SELECT channel FROM writes")]
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    values = pickle.loads(blob[0])["channel_values"]
    assert values["done"] and values["round"] == 2 and len(values["cohort"]) == 60
    assert values["events"] == []
    assert values["scores"].events == [] and values["responses"].events == []
    assert values["scores"].scores.shape == (60, config.platform.n_candidates)
    assert all(c.startswith("__") for c in channels)  # no state write saved twice
    assert page_size == PAGE_SIZE
    on_disk = (result.folder.path / "events.jsonl").read_text()
    assert '"kind": "score"' in on_disk  # the events themselves are in the log
