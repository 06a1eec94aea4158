"""A trained SELLER run as an explainer: (user history, shown item) -> generated explanation.

Loads `seller.pt` from a `recagora train seller` run folder, rebuilds the model on the
same frozen backbone and the same path-2 item vectors (MiniLM over `item_texts`), and
explains every shown item in batches. Time gaps come from the dataset's timestamps
(gap between consecutive history events); the gap after the last history event is the
one to the moment of the recommendation, unknown here, so it is 0 (training saw the
real gap to the next item: a small shift of the last position's time bucket).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from recagora.item_space.errors import ModelError
from recagora.training.seller.config import SellerConfig
from recagora.training.seller.data import Pair, collate
from recagora.training.seller.model import SellerModel
from recagora.training.soft_tokens import load_frozen_lm


def load_seller(run_dir: str | Path, catalog, embedder=None, lm=None) -> tuple[SellerModel, SellerConfig]:
    """(model in eval mode, its config) from a SELLER run folder.

    lm: (model, tokenizer) to use instead of loading the run's backbone (tests).

    Raises:
        ModelError: no readable seller.pt in `run_dir`, or it does not fit the catalog.
    """
    from recagora.item_space.embedding import default_embedder
    from recagora.training.seller.run import item_texts

    path = Path(run_dir) / "seller.pt"
    if not path.is_file():
        raise ModelError(f"no SELLER model at {path}; train one with `recagora train seller --output-dir {run_dir}`")
    saved = torch.load(path, map_location="cpu", weights_only=False)
    cfg = SellerConfig(**{k: v for k, v in saved["config"].items() if k in SellerConfig.__dataclass_fields__})
    item_text = torch.from_numpy(np.asarray((embedder or default_embedder()).embed(item_texts(catalog))))
    model = SellerModel(*(lm or load_frozen_lm(cfg.backbone)), item_text, cfg)
    missing = [n for n in saved["state"] if n not in dict(model.named_parameters())]
    try:
        model.load_state_dict(saved["state"], strict=False)
    except RuntimeError as error:  # shapes differ: another catalog or config
        raise ModelError(f"{path} does not fit catalog {catalog.name!r}: {str(error).splitlines()[0]}") from None
    if missing:
        raise ModelError(f"{path} holds weights this SELLER has not: {missing[:3]}")
    return model.eval(), cfg


class SellerExplainer:
    """The `explainer=seller` role: SELLER's generated explanation for each shown item.

    Args:
        facts: anything with `.catalog` (the item catalog the run was trained on).
        seller_run: the `recagora train seller` run folder.
        timestamps: source user -> {item: unix time} for the history gaps (None: gaps 0).
        batch_size: (user, item) pairs per generate call.
    """

    name = "seller"

    def __init__(self, facts, seller_run: str | Path, timestamps: dict | None = None,
                 batch_size: int = 32, model=None, cfg: SellerConfig | None = None, **_) -> None:
        self.catalog = facts.catalog
        self.model, self.cfg = (model, cfg) if model is not None else load_seller(seller_run, self.catalog)
        self.timestamps, self.batch_size = timestamps or {}, batch_size
        self._cache: dict[tuple[str, int], str] = {}

    async def explain(self, users: Sequence[str], histories: Sequence[Sequence[int]],
                      candidates: np.ndarray) -> list[list[str]]:
        """m lists of K generated explanations (cached per (user, item))."""
        pairs = {}
        for user, history, row in zip(users, histories, candidates.tolist(), strict=True):
            for item in row:
                if (user, item) not in self._cache:
                    pairs[(user, item)] = self._pair(user, history, item)
        keys = list(pairs)
        for start in range(0, len(keys), self.batch_size):
            chunk = [pairs[k] for k in keys[start : start + self.batch_size]]
            titles = [self.catalog.items[p.target].title for p in chunk]
            texts = self.model.explain(collate(chunk, self.cfg.max_history), titles, self.cfg.max_new_tokens)
            self._cache.update(zip(keys[start : start + self.batch_size], texts, strict=True))
        return [[self._cache[(u, i)] for i in row] for u, row in zip(users, candidates.tolist(), strict=True)]

    def _pair(self, user: str, history: Sequence[int], item: int) -> Pair:
        recent = list(history)[-self.cfg.max_history :]
        times = self.timestamps.get(str(user), {})
        stamps = [times.get(i) for i in recent]
        gaps = [int(b - a) if a is not None and b is not None else 0 for a, b in zip(stamps, stamps[1:], strict=False)]
        return Pair(user, recent, [*gaps, 0] if recent else [], int(item))


def user_timestamps(dataset) -> dict[str, dict[int, int]]:
    """source user -> {item: time of the user's first event with it} (for `SellerExplainer`)."""
    frame = dataset.interactions.frame.sort_values(["user", "timestamp"], kind="stable")
    out: dict[str, dict[int, int]] = {}
    for user, item, stamp in zip(frame["user"].astype(str), frame["item"], frame["timestamp"], strict=True):
        out.setdefault(user, {}).setdefault(int(item), int(stamp))
    return out
