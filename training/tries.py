"""One prefix trie over item token sequences, with batched, vectorised operations.

Every item of the catalog is a token sequence (a tokenized title followed by an
end-of-title token, or a semantic ID such as ``<a_3><b_17><c_5><d_2>``). The trie
stores all of them; generation is a walk from the root to a leaf, and a leaf is
exactly one item. Decoding and the losses ask the trie, for a whole batch of
states at once, which tokens may come next (`allowed_mask`) and where a token
leads (`step`). Item rewards decompose into token rewards along the trie
(`edge_log_rewards`, the closed-form flow of Flower, Gao et al., SIGIR 2025).

The trie is held as CSR arrays in torch (so it moves to the model's device); the
children of node ``n`` are ``child_token[indptr[n]:indptr[n+1]]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from recagora.item_space.errors import DatasetError

NO_NODE = -1


@dataclass(frozen=True)
class PrefixTrie:
    """A prefix-free trie of item token sequences.

    Attributes:
        indptr: (n_nodes + 1,) int64 CSR offsets of each node's outgoing edges.
        child_token: (n_edges,) int64 token of each edge, sorted by (parent, token).
        child_node: (n_edges,) int64 node each edge leads to.
        edge_keys: (n_edges,) int64 ``parent * vocab_size + token``, sorted, for lookups.
        parent: (n_nodes,) int64 parent node (-1 for the root, node 0).
        depth: (n_nodes,) int64 number of tokens from the root.
        node_item: (n_nodes,) int64 item id ending at the node (a leaf), -1 elsewhere.
        item_leaf: (n_items,) int64 leaf node of each item.
        vocab_size: size of the token space the masks cover (the model's logits width).
    """

    indptr: torch.Tensor
    child_token: torch.Tensor
    child_node: torch.Tensor
    edge_keys: torch.Tensor
    parent: torch.Tensor
    depth: torch.Tensor
    node_item: torch.Tensor
    item_leaf: torch.Tensor
    vocab_size: int

    @classmethod
    def from_sequences(
        cls, sequences: Sequence[Sequence[int]], vocab_size: int, names: Sequence[str] | None = None
    ) -> PrefixTrie:
        """Build the trie; item ``i`` is ``sequences[i]``.

        Raises:
            DatasetError: two items share a sequence, one item's sequence is a prefix of
                another's, a sequence is empty, or a token is outside the vocabulary.
        """
        names = names or [f"item {i}" for i in range(len(sequences))]
        children, node_item, parent, depth = _insert_all(sequences, vocab_size, names)
        return cls._from_children(children, node_item, parent, depth, vocab_size, len(sequences))

    @classmethod
    def _from_children(cls, children, node_item, parent, depth, vocab_size, n_items):
        edges = sorted((p, t, c) for p, kids in enumerate(children) for t, c in kids.items())
        edge_array = np.asarray(edges, dtype=np.int64).reshape(-1, 3)
        counts = np.bincount(edge_array[:, 0], minlength=len(children))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        item_leaf = np.full(n_items, NO_NODE, dtype=np.int64)
        node_item_array = np.asarray(node_item, dtype=np.int64)
        leaves = np.flatnonzero(node_item_array >= 0)
        item_leaf[node_item_array[leaves]] = leaves
        as_tensor = torch.as_tensor
        return cls(
            indptr=as_tensor(indptr),
            child_token=as_tensor(edge_array[:, 1].copy()),
            child_node=as_tensor(edge_array[:, 2].copy()),
            edge_keys=as_tensor(edge_array[:, 0] * vocab_size + edge_array[:, 1]),
            parent=as_tensor(np.asarray(parent, dtype=np.int64)),
            depth=as_tensor(np.asarray(depth, dtype=np.int64)),
            node_item=as_tensor(node_item_array),
            item_leaf=as_tensor(item_leaf),
            vocab_size=vocab_size,
        )

    @property
    def n_nodes(self) -> int:
        return int(self.parent.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_leaf.shape[0])

    @property
    def max_depth(self) -> int:
        return int(self.depth.max())

    def to(self, device: torch.device | str) -> PrefixTrie:
        """The same trie with its tensors on `device`."""
        fields = {k: v.to(device) if torch.is_tensor(v) else v for k, v in self.__dict__.items()}
        return PrefixTrie(**fields)

    def root(self, batch: int) -> torch.Tensor:
        """(batch,) int64 root node ids."""
        return torch.zeros(batch, dtype=torch.long, device=self.parent.device)

    def step(self, nodes: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Follow one token from each node.

        Args:
            nodes: (B,) int64 node ids (-1 = already off the trie).
            tokens: (B,) int64 token ids.

        Returns:
            (B,) int64 next node ids, -1 where the token is not a child of the node.
        """
        keys = nodes.clamp(min=0) * self.vocab_size + tokens
        position = torch.searchsorted(self.edge_keys, keys).clamp(max=len(self.edge_keys) - 1)
        found = (self.edge_keys[position] == keys) & (nodes >= 0)
        return torch.where(found, self.child_node[position], torch.full_like(nodes, NO_NODE))

    def allowed_mask(self, nodes: torch.Tensor) -> torch.Tensor:
        """(B, vocab_size) bool: True where the token is a child of the node (none for -1)."""
        valid = nodes >= 0
        safe = nodes.clamp(min=0)
        starts = self.indptr[safe]
        counts = torch.where(valid, self.indptr[safe + 1] - starts, torch.zeros_like(starts))
        rows = torch.repeat_interleave(torch.arange(len(nodes), device=nodes.device), counts)
        offsets = torch.arange(int(counts.sum()), device=nodes.device)
        offsets = offsets - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        cols = self.child_token[torch.repeat_interleave(starts, counts) + offsets]
        mask = torch.zeros(len(nodes), self.vocab_size, dtype=torch.bool, device=nodes.device)
        mask[rows, cols] = True
        return mask

    def walk(self, tokens: torch.Tensor) -> torch.Tensor:
        """Nodes visited by token sequences.

        Args:
            tokens: (B, T) int64 token ids (anything after leaving the trie is ignored).

        Returns:
            (B, T + 1) int64 nodes: column 0 is the root, column t the node after t tokens
            (-1 once the sequence left the trie).
        """
        nodes = [self.root(tokens.shape[0])]
        for t in range(tokens.shape[1]):
            nodes.append(self.step(nodes[-1], tokens[:, t]))
        return torch.stack(nodes, dim=1)

    def items_at(self, nodes: torch.Tensor) -> torch.Tensor:
        """(B,) item id at each node, -1 where the node is not a leaf (or is -1)."""
        items = self.node_item[nodes.clamp(min=0)]
        return torch.where(nodes >= 0, items, torch.full_like(items, NO_NODE))

    def item_paths(self) -> torch.Tensor:
        """(n_items, max_depth) int64 token ids of each item, right-padded with -1."""
        paths = torch.full((self.n_items, self.max_depth), NO_NODE, dtype=torch.long)
        edge_token = torch.zeros(self.n_nodes, dtype=torch.long)
        edge_token[self.child_node] = self.child_token
        nodes = self.item_leaf.clone()
        for _ in range(self.max_depth):
            inside = nodes > 0
            positions = self.depth[nodes.clamp(min=0)] - 1
            rows = torch.nonzero(inside).flatten()
            paths[rows, positions[rows]] = edge_token[nodes[rows]]
            nodes = torch.where(inside, self.parent[nodes.clamp(min=0)], nodes)
        return paths

    def flow(self, item_rewards: torch.Tensor) -> torch.Tensor:
        """(n_nodes,) float64 F(s): total reward of the items below each node."""
        flow = torch.zeros(self.n_nodes, dtype=torch.float64, device=self.parent.device)
        flow[self.item_leaf] = item_rewards.to(flow)
        # Sweep leaves-to-root one depth level at a time, so each level is one index_add.
        for level in range(self.max_depth, 0, -1):
            at_level = torch.nonzero(self.depth == level).flatten()
            flow.index_add_(0, self.parent[at_level], flow[at_level])
        return flow

    def edge_log_rewards(self, item_rewards: torch.Tensor) -> torch.Tensor:
        """(n_nodes,) float64 token log-reward of the edge INTO each node (0 at the root).

        log r(t | s) = log F(s.t) - log F(s) (Flower, Gao et al., SIGIR 2025, arXiv 2503.07377), so the
        log-rewards along an item's path sum to log(reward_i / sum_j reward_j).
        """
        log_flow = torch.log(self.flow(item_rewards))
        log_reward = log_flow - log_flow[self.parent.clamp(min=0)]
        log_reward[0] = 0.0
        return log_reward


def _insert_all(sequences, vocab_size, names):
    children: list[dict[int, int]] = [{}]
    node_item, parent, depth = [NO_NODE], [NO_NODE], [0]
    for item, sequence in enumerate(sequences):
        _check_sequence(sequence, vocab_size, names[item])
        node = 0
        for token in sequence:
            if node_item[node] >= 0:
                _raise_prefix(names[node_item[node]], names[item])
            next_node = children[node].get(int(token))
            if next_node is None:
                next_node = len(children)
                children[node][int(token)] = next_node
                children.append({})
                node_item.append(NO_NODE)
                parent.append(node)
                depth.append(depth[node] + 1)
            node = next_node
        if node_item[node] >= 0:
            raise DatasetError(
                f"{names[node_item[node]]!r} and {names[item]!r} have the same tokens; "
                "make item names distinct (e.g. add the platform or edition)"
            )
        if children[node]:
            _raise_prefix(names[item], "another item")
        node_item[node] = item
    return children, node_item, parent, depth


def _check_sequence(sequence, vocab_size, name):
    if len(sequence) == 0:
        raise DatasetError(f"{name!r} has no tokens; give every item a non-empty name")
    if min(sequence) < 0 or max(sequence) >= vocab_size:
        raise DatasetError(f"{name!r} has a token outside the vocabulary of size {vocab_size}")


def _raise_prefix(shorter, longer):
    raise DatasetError(
        f"the tokens of {shorter!r} are a prefix of {longer!r}; end every item sequence "
        "with an end-of-item token"
    )
