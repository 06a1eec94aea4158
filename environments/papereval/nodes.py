"""Nodes of the PaperEval episode (Zheng et al., AAAI'26): one round = one day of papers.

begin_day -> retrieve (keyphrase + concurrent work) -> evaluate (judge)
    -> publish (top-k filter, posts, subscribers) -> record_day -> next day | END
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from recagora.environments.papereval.state import PaperEvalContext, PaperEvalState
from recagora.environments.scenario import stage_rng
from recagora.item_space.papers import concurrent_work
from recagora.training.papereval.ranking_metrics import ranking_report

Ctx = Runtime[PaperEvalContext]


def begin_day(state: PaperEvalState, runtime: Ctx) -> dict[str, Any]:
    """The day's submissions."""
    papers = runtime.context.days[state["round"]]
    return {
        "day_papers": papers,
        "events": [{"kind": "day_start", "round": state["round"], "papers": int(len(papers))}],
    }


async def retrieve(state: PaperEvalState, runtime: Ctx) -> dict[str, Any]:
    """Keyphrase per paper (LLM evaluator) or the paper itself as query -> concurrent work."""
    ctx, papers = runtime.context, state["day_papers"]
    settings = ctx.config.evaluator
    if not settings.retrieval or settings.k == 0:
        return {
            "keyphrases": [""] * len(papers),
            "references": [[] for _ in papers],
            "counters": {},
        }
    items = [ctx.targets[int(i)] for i in papers]
    failed = np.zeros(len(papers), bool)
    if ctx.evaluator is not None:
        phrases, failed, _ = await ctx.evaluator.keyphrases(items)
        queries = ctx.embedder.embed(phrases)
    else:
        phrases, queries = [p.title for p in items], ctx.target_vectors[papers]
    refs = concurrent_work(
        queries,
        ctx.target_days[papers],
        ctx.concurrent.vectors,
        ctx.corpus_days,
        settings.gamma,
        settings.k,
    )
    return {
        "keyphrases": list(phrases),
        "references": refs,
        "counters": {"keyphrase_failures": float(failed.sum())},
    }


async def evaluate(state: PaperEvalState, runtime: Ctx) -> dict[str, Any]:
    """The judge scores every paper of the day in one batch."""
    ctx, papers = runtime.context, state["day_papers"]
    items = [ctx.targets[int(i)] for i in papers]
    references = [[ctx.concurrent[r] for r in refs] for refs in state["references"]]
    judged = await ctx.judge.judge(items, references)
    all_scores = state["all_scores"].copy()
    all_scores[papers] = judged.scores
    events = [
        {"kind": "paper_judged", "round": state["round"], "paper": ctx.targets[int(i)].key, "keyphrase": phrase,
         "references": [ctx.concurrent[r].key for r in refs], "score": round(float(s), 6), "failed": bool(f),
         "justification": note[:300], **({"llm": judged.events[row]} if judged.events else {})}
        for row, (i, phrase, refs, s, f, note) in enumerate(
            zip(papers, state["keyphrases"], state["references"], judged.scores, judged.failed, judged.justifications, strict=True)
        )
    ]  # fmt: skip
    return {
        "scores": judged.scores,
        "justifications": judged.justifications,
        "judge_failed": judged.failed,
        "all_scores": all_scores,
        "events": events,
    }


async def publish(state: PaperEvalState, runtime: Ctx) -> dict[str, Any]:
    """Top-k of the day -> posts -> subscribers read / skip / save them."""
    ctx, papers, scores = runtime.context, state["day_papers"], state["scores"]
    order = np.argsort(-scores, kind="stable")[: ctx.config.top_k]
    published = papers[order]
    items = [ctx.targets[int(i)] for i in published]
    posts, failed, _ = await ctx.post_writer.write(
        items, [state["justifications"][j] for j in order]
    )
    rng = stage_rng(ctx.config.seed, state["round"], "subscribers")
    reactions = ctx.subscribers.react(ctx.target_vectors[published], ctx.relevance[published], rng)
    events = [
        {"kind": "post", "round": state["round"], "paper": ctx.targets[p.paper].key, "headline": p.headline,
         "text": p.text, "reads": int((reactions[:, j] >= 1).sum()), "saves": int((reactions[:, j] == 2).sum())}
        for j, p in enumerate(posts)
    ]  # fmt: skip
    counters = {**state.get("counters", {}), "post_failures": float(failed.sum())}
    return {"published": published, "reactions": reactions, "counters": counters, "events": events}


def record_day(state: PaperEvalState, runtime: Ctx) -> dict[str, Any]:
    """Day metrics (+ overall ranking metrics on the last day) to the sink."""
    ctx, r = runtime.context, state["round"]
    metrics = _day_metrics(state, ctx)
    done = r + 1 >= len(ctx.days)
    if done:
        judged = _evaluation_order(ctx, state["all_scores"])
        report = ranking_report(state["all_scores"][judged], ctx.relevance[judged])
        metrics.update({f"overall_{k}": v for k, v in report.items()})
    ctx.sink.write_round(
        r, [*state["events"], {"kind": "round_metrics_ready", "round": r}], metrics
    )
    return {"round": r + 1, "done": done}


def _evaluation_order(ctx: PaperEvalContext, all_scores: np.ndarray) -> np.ndarray:
    """Judged papers in the seeded evaluation order, never the corpus file's order.

    The ranking metrics break score ties by input order, and the ICLR file is sorted by
    decision (its order has Spearman 0.74 with the mean rating): a judge that gives many
    papers the same score (SmolLM2 does) would otherwise inherit the labels' order.
    """
    order = np.concatenate(ctx.days)
    return order[np.isfinite(all_scores[order])]


def next_step(state: PaperEvalState) -> str:
    return "end" if state["done"] else "next_round"


def _day_metrics(state: PaperEvalState, ctx: PaperEvalContext) -> dict[str, float]:
    papers, reactions = state["day_papers"], state["reactions"]
    row = {
        k: v for k, v in ranking_report(state["scores"], ctx.relevance[papers]).items() if k != "n"
    }
    refs = [len(r) for r in state["references"]]
    row.update(
        papers=float(len(papers)),
        judge_failures=float(state["judge_failed"].sum()),
        references_per_paper=float(np.mean(refs)),
        no_reference_rate=float(np.mean([n == 0 for n in refs])),
        published_quality=float(np.nanmean(ctx.relevance[state["published"]])),
        day_quality=float(np.nanmean(ctx.relevance[papers])),
        read_rate=float((reactions >= 1).mean()) if reactions.size else 0.0,
        save_rate=float((reactions == 2).mean()) if reactions.size else 0.0,
        **state.get("counters", {}),
    )
    return row
