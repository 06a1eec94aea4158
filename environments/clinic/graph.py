"""State, nodes and graph of the clinic scenario.

begin_round (round 0: the clinician proposes every test visit's list) -> check (the
pharmacist flags interacting pairs) -> revise (the editor removes at most one drug per
list) -> record_round --(rounds left)--> begin_round   \\--(horizon)--> END
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
from langgraph.graph import StateGraph
from langgraph.runtime import Runtime

from recagora.environments.reducers import RoundEvents
from recagora.environments.round_graph import build_round_cycle
from recagora.environments.scenario import RoundSink
from recagora.item_space.metrics.medication import ddi_rate, f1, jaccard, precision, recall


class ClinicState(TypedDict, total=False):
    round: int
    """0-based edit step."""
    lists: tuple[tuple[int, ...], ...]
    """Each test visit's current medication list (drug ids)."""
    flags: tuple[tuple[tuple[int, int], ...], ...]
    """This round's flagged interacting pairs per visit."""
    removed: tuple[int | None, ...]
    """The drug each visit's editor removed this round (None: no edit)."""
    events: RoundEvents
    """Events of the current round."""
    done: bool


@dataclass
class ClinicContext:
    """Run-scoped (rebuilt by `prepare` on resume): data, test visits, roles, scores."""

    config: Any
    data: Any
    interactions: Any
    test: tuple[int, ...]
    scores: tuple[np.ndarray, ...]  # the clinician's p(d) per test visit
    proposals: tuple[tuple[int, ...], ...]
    pharmacist: Any
    editor: Any
    sink: RoundSink


Ctx = Runtime[ClinicContext]


def begin_round(state: ClinicState, runtime: Ctx) -> dict[str, Any]:
    ctx, r = runtime.context, state["round"]
    events: list[dict] = [{"kind": "round_start", "round": r}]
    if r > 0:
        return {"events": events}
    for index, proposal in zip(ctx.test, ctx.proposals, strict=True):
        visit = ctx.data.visits[index]
        events.append({"kind": "proposal", "round": r, "user": visit.visit, "patient": visit.patient,
                       "slate": [ctx.data.drugs[d] for d in proposal]})  # fmt: skip
    return {"lists": ctx.proposals, "events": events}


def check(state: ClinicState, runtime: Ctx) -> dict[str, Any]:
    flags = tuple(tuple(runtime.context.pharmacist.flag(drugs)) for drugs in state["lists"])
    return {"flags": flags}


def revise(state: ClinicState, runtime: Ctx) -> dict[str, Any]:
    ctx, r = runtime.context, state["round"]
    lists, removed, events = [], [], []
    for n, (drugs, flagged) in enumerate(zip(state["lists"], state["flags"], strict=True)):
        revised, drop = ctx.editor.revise(drugs, flagged, ctx.scores[n])
        lists.append(revised)
        removed.append(drop)
        if drop is not None:
            events.append({"kind": "edit", "round": r, "user": ctx.data.visits[ctx.test[n]].visit,
                           "item": ctx.data.drugs[drop], "score": float(ctx.scores[n][drop]),
                           "flagged_pairs": len(flagged)})  # fmt: skip
    return {"lists": tuple(lists), "removed": tuple(removed), "events": events}


def record_round(state: ClinicState, runtime: Ctx) -> dict[str, Any]:
    ctx, r = runtime.context, state["round"]
    ctx.sink.write_round(r, state["events"], round_metrics(state, ctx))
    return {"round": r + 1, "done": r + 1 >= ctx.config.rounds}


def round_metrics(state: ClinicState, ctx: ClinicContext) -> dict[str, float]:
    """Accuracy and safety of the current lists and of the clinician's proposals (mean over visits)."""
    truth = [set(ctx.data.visits[i].drugs) for i in ctx.test]
    lists, interacting = state["lists"], ctx.interactions.interacting

    def mean(metric, rows) -> float:
        return float(np.mean([metric(p, t) for p, t in zip(rows, truth, strict=True)]))

    return {
        "active_users": float(len(lists)),
        "jaccard": mean(jaccard, lists),
        "f1": mean(f1, lists),
        "precision": mean(precision, lists),
        "recall": mean(recall, lists),
        "ddi_rate": float(np.mean([ddi_rate(p, interacting) for p in lists])),
        "list_length": float(np.mean([len(p) for p in lists])),
        "edits": float(sum(d is not None for d in state["removed"])),
        "flagged_pairs": float(np.mean([len(f) for f in state["flags"]])),
        "proposed_jaccard": mean(jaccard, ctx.proposals),
        "proposed_ddi_rate": float(np.mean([ddi_rate(p, interacting) for p in ctx.proposals])),
        "truth_ddi_rate": float(np.mean([ddi_rate(t, interacting) for t in truth])),
    }


def next_step(state: ClinicState) -> str:
    return "end" if state["done"] else "next_round"


PIPELINE = (
    ("begin_round", begin_round),
    ("check", check),
    ("revise", revise),
    ("record_round", record_round),
)


def build_clinic_graph() -> StateGraph:
    return build_round_cycle(ClinicState, ClinicContext, PIPELINE, next_step)
