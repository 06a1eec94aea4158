"""A trained checkpoint as a `Recommender`: prompts from history titles, trie beam search.

This is what the simulation's platform agent receives (experiments/ wires it in):
``GenerativeRecommender.load(run_dir, catalog).recommend(history, k=10)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from recagora.item_space.errors import ConfigError
from recagora.item_space.recommender import Ranking
from recagora.item_space.threads import torch_threads
from recagora.item_space.types import Catalog, UserHistory
from recagora.training.backbones import Backbone, restore_backbone
from recagora.training.checkpoints import TOKENIZER, WEIGHTS, check_fingerprint, verify_checkpoint
from recagora.training.configs import from_dict
from recagora.training.data import PromptConfig, encode_prompts
from recagora.training.decoding import BeamConfig, constrained_beam_search, rank_prompts
from recagora.training.item_tokenizers import ItemTokenization, item_names, tokenize_catalog
from recagora.training.tries import PrefixTrie

ORDERS = ("beam", "confidence")


class GenerativeRecommender:
    """Ranks catalog items by constrained beam search of a trained generative policy."""

    def __init__(
        self,
        backbone: Backbone,
        items: ItemTokenization,
        prompt: PromptConfig,
        titles: Sequence[str],
        name: str,
        order: str = "beam",
    ):
        self.backbone, self.items, self.prompt, self.titles, self.name = (
            backbone,
            items,
            prompt,
            list(titles),
            name,
        )
        self.trie = items.trie.to(backbone.device)
        self.backbone.model.eval()
        if order not in ORDERS:
            raise ConfigError(f"order {order!r} is unknown; use one of {', '.join(ORDERS)}")
        if order == "confidence" and items.confidence_ids is None:
            raise ConfigError(
                "order=confidence needs a checkpoint with UGR's confidence tokens "
                "(a semantic-ID run); use order=beam"
            )
        self.order = order
        # Torch threads the policy ranks with: those in force when it was built. Another
        # library may change the process-wide count later (MiniLM's embedder sets 2 and
        # keeps it); 2 threads on a shared, loaded 2-core box made a served TriRec round's
        # beam search 13x slower in CPU time (0.99 s -> 13.1 s for 64 users, 20 beams).
        self.threads = torch.get_num_threads()

    @classmethod
    def load(
        cls, checkpoint: str | Path, catalog: Catalog, device: str = "cpu", order: str = "beam"
    ) -> GenerativeRecommender:
        """Rebuild the policy of a run folder (or checkpoint folder) for `catalog`.

        order: "beam" serves the beam ranking; "confidence" re-ranks it by UGR's confidence.

        Raises:
            ModelError: not a checkpoint, unreadable files, or trained on another catalog.
            ConfigError: the manifest's config is not a trainer config.
        """
        manifest = verify_checkpoint(Path(checkpoint))
        from recagora.training.registry import policy_loader  # a method's own policy class

        loader = policy_loader(manifest["method"])
        if loader is not None:  # e.g. MindRec: diffusion beam search, not a title trie
            return loader(checkpoint, catalog, device)
        config = policy_config(manifest)
        folder = Path(manifest["folder"])
        tokenizer_json = (
            (folder / TOKENIZER).read_text() if (folder / TOKENIZER).is_file() else None
        )
        backbone = restore_backbone(config.backbone, tokenizer_json)
        titles = item_names(catalog)
        items = tokenize_catalog(catalog, backbone)
        check_fingerprint(manifest, items.fingerprint)
        backbone.load_trainable_state(load_file(str(folder / WEIGHTS)))
        backbone.model.to(device)
        return cls(
            backbone,
            items,
            config.prompt,
            titles,
            name=f"{manifest['method']}:{config.backbone.name}",
            order=order,
        )

    def rank(
        self,
        histories: Sequence[Sequence[int]],
        num_beams: int = 10,
        batch_size: int = 32,
        on_batch: Callable[[int], None] | None = None,
        length_penalty: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """(n, num_beams) catalog item ids (-1 pad) and scores for histories, plus the invalid count.

        num_beams, length_penalty: the beam search's `BeamConfig` (see `training/decoding.py`).
        on_batch: called with the number of histories ranked after each batch (progress).
        """
        prompts = encode_prompts(histories, self.titles, self.backbone.tokenizer, self.prompt)
        beam = BeamConfig(num_beams=num_beams, length_penalty=length_penalty)
        with torch_threads(self.threads):
            result = rank_prompts(self.backbone, self.trie, prompts, beam, batch_size, on_batch)
        return self._to_items(result.items.numpy()), result.scores.numpy(), result.invalid

    def recommend(
        self, history: UserHistory, k: int, candidates: Sequence[int] | None = None
    ) -> Ranking:
        """Top-k items for `history` by beam search with k beams (restricted to `candidates`)."""
        trie, units = self.trie, None
        if candidates is not None:
            units = np.unique(self.items.unit_of_item[np.asarray(candidates, dtype=np.int64)])
            sequences = [self.items.sequences[u] for u in units]
            trie = PrefixTrie.from_sequences(sequences, self.trie.vocab_size).to(
                self.backbone.device
            )
        prompts = encode_prompts([history.items], self.titles, self.backbone.tokenizer, self.prompt)
        with torch_threads(self.threads):
            result = constrained_beam_search(self.backbone, trie, prompts, num_beams=k)
        found = result.items[0].numpy()
        keep = found >= 0
        found_units = found[keep] if units is None else units[found[keep]]
        return Ranking(
            items=self.items.unit_item[found_units],
            scores=result.scores[0].numpy()[keep].astype(np.float32),
        )

    @property
    def has_confidence(self) -> bool:
        """True for checkpoints whose vocabulary holds UGR's confidence tokens."""
        return self.items.confidence_ids is not None

    def confidence(
        self, histories: Sequence[Sequence[int]], ranked: np.ndarray, batch_size: int = 32
    ) -> np.ndarray:
        """(n, K) float64 UGR confidence in [0, 1] of each history's ranked catalog items
        (`rank`'s output; 0 at -1 padding). ConfigError without confidence tokens."""
        from recagora.training.ugr_confidence import beam_confidence

        prompts = encode_prompts(histories, self.titles, self.backbone.tokenizer, self.prompt)
        units = np.where(ranked >= 0, self.items.unit_of_item[np.clip(ranked, 0, None)], -1)
        out = np.zeros(ranked.shape)
        with torch.no_grad(), torch_threads(self.threads):
            for start in range(0, len(prompts), batch_size):
                part = slice(start, start + batch_size)
                c = beam_confidence(self.backbone, self.items, prompts[part], units[part])
                out[part] = c.cpu().numpy()
        return np.where(ranked >= 0, out, 0.0)

    def score_batch(
        self, histories: Sequence[Sequence[int]], num_beams: int = 10, batch_size: int = 32
    ) -> np.ndarray:
        """(n, n_items) float64: each history's beam-search scores, -inf where no beam reached.

        The `num_beams` items `rank` (and so `recagora evaluate`) returns carry their beam
        scores, so sorting a row by score gives exactly that ranking; every other catalog
        item is -inf. This is the scorer the simulation's candidate protocols take. With
        `order == "confidence"` (UGR checkpoints) the found items carry their confidence
        instead, so the beams are served re-ranked by it.
        """
        items, scores, _ = self.rank(histories, num_beams, batch_size)
        if self.order == "confidence":
            scores = self.confidence(histories, items, batch_size)
        out = np.full((len(items), len(self.items.unit_of_item)), -np.inf)
        rows, columns = np.nonzero(items >= 0)
        out[rows, items[rows, columns]] = scores[rows, columns]
        return out

    def _to_items(self, units: np.ndarray) -> np.ndarray:
        return np.where(units >= 0, self.items.unit_item[np.clip(units, 0, None)], -1)


def policy_config(manifest: dict):
    """The shared `TrainerConfig` part of a checkpoint manifest's config (checked like --set).

    Method-only fields (Flower's theta, ...) are dropped: ranking does not use them.
    """
    from recagora.training.trainer_base import TrainerConfig

    shared = TrainerConfig.__dataclass_fields__
    return from_dict(TrainerConfig, {k: v for k, v in manifest["config"].items() if k in shared})
