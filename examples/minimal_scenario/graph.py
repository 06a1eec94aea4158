"""File 3 of 5: state, nodes and graph of one shopping round.

    show (the shelf picks each user's slate) -> shop (users buy; the round is recorded)
        --(rounds left)--> show      \\--(horizon)--> END

Nodes return only the keys they change; the last node of a round hands the round's
events and metrics to the run's sink (written once per round, also on resume).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime

from recagora.environments.reducers import RoundEvents
from recagora.environments.round_graph import build_round_cycle
from recagora.environments.scenario import RoundSink, stage_rng


class ShopState(TypedDict, total=False):
    """What the checkpoint holds between nodes (numpy arrays pickle as they are)."""

    round: int
    """0-based round being played."""
    owned: np.ndarray
    """(U, N) bool items each user bought so far (never shown again)."""
    slates: np.ndarray
    """(U, k) int64 this round's shelf per user, -1 = empty slot."""
    events: RoundEvents
    """Events of the current round (earlier rounds are on disk)."""
    done: bool
    """True after the last round."""


@dataclass
class ShopContext:
    """Run-scoped, not checkpointed: rebuilt by `prepare` on resume."""

    config: Any
    users: tuple[str, ...]
    titles: tuple[str, ...]
    liked: np.ndarray  # (U, N) bool: the user's real rating >= like_rating
    popularity: np.ndarray  # (N,) real ratings per item
    shelf: Any
    shopper: Any
    sink: RoundSink


Ctx = Runtime[ShopContext]


def show(state: ShopState, runtime: Ctx) -> dict[str, Any]:
    """Each user's top `shelf_size` items by the shelf's scores, owned items left out."""
    ctx, r = runtime.context, state["round"]
    scores = ctx.shelf.scores(len(ctx.users), stage_rng(ctx.config.seed, r, "show"))
    scores = np.where(state["owned"], -np.inf, scores)
    slates = np.argsort(-scores, axis=1, kind="stable")[:, : ctx.config.shelf_size]
    slates = np.where(np.isfinite(np.take_along_axis(scores, slates, 1)), slates, -1)
    return {"slates": slates, "events": [{"kind": "round_start", "round": r}]}


def shop(state: ShopState, runtime: Ctx) -> dict[str, Any]:
    """Users buy; the round's events and metrics go to the sink."""
    ctx, r, slates = runtime.context, state["round"], state["slates"]
    bought = ctx.shopper.choose(slates, ctx.liked, stage_rng(ctx.config.seed, r, "shop"))
    owned = state["owned"].copy()
    buyers = np.flatnonzero(bought >= 0)
    owned[buyers, bought[buyers]] = True
    events = [
        {"kind": "purchase", "round": r, "user": ctx.users[u], "item": ctx.titles[bought[u]]}
        for u in buyers
    ]
    ctx.sink.write_round(r, [*state["events"], *events], round_metrics(slates, bought, ctx))
    return {"owned": owned, "round": r + 1, "done": r + 1 >= ctx.config.rounds}


def round_metrics(slates: np.ndarray, bought: np.ndarray, ctx: ShopContext) -> dict[str, float]:
    """buy_rate: share of users who bought; liked_share: share of shown items the user
    likes; coverage: share of the catalog shown to someone; shown_popularity: mean real
    ratings of a shown item."""
    shown = slates[slates >= 0]
    rows = np.repeat(np.arange(len(slates)), slates.shape[1]).reshape(slates.shape)
    return {
        "active_users": float(len(slates)),
        "buy_rate": float((bought >= 0).mean()),
        "liked_share": float(ctx.liked[rows[slates >= 0], shown].mean()) if len(shown) else 0.0,
        "coverage": float(len(np.unique(shown)) / len(ctx.titles)),
        "shown_popularity": float(ctx.popularity[shown].mean()) if len(shown) else 0.0,
    }


def next_step(state: ShopState) -> str:
    return "end" if state["done"] else "next_round"


def build_shop_graph() -> StateGraph:
    """The uncompiled graph: show -> shop, closed into a cycle."""
    return build_round_cycle(ShopState, ShopContext, (("show", show), ("shop", shop)), next_step)
