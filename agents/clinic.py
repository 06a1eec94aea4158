"""Agents of the clinic scenario: a clinician proposes a medication list, a pharmacist flags
interacting pairs, an editor revises (FLAME's setting without an LLM; the trained list editor
of `recagora train flame-list` is the learned version of the editor).

Clinicians score every vocabulary drug for a visit, p(d) in [0, 1], and propose the drugs
scoring at least a threshold that is chosen on the VALIDATION visits (best mean Jaccard):
- `frequent`: p(d) = share of training visits given d (the most-frequent-drugs baseline);
- `cooccurrence`: p(d) = mean over the visit's context tokens (its diagnosis and procedure
  codes, and the previous visit's drugs) of P(d | token) on the training visits, the
  classical co-occurrence recommender; a visit with no known token falls back to `frequent`.
The editor removes, one drug per step, the drug d with the largest alpha * k(d) - p(d) > 0,
k(d) = flagged pairs in the list that involve d: alpha = 0 never edits, a larger alpha
trades accuracy for fewer interactions (the paper's alpha).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from recagora.item_space.clinical.lists import best_threshold, context_tokens, threshold_list


class FrequentClinician:
    """Most frequent drugs of the training visits (same list for every visit)."""

    name = "frequent"

    # Every clinician is built alike, (data, train, valid, model=, seed=), so the scenario has
    # one call for all; the count-based ones need neither a model folder nor a seed.
    def __init__(
        self, data: Any, train: Sequence[int], valid: Sequence[int], model: str = "", seed: int = 0
    ) -> None:
        self.n_drugs = len(data.drugs)
        counts = np.zeros(self.n_drugs)
        for i in train:
            counts[list(data.visits[i].drugs)] += 1
        self.prior = counts / max(len(train), 1)
        self.threshold = choose_threshold(self, data, valid)

    def scores(self, data: Any, index: int) -> np.ndarray:
        return self.prior

    def propose(self, data: Any, index: int) -> tuple[int, ...]:
        return threshold_list(self.scores(data, index), self.threshold)


class CooccurrenceClinician(FrequentClinician):
    """P(drug | code) from training co-occurrence, averaged over the visit's context tokens."""

    name = "cooccurrence"

    def __init__(
        self, data: Any, train: Sequence[int], valid: Sequence[int], model: str = "", seed: int = 0
    ) -> None:
        self.n_drugs = len(data.drugs)
        counts = np.zeros(self.n_drugs)
        table: dict[str, np.ndarray] = {}
        seen: dict[str, int] = {}
        for i in train:
            drugs = list(data.visits[i].drugs)
            counts[drugs] += 1
            for token in context_tokens(data, i):
                table.setdefault(token, np.zeros(self.n_drugs))[drugs] += 1
                seen[token] = seen.get(token, 0) + 1
        self.prior = counts / max(len(train), 1)
        self.given = {t: row / seen[t] for t, row in table.items()}
        self.threshold = choose_threshold(self, data, valid)

    def scores(self, data: Any, index: int) -> np.ndarray:
        rows = [self.given[t] for t in context_tokens(data, index) if t in self.given]
        return np.mean(rows, axis=0) if rows else self.prior


def choose_threshold(clinician: Any, data: Any, valid: Sequence[int]) -> float:
    """The threshold with the best mean validation Jaccard (0.5 without validation visits)."""
    if not valid:
        return 0.5
    scores = [clinician.scores(data, i) for i in valid]
    return best_threshold(scores, [set(data.visits[i].drugs) for i in valid])[0]


class GraphPharmacist:
    """Flags every interacting pair of a list, from the interaction graph."""

    name = "graph"

    def __init__(self, interactions: Any) -> None:
        self.interactions = interactions

    def flag(self, drugs: Sequence[int]) -> list[tuple[int, int]]:
        ordered = sorted(set(drugs))
        return [
            (a, b)
            for n, a in enumerate(ordered)
            for b in ordered[n + 1 :]
            if self.interactions.interacting(a, b)
        ]


class InteractionEditor:
    """Removes at most one drug per step: argmax alpha * k(d) - p(d), when positive."""

    name = "ddi"

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def revise(
        self, drugs: Sequence[int], flagged: Sequence[tuple[int, int]], scores: np.ndarray
    ) -> tuple[tuple[int, ...], int | None]:
        """(the revised list, the removed drug or None)."""
        involvement: dict[int, int] = {}
        for a, b in flagged:
            involvement[a] = involvement.get(a, 0) + 1
            involvement[b] = involvement.get(b, 0) + 1
        gains = {d: self.alpha * k - float(scores[d]) for d, k in involvement.items()}
        if not gains or max(gains.values()) <= 0:
            return tuple(drugs), None
        removed = max(sorted(gains), key=gains.__getitem__)
        return tuple(d for d in drugs if d != removed), removed


class ClassifierClinician(FrequentClinician):
    """FLAME's point-wise classifier from `recagora train flame-cls` (its arrays, no torch):
    P(yes | visit, drug) = sigmoid(mean(token embeddings) . e_drug + b_drug), the yes-threshold
    chosen on validation at training time."""

    name = "classifier"

    def __init__(
        self, data: Any, train: Sequence[int], valid: Sequence[int], model: str = "", seed: int = 0
    ) -> None:
        import json
        from pathlib import Path

        from recagora.item_space.errors import ConfigError

        folder = Path(model)
        if not model or not (folder / "classifier.npz").is_file():
            raise ConfigError(
                f"clinician=classifier needs classifier=<run folder of `recagora train flame-cls`>; "
                f"no classifier.npz in {model or '(empty)'}"
            )
        arrays = np.load(folder / "classifier.npz")
        meta = json.loads((folder / "classifier.json").read_text())
        if tuple(meta["drugs"]) != tuple(data.drugs):
            raise ConfigError(f"the classifier in {folder} was trained on another drug vocabulary")
        if meta.get("seed") != seed:
            raise ConfigError(
                f"the classifier in {folder} was trained on the split of seed {meta.get('seed')}; "
                f"this run's seed {seed} would test it on its own training visits"
            )
        self.n_drugs = len(data.drugs)
        self.token_index = {t: n for n, t in enumerate(meta["tokens"])}
        self.tokens, self.drugs, self.bias = arrays["tokens"], arrays["drugs"], arrays["bias"]
        self.threshold = float(meta["threshold"])

    def scores(self, data: Any, index: int) -> np.ndarray:
        known = [self.token_index[t] for t in context_tokens(data, index) if t in self.token_index]
        if not known:
            return 1.0 / (1.0 + np.exp(-self.bias))
        hidden = self.tokens[known].mean(axis=0)
        return 1.0 / (1.0 + np.exp(-(self.drugs @ hidden + self.bias)))
