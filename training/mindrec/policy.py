"""A MindRec checkpoint as a `Recommender`: diffusion beam search over the item codes.

`MindRecRecommender.load(run_dir, catalog)` offers what `GenerativeRecommender` does
(`rank` for `recagora evaluate`, `score_batch` for the simulation's candidate protocols,
`recommend`), so `training.policy.GenerativeRecommender.load` hands MindRec run folders
to it (the loader registry in `training/registry.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from recagora.item_space.errors import ModelError
from recagora.item_space.recommender import Ranking
from recagora.item_space.types import Catalog, UserHistory
from recagora.training.checkpoints import WEIGHTS, check_fingerprint, verify_checkpoint
from recagora.training.configs import from_dict
from recagora.training.mindrec.config import MindRecConfig
from recagora.training.mindrec.items import ItemCodes, keys_fingerprint
from recagora.training.mindrec.model import MindRecModel, history_tensor
from recagora.training.mindrec.search import Postings, check_beams, diffusion_beam_search
from recagora.training.mindrec.trainer import ITEMS_FILE, MindRecWeights, build_model


class MindRecRecommender:
    """Ranks catalog items by the diffusion beam search of a trained MindRec model."""

    def __init__(self, model: MindRecModel, codes: ItemCodes, config: MindRecConfig, name: str):
        self.model, self.codes, self.config, self.name = model.eval(), codes, config, name
        self.unit_of_item, self.unit_item = codes.units()
        self.titles = codes.names()  # what serving reads to tell a generative policy
        self.postings = Postings(
            torch.as_tensor(codes.codes), len(codes.vocabulary), codes.n_category
        )

    @classmethod
    def load(cls, checkpoint: str | Path, catalog: Catalog, device: str = "cpu"):
        """Rebuild the policy of a MindRec run folder (or its checkpoint/) for `catalog`.

        Raises:
            ModelError: not a checkpoint, unreadable files, trained on another catalog.
        """
        manifest = verify_checkpoint(Path(checkpoint))
        config = from_dict(MindRecConfig, manifest["config"])
        folder = Path(manifest["folder"])
        codes_file = folder.parent / ITEMS_FILE
        if not codes_file.is_file():
            raise ModelError(f"{str(codes_file)!r} is missing; pass the whole MindRec run folder")
        codes = ItemCodes.load(codes_file)
        if len(codes.codes) != len(catalog) or codes.keys != keys_fingerprint(catalog):
            raise ModelError(
                f"MindRec run {str(folder.parent)!r} was trained on catalog "
                f"{manifest['catalog']!r} ({manifest['n_items']} items), not {catalog.name!r}"
            )
        check_fingerprint(manifest, codes.fingerprint)
        model = build_model(config, codes)
        MindRecWeights(model).load_trainable_state(load_file(str(folder / WEIGHTS)))
        kind = "mindrec" if codes.n_category else "mindrec-no-category"
        return cls(model.to(device), codes, config, name=f"{kind}:{folder.parent.name}")

    def rank(
        self,
        histories: Sequence[Sequence[int]],
        num_beams: int = 10,
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
        length_penalty: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """(n, num_beams) item ids (-1 pad), their scores, and the invalid count.

        Every item's answer has the same length, so length_penalty only rescales scores.
        """
        check_beams(num_beams, len(self.unit_item))
        items, scores, invalid = [], [], 0
        for start in range(0, len(histories), batch_size):
            result = self._search(histories[start : start + batch_size], self.postings, num_beams)
            items.append(result.items.numpy())
            scores.append(result.scores.numpy() / self.codes.n_slots**length_penalty)
            invalid += result.invalid
            if on_batch is not None:
                on_batch(len(result.items))
        return np.concatenate(items), np.concatenate(scores), invalid

    def score_batch(
        self, histories: Sequence[Sequence[int]], num_beams: int = 10, batch_size: int = 32
    ) -> np.ndarray:
        """(n, n_items) float64 beam scores, -inf where no beam reached (as the title policies)."""
        items, scores, _ = self.rank(histories, num_beams, batch_size)
        out = np.full((len(items), len(self.unit_of_item)), -np.inf)
        rows, columns = np.nonzero(items >= 0)
        out[rows, items[rows, columns]] = scores[rows, columns]
        return out

    def recommend(
        self, history: UserHistory, k: int, candidates: Sequence[int] | None = None
    ) -> Ranking:
        """Top-k items for `history` (searched among `candidates` only, when given)."""
        postings, ids = self.postings, None
        if candidates is not None:
            ids = np.unique(self.unit_item[self.unit_of_item[np.asarray(candidates, np.int64)]])
            postings = Postings(
                torch.as_tensor(self.codes.codes[ids]),
                len(self.codes.vocabulary),
                self.codes.n_category,
            )
        k = min(k, len(self.unit_item) if ids is None else len(ids))
        result = self._search([history.items], postings, k)
        found = result.items[0].numpy()
        keep = found >= 0
        items = found[keep] if ids is None else ids[found[keep]]
        return Ranking(items=items, scores=result.scores[0].numpy()[keep].astype(np.float32))

    @torch.no_grad()
    def _search(self, histories, postings: Postings, num_beams: int):
        history = history_tensor(histories, self.config.max_history)
        return diffusion_beam_search(
            self.model,
            history.to(self.postings.codes.device),
            postings,
            self.codes.n_category,
            self.codes.mask_id,
            num_beams,
            self.config.diversity,
        )
