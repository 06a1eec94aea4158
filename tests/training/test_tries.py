"""The item trie: structure, batched masks and steps, flows, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recagora.item_space.errors import DatasetError
from recagora.training.item_tokenizers import tokenize_semantic_ids, tokenize_titles
from recagora.training.tiny_gpt import BPETokenizer
from recagora.training.tries import PrefixTrie

SEQUENCES = [[1, 2, 9], [1, 3, 9], [1, 2, 4, 9], [5, 9]]  # 9 = end token


def test_masks_and_steps_follow_the_sequences():
    trie = PrefixTrie.from_sequences(SEQUENCES, vocab_size=10)
    nodes = trie.walk(torch.tensor([[1, 2, 4, 9], [1, 3, 9, 0], [5, 9, 0, 0], [7, 0, 0, 0]]))
    assert trie.items_at(nodes[:, 4]).tolist() == [2, -1, -1, -1]
    assert trie.items_at(nodes[:, 3]).tolist() == [-1, 1, -1, -1]
    assert trie.items_at(nodes[:, 2]).tolist() == [-1, -1, 3, -1]
    assert nodes[3, 1].item() == -1  # token 7 leaves the trie
    mask = trie.allowed_mask(torch.stack([nodes[0, 0], nodes[0, 1], nodes[0, 2], nodes[3, 1]]))
    assert [torch.nonzero(row).flatten().tolist() for row in mask] == [[1, 5], [2, 3], [4, 9], []]


def test_item_paths_round_trip():
    trie = PrefixTrie.from_sequences(SEQUENCES, vocab_size=10)
    paths = trie.item_paths()
    assert [[t for t in row if t >= 0] for row in paths.tolist()] == SEQUENCES


@pytest.mark.parametrize(
    ("sequences", "message"),
    [
        ([[1, 9], [1, 9]], "same tokens"),
        ([[1], [1, 2]], "prefix"),
        ([[1, 2], [1]], "prefix"),
        ([[]], "no tokens"),
        ([[11]], "outside"),
    ],
)
def test_bad_sequences_are_refused(sequences, message):
    with pytest.raises(DatasetError, match=message):
        PrefixTrie.from_sequences(sequences, vocab_size=10)


def test_token_rewards_of_every_title_sum_to_its_log_share(video_games):
    titles = video_games.catalog.titles
    tokenizer = BPETokenizer.train(titles, 800)
    items = tokenize_titles(titles, tokenizer, tokenizer.vocab_size)
    rewards = torch.as_tensor(
        np.random.default_rng(0).integers(1, 50, items.n_units), dtype=torch.float64
    )
    edge = items.trie.edge_log_rewards(rewards)
    nodes = items.trie.walk(items.trie.item_paths().clamp(min=0))
    depth = items.trie.depth[items.trie.item_leaf]
    on_path = torch.arange(nodes.shape[1])[None] <= depth[:, None]
    summed = torch.where(on_path, edge[nodes.clamp(min=0)], 0.0).sum(1)
    torch.testing.assert_close(summed, torch.log(rewards / rewards.sum()))


def test_identical_titles_form_one_unit_and_distinct_collisions_fail():
    class StripTokenizer:  # collapses surrounding spaces, as some tokenizers normalise
        end_of_item_id, pad_id = 0, 0

        def encode(self, text):
            return [ord(c) for c in text.strip()]

    items = tokenize_titles(["Halo", "Doom", "Halo"], StripTokenizer(), 256)
    assert (
        items.n_units == 2
        and items.unit_of_item.tolist() == [0, 1, 0]
        and items.unit_item.tolist() == [0, 1]
    )
    with pytest.raises(DatasetError, match="'Halo' and 'Halo ' collide"):
        tokenize_titles(["Halo", "Halo "], StripTokenizer(), 256)


def test_semantic_ids_get_their_own_trie(shared_data):
    import json

    index = json.loads((shared_data / "amazon-Games-semantic-ids" / "Games.index.json").read_text())
    codes = [index[str(i)] for i in range(300)]
    tokenizer = BPETokenizer.train(["a b c"], 300)
    base = tokenizer.vocab_size
    items = tokenize_semantic_ids(codes, tokenizer, lambda: tokenizer.vocab_size)
    assert items.trie.n_items == 300 and items.trie.max_depth == 5  # 4 codes + end of item
    assert all(row[-1] == tokenizer.end_of_item_id for row in items.sequences)
    assert min(t for row in items.sequences for t in row[:-1]) >= base  # added tokens only
    assert tokenizer.decode(items.sequences[0][:-1]).replace(" ", "") == "".join(codes[0])
    with pytest.raises(DatasetError, match="collide"):
        tokenize_semantic_ids([codes[0], codes[0]], tokenizer, lambda: tokenizer.vocab_size)
