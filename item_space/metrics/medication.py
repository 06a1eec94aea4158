"""Medication-list metrics (SafeDrug / FLAME conventions), also usable as RL rewards.

Lists are sets of drug ids; `predicted` may be empty. DDI rate is the share of unordered
drug pairs in a list that interact (FLAME's code: pairs / all pairs; its paper's formula
shows the count). Refusal rate is the share of output lines that name no drug of the
candidate vocabulary (strict matching is the caller's: an unmatched line arrives as None).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from itertools import combinations


def jaccard(predicted: Collection[int], truth: Collection[int]) -> float:
    p, t = set(predicted), set(truth)
    return len(p & t) / len(p | t) if p | t else 1.0


def precision(predicted: Collection[int], truth: Collection[int]) -> float:
    p = set(predicted)
    return len(p & set(truth)) / len(p) if p else 0.0


def recall(predicted: Collection[int], truth: Collection[int]) -> float:
    t = set(truth)
    return len(set(predicted) & t) / len(t) if t else 0.0


def f1(predicted: Collection[int], truth: Collection[int]) -> float:
    prec, rec = precision(predicted, truth), recall(predicted, truth)
    return 2 * prec * rec / (prec + rec) if prec + rec else 0.0


def ddi_rate(drugs: Collection[int], interacting: Callable[[int, int], bool]) -> float:
    """Share of the list's unordered pairs that interact (0 for lists shorter than 2)."""
    pairs = list(combinations(sorted(set(drugs)), 2))
    return sum(interacting(a, b) for a, b in pairs) / len(pairs) if pairs else 0.0


def refusal_rate(lines: Sequence[int | None]) -> float:
    """Share of output lines that matched no candidate drug (None); 0 for no lines."""
    return sum(line is None for line in lines) / len(lines) if lines else 0.0


def list_length(drugs: Collection[int]) -> int:
    return len(set(drugs))
