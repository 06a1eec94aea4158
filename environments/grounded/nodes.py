"""Nodes of the grounded loop (MGFRec, Cai et al., KDD 2026): think -> ground -> feedback.

Each node handles the whole cohort of users still searching; LLM work is one
concurrent batch per node. Nodes return only the keys they change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from langgraph.runtime import Runtime

from recagora.agents.reasoner import Turn
from recagora.environments.grounded.metrics import list_accuracy, round_metrics, target_ranks
from recagora.environments.grounded.state import GroundedContext, GroundedState
from recagora.item_space.grounding import query_vectors

Ctx = Runtime[GroundedContext]


def begin_round(state: GroundedState, runtime: Ctx) -> dict[str, Any]:
    """Users still searching play this round."""
    active = np.flatnonzero(state["open"]).astype(np.int64)
    return {
        "active": active,
        "events": [
            {"kind": "round_start", "round": state["round"], "active_users": int(len(active))}
        ],
    }


async def reason(state: GroundedState, runtime: Ctx) -> dict[str, Any]:
    """The reasoner thinks and names a query (or its answer) for every active user."""
    ctx, idx = runtime.context, state["active"]
    must_answer = state["round"] + 1 >= ctx.config.rounds
    moves = await ctx.reasoner.step(
        [ctx.histories[u] for u in idx],
        ctx.shortlists[idx],
        [state["transcripts"][u] for u in idx],
        must_answer,
    )
    return {"moves": moves}


def ground(state: GroundedState, runtime: Ctx) -> dict[str, Any]:
    """Every query -> its `ground_k` nearest real items (history excluded) in the shared FAISS space."""
    ctx, idx, moves = runtime.context, state["active"], state["moves"]
    vectors = query_vectors(moves.queries, ctx.space.embedder)  # (m, d): texts in one batch
    longest = max(len(ctx.histories[u]) for u in idx)
    ids, scores = ctx.space.index.search(vectors, ctx.config.ground_k + longest)
    grounded = np.full((len(idx), ctx.config.ground_k), -1, np.int64)
    for row, user in enumerate(idx):
        fresh = [int(i) for i in ids[row] if i >= 0 and int(i) not in ctx.histories[user]]
        grounded[row, : len(fresh[: ctx.config.ground_k])] = fresh[: ctx.config.ground_k]
    histories = [ctx.histories[u] for u in idx]
    ranks = target_ranks(vectors, ctx.space.catalog.vectors, histories, ctx.targets[idx])
    return {
        "grounded": grounded,
        "best_scores": scores[:, 0].astype(np.float32),
        "target_ranks": ranks,
    }


async def give_feedback(state: GroundedState, runtime: Ctx) -> dict[str, Any]:
    """The user agent criticises the grounded lists of the users who searched (not answered)."""
    ctx, idx, moves = runtime.context, state["active"], state["moves"]
    searching = np.flatnonzero(~moves.answer)
    lists = [tuple(int(i) for i in state["grounded"][row] if i >= 0) for row in searching]
    feedback = await ctx.critic.critique([ctx.histories[idx[row]] for row in searching], lists)
    return {"feedback": feedback}


def record_round(state: GroundedState, runtime: Ctx) -> dict[str, Any]:
    """Append turns, store answers, hand events + metrics to the sink; decide whether to go on."""
    ctx, r, idx = runtime.context, state["round"], state["active"]
    transcripts, open_, finals, final_round = _apply_round(state)
    metrics = round_metrics(state, ctx.targets[idx], ctx.config.min_score)
    done = r + 1 >= ctx.config.rounds or not open_.any()
    if done:
        metrics.update(list_accuracy(finals, ctx.targets, "final_"))
        metrics.update(list_accuracy(ctx.shortlists, ctx.targets, "shortlist_"))
        metrics["mean_answer_round"] = float(final_round.mean() + 1)
    events = [
        *state["events"],
        *_user_events(state, ctx),
        {"kind": "round_metrics_ready", "round": r},
    ]
    ctx.sink.write_round(r, events, metrics)
    return {
        "transcripts": transcripts,
        "open": open_,
        "final_lists": finals,
        "final_round": final_round,
        "round": r + 1,
        "done": done,
    }


def next_step(state: GroundedState) -> str:
    """Router after `record_round`: another round, or the end of the episode."""
    return "end" if state["done"] else "next_round"


def _apply_round(state: GroundedState) -> tuple:
    """New transcripts (a turn per searching user), open flags and answer lists."""
    idx, moves, grounded = state["active"], state["moves"], state["grounded"]
    transcripts, open_ = list(state["transcripts"]), state["open"].copy()
    finals, final_round = state["final_lists"].copy(), state["final_round"].copy()
    searching = np.flatnonzero(~moves.answer)
    for position, row in enumerate(searching):
        user, fb = idx[row], state["feedback"]
        turn = Turn(
            query=_query_text(moves.queries[row]),
            grounded=tuple(int(i) for i in grounded[row] if i >= 0),
            feedback=fb.texts[position],
            liked=fb.liked[position],
            disliked=fb.disliked[position],
            remark=fb.remarks[position] if fb.remarks else "",
        )
        transcripts[user] = (*transcripts[user], turn)
    for row in np.flatnonzero(moves.answer):
        user = idx[row]
        finals[user], final_round[user], open_[user] = grounded[row], state["round"], False
    return tuple(transcripts), open_, finals, final_round


def _query_text(query: Any) -> str:
    return query if isinstance(query, str) else "(vector query)"


def _user_events(state: GroundedState, ctx: GroundedContext) -> list[dict]:
    """One event per active user: what the reasoner named, what it grounded to, the feedback."""
    moves, searching = state["moves"], list(np.flatnonzero(~state["moves"].answer))
    events = []
    for row, user in enumerate(state["active"].tolist()):
        event = {
            "kind": "grounded_turn",
            "round": state["round"],
            "user": ctx.users[user],
            "action": "answer" if moves.answer[row] else "search",
            "query": _query_text(moves.queries[row]),
            "thought": moves.thoughts[row],
            "reply_failed": bool(moves.failed[row]),
            "grounded": [int(i) for i in state["grounded"][row]],
            "best_score": round(float(state["best_scores"][row]), 6),
            "target_rank": int(state["target_ranks"][row]),
        }
        if moves.events:
            event["llm"] = moves.events[row]
        if row in searching:
            event["feedback"] = state["feedback"].texts[searching.index(row)]
        events.append(event)
    return events
