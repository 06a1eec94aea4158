"""Items as token sequences: titles (with an end-of-title token) or semantic IDs.

Both produce the token sequence of every catalog item and the `PrefixTrie` over
them; trainers, decoding and the losses only ever see that pair.
- titles: the backbone's own tokenizer, then one end-of-title token, as in
  Flower/BIGRec/D3 (the title trie of Gao et al., SIGIR 2025).
- semantic IDs: ``<a_x><b_y>...`` codes added to the backbone's vocabulary
  (UGR's RQ-VAE codes, MindRec's LETTER codes), optionally after a category path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import torch

from recagora.item_space.errors import ConfigError, DatasetError
from recagora.training.tries import PrefixTrie

# UGR's two confidence tokens (Fan et al., KDD 2026: `<conf_neg>`, `<conf_pos>`); every
# semantic-ID tokenization adds them so an SFT run can seed UGR with the same vocabulary.
CONFIDENCE_TOKENS = ("<conf_neg>", "<conf_pos>")


class TextTokenizer(Protocol):
    """What item tokenizers and prompts need from a backbone's tokenizer."""

    end_of_item_id: int
    pad_id: int

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, without special tokens."""
        ...

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids (special tokens dropped)."""
        ...

    def add_tokens(self, tokens: Sequence[str]) -> list[int]:
        """Add new whole-word tokens; return their ids (existing ones are reused)."""
        ...


@dataclass(frozen=True)
class ItemTokenization:
    """Token sequences of the catalog's generation units and the trie over them.

    A UNIT is what generation can name: one distinct title (items sharing an identical
    title, e.g. two ASINs of one game, are one unit, as in Flower's title-level
    protocol) or one semantic ID. The trie's "items" are units.

    Attributes:
        kind: "title" or "semantic_id".
        sequences: unit -> token ids (the end token included for titles).
        trie: prefix trie over `sequences`, masks of width `trie.vocab_size`.
        fingerprint: hash of the item names, to refuse checkpoints of another catalog.
        unit_of_item: (n_items,) int64 unit of every catalog item.
        unit_item: (n_units,) int64 representative catalog item of each unit (lowest id).
        confidence_ids: (neg, pos) token ids of UGR's confidence tokens (semantic IDs from
            `tokenize_catalog`), None when the vocabulary has none.
    """

    kind: str
    sequences: list[list[int]]
    trie: PrefixTrie
    fingerprint: str
    unit_of_item: np.ndarray
    unit_item: np.ndarray
    confidence_ids: tuple[int, int] | None = None

    @property
    def n_units(self) -> int:
        return len(self.sequences)

    def unit_counts(self, item_counts: np.ndarray) -> np.ndarray:
        """(n_units,) float64 sum of per-item counts (or rewards) over each unit's items."""
        return np.bincount(self.unit_of_item, weights=item_counts, minlength=self.n_units)

    def padded_items(
        self, item_ids: Sequence[int], pad_id: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, L) right-padded token ids of the items' units and their (B,) lengths."""
        rows = [self.sequences[self.unit_of_item[i]] for i in item_ids]
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        out = torch.full((len(rows), int(lengths.max())), pad_id, dtype=torch.long)
        for row, tokens in enumerate(rows):
            out[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        return out, lengths


def catalog_fingerprint(names: Sequence[str]) -> str:
    """Short stable hash of the ordered item names."""
    return hashlib.sha256(json.dumps(list(names)).encode()).hexdigest()[:16]


def generation_titles(catalog) -> list[str]:
    """The titles generation uses: each item's source title (``attributes['raw_title']`` when
    the loader had to make titles unique), so identical titles form one unit as in Flower."""
    return [str(item.attributes.get("raw_title", item.title)) for item in catalog.items]


def is_semantic(catalog) -> bool:
    """True when every item carries ``attributes['semantic_id']`` (e.g. games-semids)."""
    return len(catalog) > 0 and all("semantic_id" in item.attributes for item in catalog.items)


def item_names(catalog) -> list[str]:
    """What prompts show and what forms units: the generation title, or for a semantic-ID
    catalog the joined codes (items sharing codes, 142 in games-semids, are one unit)."""
    if is_semantic(catalog):
        return ["".join(item.attributes["semantic_id"]) for item in catalog.items]
    return generation_titles(catalog)


def tokenize_catalog(catalog, backbone, generator=None) -> ItemTokenization:
    """The catalog's items for `backbone`: titles, or semantic IDs as added tokens.

    For semantic IDs the code tokens (and `CONFIDENCE_TOKENS`, first) join the backbone's
    vocabulary and its embeddings grow to match (new rows drawn from `generator`), so call
    this before building an optimizer. Items with identical codes form one unit, as
    identical titles do; the fingerprint is over the catalog's titles either way.
    """
    names = item_names(catalog)
    if not is_semantic(catalog):
        return tokenize_titles(names, backbone.tokenizer, backbone.logits_width)
    fingerprint = catalog_fingerprint(generation_titles(catalog))
    _, unit_of_item, unit_item = _units(names)
    codes = [catalog.items[i].attributes["semantic_id"] for i in unit_item]
    neg, pos = backbone.tokenizer.add_tokens(list(CONFIDENCE_TOKENS))
    added = {neg, pos}

    def width() -> int:  # the logits must cover every added id
        return grow_vocabulary(backbone, max(added) + 1, generator)

    tracking = _TrackingTokenizer(backbone.tokenizer, added)
    items = tokenize_semantic_ids(codes, tracking, width)
    return replace(
        items,
        fingerprint=fingerprint,
        unit_of_item=unit_of_item,
        unit_item=unit_item,
        confidence_ids=(neg, pos),
    )


class _TrackingTokenizer:
    """The backbone's tokenizer, recording the ids `add_tokens` returns."""

    def __init__(self, tokenizer, added: set[int]):
        self._inner, self._added = tokenizer, added
        self.end_of_item_id, self.pad_id = tokenizer.end_of_item_id, tokenizer.pad_id

    def add_tokens(self, tokens: Sequence[str]) -> list[int]:
        ids = self._inner.add_tokens(tokens)
        self._added.update(ids)
        return ids


def grow_vocabulary(backbone, size: int, generator=None) -> int:
    """Grow the model's embeddings to at least `size` tokens; return the logits width.

    Tiny GPT: new rows ~ N(0, 0.02) from `generator` (its own init), head re-tied. HF:
    `resize_token_embeddings`; refused with LoRA, whose checkpoint would not hold the
    new rows.
    """
    if backbone.is_tiny:
        model = backbone.model
        if model.config.vocab_size < size:
            old = model.wte.weight.data
            fresh = torch.empty(size - len(old), old.shape[1]).normal_(
                0.0, 0.02, generator=generator
            )
            grown = torch.cat([old, fresh.to(old)])
            model.wte = torch.nn.Embedding.from_pretrained(grown, freeze=False)
            model.head.weight = model.wte.weight
            model.config.vocab_size = size
        return model.config.vocab_size
    if backbone.config.lora_r > 0:
        raise ConfigError(
            "semantic IDs add tokens whose embeddings LoRA does not train or save; "
            "set backbone.lora_r=0 or use backbone tiny-gpt"
        )
    if backbone.logits_width < size:
        backbone.model.resize_token_embeddings(size)
    return backbone.logits_width


def title_units(titles: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Distinct titles (first-seen order), (n_items,) unit per item, (n_units,) first item."""
    return _units(titles)


def tokenize_titles(
    titles: Sequence[str], tokenizer: TextTokenizer, vocab_size: int
) -> ItemTokenization:
    """Title token ids + end-of-title token for every distinct title, under one trie.

    Raises:
        DatasetError: two DIFFERENT titles tokenize identically (named in the message),
            or a title is empty.
    """
    unit_titles, unit_of_item, unit_item = _units(titles)
    sequences = [tokenizer.encode(title) + [tokenizer.end_of_item_id] for title in unit_titles]
    _refuse_collisions(sequences, unit_titles, "titles")
    trie = PrefixTrie.from_sequences(sequences, vocab_size, names=unit_titles)
    return ItemTokenization(
        "title", sequences, trie, catalog_fingerprint(titles), unit_of_item, unit_item
    )


def tokenize_semantic_ids(
    codes: Sequence[Sequence[str]],
    tokenizer: TextTokenizer,
    vocab_size_after: Callable[[], int],
    prefixes: Sequence[Sequence[str]] | None = None,
) -> ItemTokenization:
    """Semantic IDs (e.g. ``["<a_240>", "<b_118>", ...]``) as added tokens under one trie.

    Args:
        codes: item id -> its code tokens, coarse first.
        tokenizer: the backbone's tokenizer; the codes are added to it.
        vocab_size_after: returns the logits width once the tokens are added (the caller
            resizes the model's embeddings).
        prefixes: optional item id -> category path tokens put before the codes (MindRec).

    Raises:
        DatasetError: two items share the same codes (and prefix).
    """
    full = [list(prefixes[i]) + list(c) for i, c in enumerate(codes)] if prefixes else codes
    vocabulary = sorted({token for row in full for token in row})
    ids = dict(zip(vocabulary, tokenizer.add_tokens(vocabulary), strict=True))
    # Every item ends with the end-of-item token, as titles do: a policy must choose to
    # stop, and a stop reward (Flower's, GRPO's) is then paid on a real step instead of
    # the smoothing floor of a sequence that never ends.
    sequences = [[ids[token] for token in row] + [tokenizer.end_of_item_id] for row in full]
    names = ["".join(row) for row in full]
    _refuse_collisions(sequences, names, "semantic IDs")
    trie = PrefixTrie.from_sequences(sequences, vocab_size_after(), names=names)
    identity = np.arange(len(names), dtype=np.int64)
    return ItemTokenization(
        "semantic_id", sequences, trie, catalog_fingerprint(names), identity, identity
    )


def _units(titles: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Distinct titles (first-seen order), (n_items,) unit per item, (n_units,) first item."""
    first: dict[str, int] = {}
    unit_of_item = np.asarray([first.setdefault(t, len(first)) for t in titles], dtype=np.int64)
    unit_item = np.zeros(len(first), dtype=np.int64)
    unit_item[unit_of_item[::-1]] = np.arange(len(titles) - 1, -1, -1)
    return list(first), unit_of_item, unit_item


def _refuse_collisions(sequences: Sequence[Sequence[int]], names: Sequence[str], what: str) -> None:
    seen: dict[tuple[int, ...], int] = {}
    for index, sequence in enumerate(sequences):
        first = seen.setdefault(tuple(sequence), index)
        if first != index:
            raise DatasetError(
                f"{what} {names[first]!r} and {names[index]!r} collide after tokenization; "
                "make them distinct in the catalog before training"
            )
