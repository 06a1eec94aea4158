"""SASRec as a `Recommender`: config, trainer, batch scoring, save/load.

Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018. Flower (Gao et al.,
SIGIR 2025) and TriRec (Gong et al., 2026) train it as their auxiliary/candidate model.

Loss (`loss` field): "ce" (default) is the full softmax cross-entropy over the catalog at
every position. The paper's "bce" (one uniformly sampled negative per position, binary
cross-entropy) is kept for fidelity. We default to CE because full-catalog ranking is
what we evaluate, the catalogs here are small (thousands of items, so the full softmax is
cheap) and CE-trained SASRec ranks markedly better (Klenitskiy & Vasilev, RecSys 2023,
"Turning Dross Into Gold Loss: is BERT4Rec really better than SASRec?"). The BCE negative
is drawn among all items but the positive (the paper also excludes the rest of the
user's sequence, which a sliding-window sample does not know).

Randomness: initialisation and dropout draw from torch's global generator, so they run
inside `torch.random.fork_rng` seeded with `seed` (the caller's global state is left
untouched); batch order and negatives come from an explicit `torch.Generator`.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from recagora.item_space.errors import ConfigError, ModelError
from recagora.item_space.recommender import Ranking
from recagora.item_space.types import Interactions, Sample
from recagora.training.baselines.ranking import (
    History,
    history_items,
    mask_histories,
    ranking_from_row,
    restrict_to,
    top_k,
)
from recagora.training.baselines.sasrec_model import (
    SASRecNetwork,
    check_sequences,
    pad_left,
    sequences_from_interactions,
    sequences_from_samples,
)

LOSSES = ("ce", "bce")


@dataclass
class SASRecConfig:
    """Hyperparameters of SASRec (defaults: the paper's Amazon setting, CE loss)."""

    hidden_size: int = field(default=64, metadata={"help": "Embedding and hidden width d."})
    n_blocks: int = field(default=2, metadata={"help": "Number of self-attention blocks."})
    n_heads: int = field(
        default=1, metadata={"help": "Attention heads per block (must divide hidden_size)."}
    )
    max_len: int = field(
        default=50, metadata={"help": "Longest history used, in items (older items are cut)."}
    )
    dropout: float = field(default=0.2, metadata={"help": "Dropout rate in [0, 1)."})
    loss: str = field(
        default="ce",
        metadata={"help": "'ce' full-softmax cross-entropy or 'bce' one sampled negative."},
    )
    lr: float = field(default=1e-3, metadata={"help": "Adam learning rate."})
    weight_decay: float = field(
        default=0.0, metadata={"help": "AdamW weight decay (0 = plain Adam)."}
    )
    epochs: int = field(default=20, metadata={"help": "Passes over the training sequences."})
    batch_size: int = field(default=128, metadata={"help": "Sequences per optimisation step."})
    seed: int = field(
        default=0, metadata={"help": "Seed of initialisation, dropout, batch order and negatives."}
    )
    device: str = field(default="cpu", metadata={"help": "Torch device, e.g. 'cpu' or 'cuda'."})
    threads: int = field(
        default=1, metadata={"help": "CPU threads torch may use (0 = leave torch's setting)."}
    )

    def __post_init__(self) -> None:
        for name in ("hidden_size", "n_blocks", "n_heads", "max_len", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"SASRecConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.hidden_size % self.n_heads:
            raise ConfigError(
                f"SASRecConfig.n_heads={self.n_heads} must divide hidden_size={self.hidden_size}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"SASRecConfig.dropout must be in [0, 1), got {self.dropout}")
        if self.loss not in LOSSES:
            raise ConfigError(f"SASRecConfig.loss must be one of {LOSSES}, got {self.loss!r}")
        if self.lr <= 0:
            raise ConfigError(f"SASRecConfig.lr must be > 0, got {self.lr}")


@dataclass
class SASRecTrainResult:
    """What training produced: mean loss per epoch and wall time in seconds."""

    epoch_losses: list[float]
    seconds: float


class SASRecRecommender:
    """A trained (or freshly initialised) SASRec that ranks the whole catalog.

    exclude_history: never recommend an item already in the history.
    """

    name = "sasrec"

    def __init__(
        self, n_items: int, config: SASRecConfig | None = None, exclude_history: bool = False
    ):
        self.config = config or SASRecConfig()
        self.n_items = n_items
        self.exclude_history = exclude_history
        self.device = torch.device(self.config.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            self.network = self._build_network().to(self.device)

    def _build_network(self) -> SASRecNetwork:
        c = self.config
        return SASRecNetwork(
            self.n_items, c.hidden_size, c.n_blocks, c.n_heads, c.max_len, c.dropout
        )

    # ----- training -------------------------------------------------------------------
    def fit(self, data: Sequence[Sample] | Interactions) -> SASRecTrainResult:
        """Train on next-item samples (`history + target`) or on users' interaction sequences."""
        if isinstance(data, Interactions):
            sequences = sequences_from_interactions(data, self.config.max_len)
        else:
            sequences = sequences_from_samples(data, self.config.max_len)
        check_sequences(sequences, self.n_items)
        return self.fit_sequences([seq for seq in sequences if len(seq) >= 2])

    def fit_sequences(self, sequences: Sequence[Sequence[int]]) -> SASRecTrainResult:
        """Train on item sequences (oldest first, >= 2 items each): predict each next item."""
        c = self.config
        if c.threads > 0:
            torch.set_num_threads(c.threads)
        generator = torch.Generator().manual_seed(c.seed)
        optimizer = torch.optim.AdamW(
            self.network.parameters(), lr=c.lr, betas=(0.9, 0.98), weight_decay=c.weight_decay
        )
        started, losses = time.perf_counter(), []
        self.network.train()
        cuda_devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(c.seed)
            for _ in range(c.epochs):
                losses.append(self._run_epoch(sequences, optimizer, generator))
        self.network.eval()
        return SASRecTrainResult(epoch_losses=losses, seconds=time.perf_counter() - started)

    def _run_epoch(self, sequences, optimizer, generator: torch.Generator) -> float:
        order = torch.randperm(len(sequences), generator=generator).tolist()
        total, count = 0.0, 0
        for start in range(0, len(order), self.config.batch_size):
            batch = pad_left(
                [sequences[i] for i in order[start : start + self.config.batch_size]],
                self.config.max_len + 1,
            )
            loss, n_positions = self._batch_loss(batch.to(self.device), generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * n_positions, count + n_positions
        return total / max(count, 1)

    def _batch_loss(
        self, batch: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, int]:
        """Mean loss over the batch's valid positions; batch: (B, T + 1) shifted ids."""
        inputs, labels = batch[:, :-1], batch[:, 1:]
        valid = (inputs != 0) & (labels != 0)
        hidden = self.network(inputs)[valid]  # (M, d)
        positives = labels[valid]  # (M,) shifted ids
        if self.config.loss == "ce":
            return F.cross_entropy(self.network.item_logits(hidden), positives - 1), len(positives)
        negatives = _sample_negatives(positives, self.n_items, generator).to(self.device)
        pos_logits = self.network.pair_logits(hidden, positives)
        neg_logits = self.network.pair_logits(hidden, negatives)
        loss = F.binary_cross_entropy_with_logits(
            torch.cat([pos_logits, neg_logits]),
            torch.cat([torch.ones_like(pos_logits), torch.zeros_like(neg_logits)]),
        )
        return loss * 2, len(positives)  # sum of the two terms per position, as the paper

    # ----- inference ------------------------------------------------------------------
    @torch.no_grad()
    def score_batch(self, histories: Sequence[History], batch_size: int = 1024) -> np.ndarray:
        """(U, N) float32 scores of every item for each history (history items -inf if excluded)."""
        self.network.eval()
        items = [history_items(h) for h in histories]
        rows = [
            self._score_chunk(items[s : s + batch_size]) for s in range(0, len(items), batch_size)
        ]
        scores = np.concatenate(rows) if rows else np.zeros((0, self.n_items), np.float32)
        return mask_histories(scores, items) if self.exclude_history else scores

    def _score_chunk(self, histories: list[list[int]]) -> np.ndarray:
        batch = pad_left(histories, self.config.max_len).to(self.device)
        logits = self.network.item_logits(self.network(batch)[:, -1])
        empty = torch.tensor([len(h) == 0 for h in histories], device=self.device)
        # An empty history has no state to read: every item scores 0 (ties -> smaller id).
        return logits.masked_fill(empty[:, None], 0.0).float().cpu().numpy()

    def rank_batch(self, histories: Sequence[History], k: int) -> np.ndarray:
        """(U, k) int64 top-k ids per history over the full catalog."""
        return top_k(self.score_batch(histories), k)[0]

    def recommend(
        self, history: History, k: int, candidates: Sequence[int] | None = None
    ) -> Ranking:
        """Top-k items for one history, restricted to `candidates` when given."""
        scores = self.score_batch([history])
        if candidates is not None:
            scores = restrict_to(scores, candidates)
        return ranking_from_row(scores[0], k)

    # ----- checkpoints ----------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write config, catalog size and weights to one torch file; returns the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        state = {k: v.cpu() for k, v in self.network.state_dict().items()}
        payload = {"config": asdict(self.config), "n_items": self.n_items, "state_dict": state}
        torch.save(payload, target)
        return target

    @classmethod
    def load(
        cls,
        path: str | Path,
        n_items: int | None = None,
        device: str | None = None,
        exclude_history: bool = False,
    ) -> SASRecRecommender:
        """Load a checkpoint; `n_items` (the catalog it will rank) must match the trained one."""
        source = Path(path)
        if not source.is_file():
            raise ModelError(
                f"SASRec checkpoint {source} does not exist; train one first or fix the path"
            )
        try:
            payload = torch.load(source, map_location="cpu", weights_only=True)
            config = SASRecConfig(**{**payload["config"], **({"device": device} if device else {})})
        except (
            pickle.UnpicklingError,
            EOFError,
            RuntimeError,
            KeyError,
            TypeError,
            ValueError,
        ) as err:
            raise ModelError(
                f"{source} is not a SASRec checkpoint ({type(err).__name__}); re-train it"
            ) from err
        trained_on = int(payload["n_items"])
        if n_items is not None and n_items != trained_on:
            raise ModelError(
                f"SASRec checkpoint {source.name} was trained on a catalog of {trained_on} items, "
                f"this catalog has {n_items}; train it on this dataset"
            )
        model = cls(trained_on, config, exclude_history)
        model.network.load_state_dict(payload["state_dict"])
        model.network.eval()
        return model


def _sample_negatives(
    positives: torch.Tensor, n_items: int, generator: torch.Generator
) -> torch.Tensor:
    """(M,) shifted ids drawn uniformly among the N - 1 items other than each positive."""
    draws = torch.randint(1, n_items, positives.shape, generator=generator)  # 1..N-1
    return draws + (draws >= positives.cpu()).long()  # skip the positive: 1..N without it
