"""Text metrics of generated explanations: BLEU-4, ROUGE-L, embedding similarity, distinctness.

BLEU and ROUGE-L are written here (40 lines) rather than pulled in: no BLEU/ROUGE
package is in the environment, and the formulas are short and standard (Papineni et
al. 2002, corpus BLEU with brevity penalty, add-one smoothing of n > 1 precisions as in
Lin & Och 2004; Lin 2004 ROUGE-L F1 over the longest common subsequence).
The embedding similarity is BERTScore-style with MiniLM sentence vectors (mean cosine).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+|[^\sa-z0-9']", text.lower())


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu(hypotheses: Sequence[str], references: Sequence[str], max_n: int = 4) -> float:
    """Corpus BLEU-4 in [0, 1] (one reference per hypothesis)."""
    hyps, refs = [words(h) for h in hypotheses], [words(r) for r in references]
    log_precision = 0.0
    for n in range(1, max_n + 1):
        matched = sum(sum((_ngrams(h, n) & _ngrams(r, n)).values()) for h, r in zip(hyps, refs, strict=True))
        total = sum(max(len(h) - n + 1, 0) for h in hyps)
        smooth = 0 if n == 1 else 1
        if matched + smooth == 0 or total + smooth == 0:
            return 0.0
        log_precision += math.log((matched + smooth) / (total + smooth)) / max_n
    hyp_len, ref_len = sum(map(len, hyps)), sum(map(len, refs))
    brevity = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / max(hyp_len, 1))
    return brevity * math.exp(log_precision)


def _lcs(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b, 1):
            previous, row[j] = row[j], previous + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def rouge_l(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    """Mean ROUGE-L F1 in [0, 1]."""
    scores = []
    for h, r in zip(hypotheses, references, strict=True):
        hw, rw = words(h), words(r)
        lcs = _lcs(hw, rw)
        scores.append(0.0 if lcs == 0 else 2 * lcs / (len(hw) + len(rw)))
    return float(np.mean(scores)) if scores else 0.0


def distinct(texts: Sequence[str], n: int) -> float:
    """Distinct-n: unique n-grams / all n-grams over the corpus."""
    grams = [g for t in texts for g in _ngrams(words(t), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def unique_sentence_ratio(texts: Sequence[str]) -> float:
    """USR: share of distinct texts."""
    return len(set(texts)) / len(texts) if texts else 0.0


def embedding_similarity(hypotheses: Sequence[str], references: Sequence[str], embedder) -> float:
    """Mean cosine of the sentence vectors (unit vectors from the item space's embedder)."""
    h, r = embedder.embed(list(hypotheses)), embedder.embed(list(references))
    return float(np.mean(np.sum(h * r, axis=1)))


def text_report(hypotheses, references, embedder) -> dict[str, float]:
    return {
        "bleu4": round(bleu(hypotheses, references), 4),
        "rouge_l": round(rouge_l(hypotheses, references), 4),
        "embedding_sim": round(embedding_similarity(hypotheses, references, embedder), 4),
        "distinct1": round(distinct(hypotheses, 1), 4),
        "distinct2": round(distinct(hypotheses, 2), 4),
        "usr": round(unique_sentence_ratio(hypotheses), 4),
    }
