"""FLAME's point-wise drug classifier pi_cls, on a backbone that trains on a CPU in seconds.

FLAME asks an 8B LLM one yes/no question per (visit, candidate drug). Here the same
point-wise question is answered by a factorised classifier: the visit's context tokens
(diagnosis and procedure codes, the previous visit's drugs: what is known when the list is
written) are mean-pooled from an embedding table, and P(yes | visit, drug) =
sigmoid(h . e_drug + b_drug). Trained with binary cross-entropy over every (visit, drug)
pair of the training visits; epochs and the yes-threshold are chosen on the validation
visits (best mean Jaccard); the split is the patient-level one of `item_space.clinical`.

The run folder holds `classifier.npz` (token and drug embeddings, biases) and
`classifier.json` (token and drug names, the threshold): plain arrays, so the clinic
scenario's `clinician=classifier` scores visits without torch; `config.yaml`,
`metrics.csv` (per epoch) and `report.json` (test Jaccard, F1, DDI rate of the yes-lists).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from recagora.item_space.clinical import (
    build_interaction_graph,
    clinical_path,
    load_visits,
    patient_split,
)
from recagora.item_space.clinical.lists import best_threshold, context_tokens, threshold_list
from recagora.item_space.errors import ConfigError
from recagora.item_space.metrics.medication import ddi_rate, f1, jaccard, precision, recall

ARRAYS, META = "classifier.npz", "classifier.json"


@dataclass
class FlameClsConfig:
    """The point-wise classifier's data, size and budget."""

    data: str = field(
        default="mimic-iv-demo",
        metadata={"help": "mimic-iv-demo, mimic-iii-demo, synthea or a clinical folder path."},
    )
    interactions: str = field(
        default="crescenddi", metadata={"help": "Interaction table for the test DDI rate."}
    )
    max_drugs: int = field(
        default=200, metadata={"help": "Vocabulary: the most prescribed ingredients."}
    )
    dim: int = field(default=32, metadata={"help": "Embedding size of tokens and drugs."})
    epochs: int = field(
        default=60, metadata={"help": "Most epochs; the best validation epoch is kept."}
    )
    lr: float = field(default=0.02, metadata={"help": "Adam learning rate."})
    weight_decay: float = field(default=1e-4, metadata={"help": "AdamW weight decay."})
    seed: int = field(default=0, metadata={"help": "Split and initialisation seed."})
    output_dir: str = field(default="runs/train/flame-cls", metadata={"help": "Run folder."})

    def __post_init__(self) -> None:
        for name in ("max_drugs", "dim", "epochs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ConfigError(f"lr must be > 0, got {self.lr}")


class PointwiseClassifier(torch.nn.Module):
    """P(yes | visit, drug) = sigmoid(mean(token embeddings) . e_drug + b_drug)."""

    def __init__(self, n_tokens: int, n_drugs: int, dim: int) -> None:
        super().__init__()
        self.tokens = torch.nn.EmbeddingBag(n_tokens + 1, dim, mode="mean", padding_idx=n_tokens)
        self.drugs = torch.nn.Parameter(torch.randn(n_drugs, dim) * 0.1)
        self.bias = torch.nn.Parameter(torch.zeros(n_drugs))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.tokens(tokens) @ self.drugs.T + self.bias


def train_flame_cls(config: FlameClsConfig) -> dict:
    """Train, pick the epoch and threshold on validation, write the run folder; returns the report."""
    torch.manual_seed(config.seed)
    data = load_visits(clinical_path(config.data), max_drugs=config.max_drugs)
    train, valid, test = patient_split(data.visits, seed=config.seed)
    vocab = sorted({t for i in train for t in context_tokens(data, i)})
    index = {t: n for n, t in enumerate(vocab)}
    x = {
        name: _token_matrix(data, part, index)
        for name, part in (("train", train), ("valid", valid), ("test", test))
    }
    y = torch.tensor(_labels(data, train, len(data.drugs)))
    model = PointwiseClassifier(len(vocab), len(data.drugs), config.dim)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    best, rows = (-1.0, None, 0.5, 0), []
    for epoch in range(1, config.epochs + 1):
        model.train()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x["train"]), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        threshold, score = _best_threshold(_probabilities(model, x["valid"]), data, valid)
        rows.append(
            {
                "epoch": epoch,
                "loss": round(float(loss.detach()), 6),
                "valid_jaccard": round(score, 6),
            }
        )
        if score > best[0]:
            best = (
                score,
                {k: v.detach().clone() for k, v in model.state_dict().items()},
                threshold,
                epoch,
            )
    model.load_state_dict(best[1])
    interactions = build_interaction_graph(data.drugs, clinical_path(config.interactions))
    report = {
        "epoch": best[3], "threshold": best[2], "valid_jaccard": round(best[0], 4),
        "test": _evaluate(_probabilities(model, x["test"]), best[2], data, test, interactions),
        "visits": {"train": len(train), "valid": len(valid), "test": len(test)},
    }  # fmt: skip
    _save(model, vocab, data.drugs, best[2], config, rows, report)
    return report


def _token_matrix(data, part, index: dict[str, int]) -> torch.Tensor:
    rows = [[index[t] for t in context_tokens(data, i) if t in index] or [len(index)] for i in part]
    width = max(len(r) for r in rows)
    return torch.tensor([r + [len(index)] * (width - len(r)) for r in rows])


def _labels(data, part, n_drugs: int) -> np.ndarray:
    y = np.zeros((len(part), n_drugs), np.float32)
    for row, i in enumerate(part):
        y[row, list(data.visits[i].drugs)] = 1.0
    return y


@torch.no_grad()
def _probabilities(model: PointwiseClassifier, tokens: torch.Tensor) -> np.ndarray:
    model.eval()
    return torch.sigmoid(model(tokens)).numpy()


def yes_list(probabilities: np.ndarray, threshold: float) -> tuple[int, ...]:
    """The drugs answered yes (the most probable one when none is)."""
    return threshold_list(probabilities, threshold)


def _best_threshold(p: np.ndarray, data, part) -> tuple[float, float]:
    return best_threshold(list(p), [set(data.visits[i].drugs) for i in part])


def _evaluate(p: np.ndarray, threshold: float, data, part, interactions) -> dict[str, float]:
    lists = [yes_list(row, threshold) for row in p]
    truths = [set(data.visits[i].drugs) for i in part]
    pairs = list(zip(lists, truths, strict=True))
    return {
        "jaccard": round(float(np.mean([jaccard(a, b) for a, b in pairs])), 4),
        "f1": round(float(np.mean([f1(a, b) for a, b in pairs])), 4),
        "precision": round(float(np.mean([precision(a, b) for a, b in pairs])), 4),
        "recall": round(float(np.mean([recall(a, b) for a, b in pairs])), 4),
        "ddi_rate": round(
            float(np.mean([ddi_rate(a, interactions.interacting) for a in lists])), 4
        ),
        "list_length": round(float(np.mean([len(a) for a in lists])), 2),
    }


def _save(model, vocab, drugs, threshold, config, rows, report) -> None:
    import csv

    import yaml

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    np.savez(
        out / ARRAYS,
        tokens=state["tokens.weight"].numpy()[:-1], drugs=state["drugs"].numpy(),
        bias=state["bias"].numpy(),
    )  # fmt: skip
    # The split seed travels with the model: serving it on another split would test it on
    # visits it was trained on.
    meta = {
        "threshold": threshold,
        "tokens": list(vocab),
        "drugs": list(drugs),
        "seed": config.seed,
    }
    (out / META).write_text(json.dumps(meta))
    (out / "config.yaml").write_text(yaml.safe_dump({"method": "flame-cls", **asdict(config)}))
    with (out / "metrics.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "report.json").write_text(json.dumps(report, indent=2))
