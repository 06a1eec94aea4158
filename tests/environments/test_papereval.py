"""The PaperEval scenario: contract, retrieval, ablations, scorer judge, determinism, bad input."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from recagora.agents.evaluator import EvaluatorConfig
from recagora.agents.llm import open_llm
from recagora.environments.checks import check_scenario
from recagora.environments.papereval.config import PaperEvalConfig
from recagora.environments.papereval.scenario import PAPEREVAL
from recagora.environments.registry import get_scenario
from recagora.environments.scenario import MemorySink, RunServices
from recagora.item_space.errors import ConfigError, DatasetError
from recagora.item_space.papers import load_iclr_openreview, papers_to_catalog, shared_data_dir

pytestmark = pytest.mark.skipif(
    not (shared_data_dir() / "iclr-openreview").exists(),
    reason="shared iclr-openreview data not present",
)


@pytest.fixture(scope="module")
def world():
    from recagora.item_space.embedding import HashingEmbedder

    return {"corpus": load_iclr_openreview(), "embedder": HashingEmbedder(dim=256)}


def _judge_script(messages, schema):
    """fake: keyphrase = first title word; score = length of the abstract shown, scaled."""
    properties = (schema or {}).get("properties", {})
    content = messages[-1]["content"]
    if "keyphrase" in properties:
        return json.dumps({"keyphrase": content.split("Title: ")[1].split()[0]})
    score = min(len(content) / 5000.0, 1.0)
    return json.dumps(
        {"reasoning": "ok", "score": score} if "reasoning" in properties else {"score": score}
    )


def _config(**overrides) -> PaperEvalConfig:
    return PaperEvalConfig(**{"papers": 30, "rounds": 3, "subscribers": 8, **overrides})


def _play(config, world, llm=None) -> MemorySink:
    sink = MemorySink()
    episode = PAPEREVAL.prepare(config, RunServices(sink=sink, llm=llm, extras=dict(world)))
    graph = PAPEREVAL.build_graph().compile()
    asyncio.run(
        graph.ainvoke(episode.initial_state, {"recursion_limit": 200}, context=episode.context)
    )
    return sink


def test_registered_and_contract_holds(world):
    assert get_scenario("papereval") is PAPEREVAL
    report = check_scenario(PAPEREVAL, _config(llm="fake:"), extras=dict(world))
    assert report.rounds == 3


def test_episode_ranks_every_paper_and_reports_overall_metrics(world):
    llm = open_llm("fake:", fake_reply_fn=_judge_script, use_cache=False)
    sink = _play(_config(), world, llm)
    rows = sink.metrics_rows()
    assert [r["papers"] for r in rows] == [10, 10, 10]
    last = rows[-1]
    assert last["overall_n"] == 30 and -1 <= last["overall_spearman"] <= 1
    assert 0 <= last["overall_ndcg@10"] <= 1 and last["judge_failures"] == 0
    judged = [e for e in sink.all_events() if e["kind"] == "paper_judged"]
    assert len(judged) == 30 and all(len(e["references"]) <= 2 for e in judged)
    assert any(e["references"] for e in judged)
    posts = [e for e in sink.all_events() if e["kind"] == "post"]
    assert len(posts) == 3 * 10


def test_without_retrieval_the_judge_sees_no_references(world):
    seen = []

    def script(messages, schema):
        seen.append(messages[-1]["content"])
        return _judge_script(messages, schema)

    llm = open_llm("fake:", fake_reply_fn=script, use_cache=False)
    config = _config(evaluator=EvaluatorConfig(retrieval=False, reasoning=False))
    sink = _play(config, world, llm)
    assert not any("Concurrent work" in text for text in seen)
    assert not any("keyphrase" in text for text in seen) and not any(
        "reasoning" in text for text in seen
    )
    assert all(e["references"] == [] for e in sink.all_events() if e["kind"] == "paper_judged")


def test_invalid_judge_replies_are_counted_not_dropped(world):
    llm = open_llm("fake:", fake_replies=["no json here"], use_cache=False)
    sink = _play(_config(rounds=1, papers=12), world, llm)
    row = sink.metrics_rows()[0]
    assert (
        row["judge_failures"] == 12 and row["keyphrase_failures"] == 12 and row["overall_n"] == 12
    )


def test_scorer_judge_and_same_seed_same_events(world):
    def score_fn(papers, references):
        return np.array([len(p.text) / 2000.0 for p in papers])

    config = _config(agents="evaluator=scorer", scorer_path="unused-with-score_fn")
    runs = [_play(config, {**world, "score_fn": score_fn}) for _ in range(2)]
    assert runs[0].all_events() == runs[1].all_events()
    assert runs[0].metrics_rows() == runs[1].metrics_rows()


def test_bad_input_is_one_line_error(world):
    with pytest.raises(ConfigError, match="scorer_path"):
        PaperEvalConfig(agents="evaluator=scorer")
    with pytest.raises(ConfigError, match="did you mean 'evaluator'"):
        PaperEvalConfig(agents="evaluater=llm")
    empty, _ = papers_to_catalog([], "empty")
    corpus = load_iclr_openreview()
    corpus.concurrent = empty
    with pytest.raises(DatasetError, match="no concurrent paper"):
        _play(
            _config(agents="evaluator=scorer", scorer_path="x"),
            {**world, "corpus": corpus, "score_fn": len},
        )


def test_tied_scores_do_not_inherit_the_corpus_files_label_order(world):
    """The ICLR file is sorted by decision: a constant judge must rank like chance, not like it."""
    from recagora.item_space.papers import paper_labels
    from recagora.training.papereval.ranking_metrics import ranking_report

    labels = paper_labels(world["corpus"].targets)
    relevance = (labels - np.nanmin(labels)) / (np.nanmax(labels) - np.nanmin(labels))
    file_order = ranking_report(np.zeros(len(labels)), relevance)["ndcg@10"]

    def constant(papers, references):
        return np.full(len(papers), 0.5)

    config = _config(agents="evaluator=scorer", scorer_path="unused", papers=0, rounds=2)
    last = _play(config, {**world, "score_fn": constant}).metrics_rows()[-1]
    assert last["overall_n"] == len(labels) and last["overall_spearman"] == 0.0
    assert last["overall_ndcg@10"] < file_order - 0.05  # 0.64 in file order; chance ~0.50


def test_decisions_only_export_reports_auroc(tmp_path, world):
    """A decisions-only view of the real ICLR 2017 export (no reviews file), set with
    `--set corpus.submissions=...`: labels are accept/reject and the run reports AUROC."""
    from recagora.experiments.runner.config import load_config
    from recagora.item_space.papers import ICLR_FILES

    folder = tmp_path / "decisions-only"
    folder.mkdir()
    for name in (n for n in ICLR_FILES if n != "ICLR17_reviews.csv"):
        (folder / name).symlink_to(shared_data_dir() / "iclr-openreview" / name)
    overrides = [f"corpus.submissions={folder / 'ICLR17_submissions.csv'}", "papers=60",
                 "rounds=2", "subscribers=4", "agents=evaluator=scorer", "scorer_path=unused"]  # fmt: skip
    config = load_config(PaperEvalConfig, None, {}, overrides)

    def abstract_length(papers, references):
        return np.array([len(p.text) for p in papers], dtype=float)

    sink = _play(config, {"embedder": world["embedder"], "score_fn": abstract_length})
    last = sink.metrics_rows()[-1]
    assert last["overall_n"] == 60 and 0.0 <= last["overall_auroc"] <= 1.0
    assert last["overall_auroc"] != 0.5 and "auroc" in sink.metrics_rows()[0]
    with pytest.raises(ConfigError, match="corpus.submissions"):
        PaperEvalConfig(corpus=type(config.corpus)(year=2018))


def test_random_order_baseline_command_uses_the_scenarios_papers(capsys):
    """`recagora papereval baseline` averages seeded random orders of the run's own papers."""
    from recagora.experiments.cli.main import main

    def run(*args):
        assert main(["papereval", "baseline", "--random-orders", "40", *args]) == 0
        return json.loads(capsys.readouterr().out)

    subset, again, everything = run("--papers", "30"), run("--papers", "30"), run()
    assert subset == again and subset["papers"] == 30 and everything["papers"] == 489
    assert abs(everything["spearman"]["mean"]) < 0.03 < everything["ndcg@10"]["sd"]
    assert "auroc" not in everything and everything["labels"] == "rating"
