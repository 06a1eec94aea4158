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
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from recagora.item_space.errors import DatasetError
from recagora.training.tries import PrefixTrie


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
    """

    kind: str
    sequences: list[list[int]]
    trie: PrefixTrie
    fingerprint: str
    unit_of_item: np.ndarray
    unit_item: np.ndarray

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


def read_semantic_ids(index_json: Path) -> dict[str, list[str]]:
    """Item id -> code tokens from a LETTER/RQ-VAE ``*.index.json`` file."""
    if not Path(index_json).is_file():
        raise DatasetError(
            f"semantic-ID file {str(index_json)!r} not found; pass an *.index.json path"
        )
    return {str(k): list(v) for k, v in json.loads(Path(index_json).read_text()).items()}


def _refuse_collisions(sequences: Sequence[Sequence[int]], names: Sequence[str], what: str) -> None:
    seen: dict[tuple[int, ...], int] = {}
    for index, sequence in enumerate(sequences):
        first = seen.setdefault(tuple(sequence), index)
        if first != index:
            raise DatasetError(
                f"{what} {names[first]!r} and {names[index]!r} collide after tokenization; "
                "make them distinct in the catalog before training"
            )
