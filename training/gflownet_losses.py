"""GFlowNet pieces of Flower: trie token rewards per trajectory and the SubTB loss.

Flower (Gao et al., "Process-Supervised LLM Recommenders via Flow-guided Tuning",
SIGIR 2025) trains with the modified sub-trajectory balance objective of Hu et al.
("Amortizing intractable inference in large language models", ICLR 2024): a title
y = t_1..t_L followed by the end token is a trajectory s_0 -> s_1 -> ... -> s_L -> stop.
log R(s_i stop) sums the trie's token log-rewards up to s_i plus the end-token reward
when s_i is a complete title, or a constant (-15) when it is not.
"""

from __future__ import annotations

import torch

from recagora.training.tries import PrefixTrie


def subtb_loss(
    log_pf_step: torch.Tensor,
    log_pf_stop: torch.Tensor,
    log_reward_stop: torch.Tensor,
    lengths: torch.Tensor,
    subtb_lambda: float = 1.0,
) -> torch.Tensor:
    """Modified sub-trajectory balance loss of each trajectory.

    With delta_i = log R(s_i T) + log P_F(t_{i+1}|s_i) + log P_F(T|s_{i+1})
                   - log R(s_{i+1} T) - log P_F(T|s_i),
    the loss is sum_{0<=i<j<=L} lambda^(j-i-1) (delta_i + ... + delta_{j-1})^2 divided by
    sum_{0<=i<j<=L} lambda^(j-i-1).

    Args:
        log_pf_step: (B, T) log P_F(t_{i+1} | s_i), valid for i < L.
        log_pf_stop: (B, T + 1) log P_F(stop | s_i), valid for i <= L.
        log_reward_stop: (B, T + 1) log R(s_i stop), valid for i <= L.
        lengths: (B,) L, the number of title tokens (>= 1).
        subtb_lambda: weight decay over sub-trajectory length (1 = all equal).

    Returns:
        (B,) loss per trajectory.
    """
    steps = log_pf_step.shape[1]
    delta = (
        log_reward_stop[:, :-1]
        + log_pf_step
        + log_pf_stop[:, 1:]
        - log_reward_stop[:, 1:]
        - log_pf_stop[:, :-1]
    )  # (B, T)
    position = torch.arange(steps, device=delta.device)
    delta = torch.where(position[None] < lengths[:, None], delta, torch.zeros_like(delta))
    cumulative = torch.cat([torch.zeros_like(delta[:, :1]), delta.cumsum(1)], dim=1)  # (B, T + 1)
    spans = cumulative[:, None, :] - cumulative[:, :, None]  # [b, i, j] = sum_{i<=k<j} delta_k
    index = torch.arange(steps + 1, device=delta.device)
    i, j = index[:, None], index[None, :]
    weight = torch.where(
        j > i, torch.as_tensor(subtb_lambda, dtype=delta.dtype) ** (j - i - 1).clamp(min=0), 0.0
    )
    valid = (j[None] <= lengths[:, None, None]) & (j > i)[None]  # (B, T + 1, T + 1)
    weights = weight[None] * valid
    return (weights * spans.square()).sum((1, 2)) / weights.sum((1, 2))


def trajectory_log_rewards(
    trie: PrefixTrie,
    edge_log_reward: torch.Tensor,
    title_tokens: torch.Tensor,
    lengths: torch.Tensor,
    end_token: int,
    incomplete_log_reward: float = -15.0,
    scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """log R(s_i stop) for i = 0..T along each title (Flower's token-level process reward).

    Args:
        trie: the title trie.
        edge_log_reward: (n_nodes,) log-reward of the edge into each node
            (`PrefixTrie.edge_log_rewards`).
        title_tokens: (B, T) title tokens WITHOUT the end token (anything past L ignored).
        lengths: (B,) L per row.
        end_token: the end-of-title token id.
        incomplete_log_reward: log R of stopping at a prefix that is not a title.
        scale: optional (B,) divisor of the token and end log-rewards (Flower's
            personalised ``logp_div_s``); the constant is not scaled.

    Returns:
        (B, T + 1) float log R(s_i stop); entries past L are meaningless.
    """
    nodes = trie.walk(title_tokens)  # (B, T + 1)
    inside = nodes >= 0
    token_reward = torch.where(inside, edge_log_reward[nodes.clamp(min=0)], 0.0)
    token_reward[:, 0] = 0.0
    prefix_reward = token_reward.cumsum(1)
    stop_node = trie.step(nodes.reshape(-1), torch.full_like(nodes.reshape(-1), end_token)).view_as(
        nodes
    )
    stop_reward = edge_log_reward[stop_node.clamp(min=0)]
    earned = prefix_reward + stop_reward
    if scale is not None:
        earned = earned / scale[:, None]
    fallback = (
        prefix_reward / (scale[:, None] if scale is not None else 1.0) + incomplete_log_reward
    )
    return torch.where(stop_node >= 0, earned, fallback).float()
