"""Trainer of the PaperEval scorer: progressive ListMLE (or MSE / ListNet) over frozen features.

Zheng et al., "Navigating Through Paper Flood", AAAI'26 (arXiv 2508.05129), section 3.3.
Minimal example::

    corpus = load_iclr_openreview()   # or openreview.load_openreview(source) for any year
    trainer, result, split = train_paper_scorer(PaperScorerConfig(loss="listmle"), corpus)
    print(result.test_metrics)          # ndcg@10, ndcg@20, spearman, kendall (+ auroc: 0/1 labels)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from recagora.item_space.embedding import default_embedder
from recagora.item_space.errors import DatasetError, ModelError
from recagora.item_space.openreview import decision_labels
from recagora.item_space.papers import PaperCorpus, concurrent_work, paper_days, paper_labels
from recagora.training.papereval.config import PaperScorerConfig
from recagora.training.papereval.features import backbone_features, scorer_inputs, scorer_prompt
from recagora.training.papereval.losses import LOSSES
from recagora.training.papereval.model import LatentReasoningScorer
from recagora.training.papereval.ranking_metrics import (
    decision_report,
    normalise_labels,
    ranking_report,
)


@dataclass(frozen=True)
class PaperSplit:
    """Paper-level split: positions into the target catalog (disjoint, seeded)."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def split_papers(
    n_papers: int, valid_fraction: float, test_fraction: float, seed: int
) -> PaperSplit:
    """Seeded permutation of 0..n-1 cut into train / valid / test."""
    order = np.random.default_rng(seed).permutation(n_papers)
    n_test, n_valid = round(n_papers * test_fraction), round(n_papers * valid_fraction)
    return PaperSplit(
        train=order[n_test + n_valid :], valid=order[n_test : n_test + n_valid], test=order[:n_test]
    )


@dataclass
class TrainResult:
    """Losses per epoch, validation metrics per epoch, the chosen epoch and the test figures."""

    losses: list[float] = field(default_factory=list)
    valid_metrics: list[dict] = field(default_factory=list)
    best_epoch: int = -1
    test_metrics: dict = field(default_factory=dict)


class PaperScorerTrainer:
    """Fits a `LatentReasoningScorer` on (features, labels in [0,1]); keeps the best-valid weights."""

    def __init__(self, config: PaperScorerConfig, features: np.ndarray, relevance: np.ndarray):
        torch.set_num_threads(config.num_threads)
        self.config = config
        self.features = torch.as_tensor(features, dtype=torch.float32)
        self.relevance = torch.as_tensor(relevance, dtype=torch.float32)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.model = LatentReasoningScorer(
            features.shape[1],
            config.hidden_dim,
            config.latent_steps,
            config.dropout,
            self.generator,
        )
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.loss_fn = LOSSES[config.loss]

    def _lists(self, train: np.ndarray) -> list[torch.Tensor]:
        order = torch.as_tensor(train)[torch.randperm(len(train), generator=self.generator)]
        size = self.config.list_size
        return [chunk for chunk in order.split(size) if len(chunk) >= 2]

    def train_epoch(self, train: np.ndarray) -> float:
        """One pass over shuffled lists of `list_size` papers; returns the mean list loss."""
        self.model.train()
        losses = []
        for chunk in self._lists(train):
            scores = self.model(self.features[chunk])  # (B, m)
            loss = self.loss_fn(
                scores, self.relevance[chunk], self.config.tau_max, self.config.tau_min
            )
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(float(loss.detach()))
        return float(np.mean(losses))

    def predict(
        self, positions: np.ndarray | None = None, features: np.ndarray | None = None
    ) -> np.ndarray:
        """Last-step scores (n,) for papers at `positions` (or for raw `features` (n, d))."""
        self.model.eval()
        inputs = (
            self.features[positions]
            if features is None
            else torch.as_tensor(features, dtype=torch.float32)
        )
        with torch.no_grad():
            return self.model(inputs)[:, -1].numpy()

    def evaluate(self, positions: np.ndarray) -> dict:
        """Ranking metrics of the papers at `positions` against their true relevance."""
        return ranking_report(self.predict(positions), self.relevance[positions].numpy())

    def fit(self, split: PaperSplit) -> TrainResult:
        """Train for `epochs`, select the epoch with the best validation Spearman, test it."""
        result, best_state, best = TrainResult(), None, -np.inf
        for epoch in range(self.config.epochs):
            result.losses.append(self.train_epoch(split.train))
            metrics = (
                self.evaluate(split.valid)
                if len(split.valid) > 1
                else {"spearman": -result.losses[-1]}
            )
            result.valid_metrics.append(metrics)
            if metrics["spearman"] > best:
                best, result.best_epoch = metrics["spearman"], epoch
                best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        self.model.load_state_dict(best_state)
        result.test_metrics = self.evaluate(split.test) if len(split.test) > 1 else {}
        return result

    def save(self, path: str | Path) -> None:
        """Weights + config in one torch file."""
        torch.save(
            {
                "config": self.config.to_dict(),
                "input_dim": self.features.shape[1],
                "state": self.model.state_dict(),
            },
            path,
        )


def load_scorer(path: str | Path) -> tuple[PaperScorerConfig, LatentReasoningScorer]:
    """(config, model in eval mode) from a file written by `PaperScorerTrainer.save`."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as error:
        raise ModelError(
            f"cannot read scorer checkpoint {str(path)!r} ({type(error).__name__}); train one with `recagora train papereval-scorer`"
        ) from None
    config = PaperScorerConfig(**saved["config"])
    model = LatentReasoningScorer(
        saved["input_dim"], config.hidden_dim, config.latent_steps, 0.0, torch.Generator()
    )
    model.load_state_dict(saved["state"])
    return config, model.eval()


def corpus_features(config: PaperScorerConfig, corpus: PaperCorpus) -> np.ndarray:
    """(N_targets, d) frozen features of the scorer inputs, with retrieved references if asked."""
    references = (
        retrieve_references(corpus, config.retrieval_gamma, config.references)
        if config.references
        else None
    )
    texts = scorer_inputs(corpus.targets, corpus.concurrent, references)
    return backbone_features(texts, config.backbone, config.max_tokens)


def retrieve_references(corpus: PaperCorpus, gamma: float, k: int) -> list[list[int]]:
    """Concurrent work per target (title+abstract embeddings, MiniLM), PaperEval's retrieval."""
    embedder = default_embedder()
    targets = embedder.embed([f"{i.title}. {i.text}" for i in corpus.targets.items])
    concurrent = embedder.embed([f"{i.title}. {i.text}" for i in corpus.concurrent.items])
    return concurrent_work(
        targets, paper_days(corpus.targets), concurrent, paper_days(corpus.concurrent), gamma, k
    )


def train_paper_scorer(
    config: PaperScorerConfig, corpus: PaperCorpus, features: np.ndarray | None = None
) -> tuple[PaperScorerTrainer, TrainResult, PaperSplit]:
    """Features -> seeded paper-level split -> training -> test metrics (labels scaled to [0,1])."""
    labels = paper_labels(corpus.targets)
    if np.isnan(labels).all() or len(labels) < 4:
        raise DatasetError(
            f"corpus {corpus.targets.name!r} has {np.isfinite(labels).sum()} labelled papers; the scorer needs at least 4"
        )
    labelled = np.flatnonzero(np.isfinite(labels))
    features = corpus_features(config, corpus) if features is None else features
    relevance = normalise_labels(labels[labelled], np.nanmin(labels), np.nanmax(labels))
    split = split_papers(len(labelled), config.valid_fraction, config.test_fraction, config.seed)
    trainer = PaperScorerTrainer(config, features[labelled], relevance)
    return trainer, trainer.fit(split), split


def test_decision_metrics(
    trainer: PaperScorerTrainer, split: PaperSplit, corpus: PaperCorpus
) -> dict[str, float]:
    """AUROC and NDCG@10/@20 by decision (accepted = 1) of the held-out test papers.

    Whatever the scorer was trained on (mean rating or decision), the test papers' own
    accept/reject decisions are the labels; {} when the export has no decisions.
    """
    labelled = np.flatnonzero(np.isfinite(paper_labels(corpus.targets)))
    accepted = decision_labels(corpus.targets)[labelled[split.test]]
    if not np.isfinite(accepted).any():
        return {}
    return decision_report(trainer.predict(split.test), accepted)


def evaluate_scorer(path: str | Path, corpus: PaperCorpus) -> dict[str, dict[str, float]]:
    """A saved scorer on every labelled paper of another export (the transfer check).

    Returns:
        {"labels": ranking_report against the export's labels (scaled to [0,1]),
         "by_decision": decision_report against its accept/reject decisions (or {})}.
    """
    config, _ = load_scorer(path)
    labels = paper_labels(corpus.targets)
    labelled = np.flatnonzero(np.isfinite(labels))
    references = retrieve_references(corpus, config.retrieval_gamma, config.references) if config.references else [[] for _ in corpus.targets.items]  # fmt: skip
    papers = [corpus.targets[int(i)] for i in labelled]
    refs = [[corpus.concurrent[r] for r in references[i]] for i in labelled]
    scores = scoring_function(path)(papers, refs)
    accepted = decision_labels(corpus.targets)[labelled]
    relevance = normalise_labels(labels[labelled], np.nanmin(labels), np.nanmax(labels))
    return {
        "labels": ranking_report(scores, relevance),
        "by_decision": decision_report(scores, accepted) if np.isfinite(accepted).any() else {},
    }


def scoring_function(path: str | Path):
    """`(papers, references) -> (n,) scores in (0, 1)` from a saved scorer (sigmoid of the last step).

    The evaluator agent takes this as its judge (`ScorerJudge`); references are used only
    when the scorer was trained with them (`config.references` > 0).
    """
    config, model = load_scorer(path)

    def score(papers, references) -> np.ndarray:
        refs = (
            [list(r)[: config.references] for r in references]
            if config.references
            else [[] for _ in papers]
        )
        texts = [scorer_prompt(p, r) for p, r in zip(papers, refs, strict=True)]
        features = backbone_features(texts, config.backbone, config.max_tokens)
        with torch.no_grad():
            raw = model(torch.as_tensor(features, dtype=torch.float32))[:, -1].numpy()
        return 1.0 / (1.0 + np.exp(-raw.astype(np.float64)))

    return score
