"""Build a PaperEval episode: corpus, shared item space over the concurrent papers, roles, days.

`RunServices.extras` may carry "corpus" (a `PaperCorpus`), "embedder" (any `Embedder`;
default MiniLM behind the cache) and "score_fn" (a judge callable instead of a scorer file).
The corpus is `config.corpus` (any OpenReview export, rating or decision labels) when its
submissions file is set, else ICLR 2017 from `config.data`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recagora.agents.papereval.feed import SubscriberAgent
from recagora.agents.registry import resolve
from recagora.environments.papereval.config import PaperEvalConfig
from recagora.environments.papereval.state import PaperEvalContext
from recagora.environments.scenario import Episode, RunServices, stage_rng
from recagora.item_space.errors import DatasetError
from recagora.item_space.openreview import load_openreview
from recagora.item_space.papers import PaperCorpus, load_iclr_openreview, paper_days, paper_labels
from recagora.training.papereval.ranking_metrics import normalise_labels


def prepare_papereval(config: PaperEvalConfig, services: RunServices) -> Episode:
    """The context and initial state of a PaperEval episode (see module docstring for extras)."""
    from recagora.item_space.embedding import default_embedder
    from recagora.item_space.space import ItemSpace

    extras, llm, closers = services.extras, services.llm, []
    if llm is None and "llm" in (config.role("evaluator"), config.role("post_writer")):
        from recagora.agents.llm import open_llm

        llm = open_llm(config.llm, ledger_path=services.ledger_path)
        closers.append(llm.close)
    # roles first: a missing scorer file is refused before the corpus is read and embedded
    judge, writer = _judge(config, llm, extras), _post_writer(config, llm)
    corpus = extras.get("corpus") or load_corpus(config)
    embedder = extras.get("embedder") or default_embedder()
    papers = chosen_papers(corpus, config)
    ItemSpace.build(corpus.concurrent, embedder=embedder)  # sets corpus.concurrent.vectors
    target_vectors = embedder.embed([f"{i.title}. {i.text}" for i in corpus.targets.items])
    labels = paper_labels(corpus.targets)
    evaluator = judge if config.role("evaluator") == "llm" else None
    context = PaperEvalContext(
        config, corpus.targets, corpus.concurrent, target_vectors, paper_days(corpus.targets),
        paper_days(corpus.concurrent), normalise_labels(labels, np.nanmin(labels), np.nanmax(labels)),
        embedder, evaluator, judge, writer,
        _subscribers(corpus, embedder, config), [d for d in np.array_split(papers, config.rounds) if len(d)],
        services.sink, llm,
    )  # fmt: skip
    info = {
        "papers": int(len(papers)),
        "concurrent_papers": len(corpus.concurrent),
        "load_report": corpus.report.summary(),
        "labels": corpus.labels,
    }
    state = {
        "round": 0,
        "all_scores": np.full(len(corpus.targets), np.nan),
        "events": [],
        "done": False,
    }
    return Episode(context, state, info=info, closers=closers)


def _judge(config: PaperEvalConfig, llm: Any, extras: dict[str, Any]) -> Any:
    """The evaluator role from the agent registry: the LLM judge, or a trained scorer."""
    judge_cls = resolve("evaluator", config.role("evaluator"))
    if config.role("evaluator") == "llm":
        return judge_cls(llm, config.evaluator)
    return judge_cls(_score_fn(config, extras))


def _post_writer(config: PaperEvalConfig, llm: Any) -> Any:
    """The post-writer role from the agent registry (LLM posts or templates)."""
    writer_cls = resolve("post_writer", config.role("post_writer"))
    return writer_cls(llm) if config.role("post_writer") == "llm" else writer_cls()


def load_corpus(config: PaperEvalConfig) -> PaperCorpus:
    """The configured export (`corpus.submissions`), else ICLR 2017 from `data`."""
    if config.corpus.submissions:
        return load_openreview(config.corpus)
    return load_iclr_openreview(config.data or None)


def chosen_papers(corpus: PaperCorpus, config: PaperEvalConfig) -> np.ndarray:
    """Labelled target papers, a seeded subset when `config.papers` > 0, in a seeded order."""
    labelled = np.flatnonzero(np.isfinite(paper_labels(corpus.targets)))
    if len(labelled) == 0 or len(corpus.concurrent) == 0:
        raise DatasetError(
            "the paper corpus has no labelled target paper or no concurrent paper; check the data folder"
        )
    rng = stage_rng(config.seed, 0, "setup.papers")
    order = rng.permutation(labelled)
    return order[: config.papers] if config.papers else order


def _score_fn(config: PaperEvalConfig, extras: dict[str, Any]):
    if "score_fn" in extras:
        return extras["score_fn"]
    from recagora.training.papereval.trainer import scoring_function

    return scoring_function(config.scorer_path)


def _subscribers(corpus: PaperCorpus, embedder, config: PaperEvalConfig) -> SubscriberAgent:
    """Subscribers follow keywords drawn (seeded) from the target papers' keyword lists."""
    keywords = sorted({c for item in corpus.targets.items for c in item.categories[1:]}) or [
        corpus.targets[0].title
    ]
    rng = stage_rng(config.seed, 0, "setup.subscribers")
    topics = [keywords[i] for i in rng.integers(0, len(keywords), size=config.subscribers)]
    return SubscriberAgent(topics, embedder.embed(topics), config.subscriber)
