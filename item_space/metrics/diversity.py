"""Diversity of recommendation lists: word entropy, type-token ratio, distinct items, ILD.

Flower (Gao et al., SIGIR 2025, `with_history/code/calc.py`) measures diversity over the
WORDS of all recommended titles pooled together (every slot of every top-10 list, words
split on whitespace, case kept): `H-word` is the base-2 Shannon entropy of the word
frequencies and `TTR` is distinct words / total words; `Title_num` counts distinct titles.
Given item ids without titles, the tokens are the item ids themselves.
ILD is the mean pairwise cosine distance within a list (Ziegler et al., WWW 2005).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

__all__ = ["entropy", "type_token_ratio", "distinct_items", "intra_list_diversity", "per_list_ild"]

Recommended = np.ndarray | Sequence[str] | Sequence[Sequence[str]]


def _tokens(recommended: Recommended, titles: Sequence[str] | None) -> list[str | int]:
    """Pool every recommended slot into tokens: title words, or item ids without titles."""
    if isinstance(recommended, np.ndarray) and recommended.dtype.kind in "iu":
        ids = recommended.ravel()
        ids = ids[ids >= 0]
        if titles is None:
            return [int(i) for i in ids]
        return [word for i in ids for word in titles[int(i)].split()]
    words: list[str | int] = []
    for entry in recommended:
        strings = [entry] if isinstance(entry, str) else list(entry)
        words.extend(word for text in strings for word in text.split())
    return words


def entropy(recommended: Recommended, titles: Sequence[str] | None = None) -> float:
    """Base-2 Shannon entropy of the pooled token frequencies (Flower's `H-word`).

    recommended: (n, L) int ids (-1 padding) with `titles` (N,) to count title words, or
    without titles to count item ids; or recommended title strings (flat or per list).
    0.0 when there is no token.
    """
    counts = np.array(list(Counter(_tokens(recommended, titles)).values()), dtype=np.float64)
    if counts.sum() == 0:
        return 0.0
    probabilities = counts / counts.sum()
    return float(-(probabilities * np.log2(probabilities)).sum())


def type_token_ratio(recommended: Recommended, titles: Sequence[str] | None = None) -> float:
    """Distinct tokens / total tokens over all recommended slots (Flower's `TTR`); 0.0 if none."""
    tokens = _tokens(recommended, titles)
    return len(set(tokens)) / len(tokens) if tokens else 0.0


def distinct_items(recommended: np.ndarray) -> int:
    """Number of distinct item ids recommended (Flower's `Title_num`), padding ignored."""
    ids = np.asarray(recommended, dtype=np.int64).ravel()
    return int(len(np.unique(ids[ids >= 0])))


def per_list_ild(ranked: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(n,) mean of 1 - cos(v_i, v_j) over pairs i < j of the valid items of each list.

    ranked: (n, L) int ids, -1 padding; vectors: (N, d) item vectors (normalised here).
    A list with fewer than two items gets NaN.
    """
    unit = np.asarray(vectors, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    lists = np.asarray(ranked, dtype=np.int64)
    scores = np.full(len(lists), np.nan)
    for row, ids in enumerate(lists):
        chosen = unit[ids[ids >= 0]]
        n = len(chosen)
        if n >= 2:
            similarity = chosen @ chosen.T
            pair_sum = (similarity.sum() - np.trace(similarity)) / 2.0
            scores[row] = 1.0 - pair_sum / (n * (n - 1) / 2.0)
    return scores


def intra_list_diversity(ranked: np.ndarray, vectors: np.ndarray) -> float:
    """ILD averaged over the lists that hold at least two items (NaN if none does)."""
    scores = per_list_ild(ranked, vectors)
    return float(np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")
