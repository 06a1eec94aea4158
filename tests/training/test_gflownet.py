"""Flower's trie token rewards and the modified SubTB loss, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import torch

from recagora.training.flower_trainer import personal_scale
from recagora.training.gflownet_losses import subtb_loss, trajectory_log_rewards
from recagora.training.tries import PrefixTrie

A, B, C, END = 1, 2, 3, 9
# Two titles "a b" (count 3) and "a c" (count 1): shares 0.75 and 0.25.
TOY = PrefixTrie.from_sequences([[A, B, END], [A, C, END]], vocab_size=10)
TOY_EDGE = TOY.edge_log_rewards(torch.tensor([3.0, 1.0], dtype=torch.float64))


def test_stop_rewards_along_a_title_on_the_toy_trie():
    rewards = trajectory_log_rewards(TOY, TOY_EDGE, torch.tensor([[A, B]]), torch.tensor([2]), END)
    # s0 and s1 are not titles (-15 + prefix reward 0); s2 = "a b": log 1 + log .75 + log 1.
    torch.testing.assert_close(rewards, torch.tensor([[-15.0, -15.0, math.log(0.75)]]))
    scaled = trajectory_log_rewards(
        TOY,
        TOY_EDGE,
        torch.tensor([[A, C]]),
        torch.tensor([2]),
        END,
        scale=torch.tensor([2.0], dtype=torch.float64),
    )
    torch.testing.assert_close(scaled, torch.tensor([[-15.0, -15.0, math.log(0.25) / 2]]))


def test_subtb_matches_a_hand_computed_value():
    log_r = [-15.0, -15.0, math.log(0.75)]
    step = [math.log(0.5), math.log(0.25)]  # log P_F(a|s0), log P_F(b|s1)
    stop = [math.log(0.1), math.log(0.2), math.log(0.4)]  # log P_F(stop|s_i)
    d0 = log_r[0] + step[0] + stop[1] - log_r[1] - stop[0]
    d1 = log_r[1] + step[1] + stop[2] - log_r[2] - stop[1]
    tensors = [torch.tensor([v], dtype=torch.float64) for v in (step, stop, log_r)]
    lam1 = subtb_loss(*tensors, torch.tensor([2]), subtb_lambda=1.0)
    assert abs(lam1.item() - (d0**2 + d1**2 + (d0 + d1) ** 2) / 3) < 1e-9
    lam_half = subtb_loss(*tensors, torch.tensor([2]), subtb_lambda=0.5)
    assert abs(lam_half.item() - (d0**2 + d1**2 + 0.5 * (d0 + d1) ** 2) / 2.5) < 1e-9


def test_subtb_ignores_positions_after_the_end():
    rng = np.random.default_rng(0)
    step, stop, log_r = (torch.tensor(rng.normal(size=(1, n))) for n in (4, 5, 5))
    short = subtb_loss(step[:, :2], stop[:, :3], log_r[:, :3], torch.tensor([2]))
    padded = subtb_loss(step, stop, log_r, torch.tensor([2]))
    torch.testing.assert_close(short, padded)


def test_subtb_is_zero_when_the_policy_is_proportional_to_the_reward():
    # P_F(stop|s) * R ratios balance exactly: P_F(b|a)=.75, P_F(c|a)=.25, stop only at titles.
    log_r = torch.tensor([[-15.0, -15.0, math.log(0.75)]], dtype=torch.float64)
    stop = torch.tensor([[-15.0, -15.0, 0.0]], dtype=torch.float64)
    step = torch.tensor([[0.0, math.log(0.75)]], dtype=torch.float64)
    assert subtb_loss(step, stop, log_r, torch.tensor([2])).item() < 1e-12


def test_personal_scale_follows_the_logp_div_s_formula():
    scores = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])
    probs = np.exp(scores) / np.exp(scores).sum(1, keepdims=True)
    expected = [
        (probs[0, 2] - probs[0].mean()) / (probs[0].max() - probs[0].min()) + 1,
        (probs[1, 1] - probs[1].mean()) / (probs[1].max() - probs[1].min()) + 1,
    ]
    np.testing.assert_allclose(personal_scale(scores, np.array([2, 1])), expected)
