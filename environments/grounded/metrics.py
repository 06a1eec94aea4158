"""Per-round metrics of the grounded loop (MGFRec's "search space narrows" analysis).

- ndcg@10, hr@10: the held-out item in this round's grounded list (active users);
- target_rank_mean / _median: its 1-based rank among all non-history items by
  similarity to the query (falls round by round when the search narrows);
- ungrounded_distance: L2 distance between the query and its nearest real item
  (unit vectors: sqrt(2 - 2 cos)); ungrounded_rate: share below `min_score` cosine;
- final_* and shortlist_*: HR/NDCG@5/10 of the answers and of the initial shortlist,
  written in the last round (over all users).
"""

from __future__ import annotations

import numpy as np

from recagora.item_space import metrics as m


def target_ranks(
    queries: np.ndarray, vectors: np.ndarray, histories, targets: np.ndarray
) -> np.ndarray:
    """(m,) 1-based rank of each target among non-history items by cosine to the query (m, d)."""
    scores = queries @ vectors.T  # (m, N)
    ranks = np.empty(len(queries), np.int64)
    for row, history in enumerate(histories):
        row_scores = scores[row].copy()
        row_scores[[i for i in history if i != targets[row]]] = -np.inf
        ranks[row] = 1 + int((row_scores > row_scores[targets[row]]).sum())
    return ranks


def list_accuracy(
    lists: np.ndarray, targets: np.ndarray, prefix: str, ks=(5, 10)
) -> dict[str, float]:
    """{prefix}hr@k and {prefix}ndcg@k of ranked lists (u, L) against single targets (u,)."""
    row: dict[str, float] = {}
    for k in ks:
        row[f"{prefix}hr@{k}"] = m.hit_rate_at_k(lists, targets, k)
        row[f"{prefix}ndcg@{k}"] = m.ndcg_at_k(lists, targets, k)
    return row


def round_metrics(state: dict, targets: np.ndarray, min_score: float) -> dict[str, float]:
    """Metrics of one round; `targets` aligned with `state['active']`."""
    grounded, best = state["grounded"], state["best_scores"]
    moves, ranks = state["moves"], state["target_ranks"]
    feedback = state.get("feedback")
    row = {
        "active_users": float(len(grounded)),
        "answered": float(moves.answer.sum()),
        "reply_failures": float(moves.failed.sum()),
        "feedback_failures": float(feedback.failed.sum()) if feedback is not None else 0.0,
        "target_rank_mean": float(ranks.mean()),
        "target_rank_median": float(np.median(ranks)),
        "ungrounded_distance": float(np.sqrt(np.maximum(0.0, 2.0 - 2.0 * best)).mean()),
        "ungrounded_rate": float((best < min_score).mean()),
    }
    row.update(
        {
            k.replace("hr@", "hr@"): v
            for k, v in list_accuracy(grounded, targets, "", ks=(10,)).items()
        }
    )
    if feedback is not None and feedback.liked:
        shown = sum(len(g) for g in feedback.liked) + sum(len(g) for g in feedback.disliked)
        row["liked_share"] = sum(len(g) for g in feedback.liked) / max(shown, 1)
    return row
