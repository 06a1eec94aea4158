"""MindRec's masking schedule and loss against hand-worked numbers."""

from __future__ import annotations

import math

import pytest
import torch

from recagora.item_space.errors import ConfigError
from recagora.training.mindrec.config import MindRecConfig
from recagora.training.mindrec.masking import diffusion_loss_sum, mask_answers, mask_ratio


def test_mask_ratio_is_eps_at_t0_and_one_at_t1():
    t = torch.tensor([0.0, 0.5, 1.0])
    assert mask_ratio(t, 0.4).tolist() == pytest.approx([0.4, 0.7, 1.0])


def test_each_row_draws_t_then_its_uniforms_from_its_own_seed():
    answer = torch.tensor([[3, 4, 5], [6, 7, 8]])
    noisy, masked, p = mask_answers(answer, [11, 12], eps=0.5, mask_id=99)
    for row, seed in enumerate([11, 12]):
        draws = torch.rand(4, generator=torch.Generator().manual_seed(seed))
        assert p[row].item() == pytest.approx(0.5 * draws[0].item() + 0.5)
        assert masked[row].tolist() == (draws[1:] < p[row]).tolist()
    assert torch.equal(noisy, torch.where(masked, 99, answer))
    again = mask_answers(answer[1:], [12], eps=0.5, mask_id=99)  # batch-independent
    assert torch.equal(again[1][0], masked[1])


def test_the_mean_mask_share_follows_the_schedule():
    answer = torch.zeros((4000, 6), dtype=torch.long)
    _, masked, p = mask_answers(answer, range(4000), eps=0.6, mask_id=1)
    assert p.min() >= 0.6 and p.max() <= 1.0
    assert masked.float().mean().item() == pytest.approx(0.6 + 0.4 * 0.5, abs=0.01)


def test_loss_weights_masked_cross_entropy_by_one_over_p_and_answer_length():
    # Sample 0: slot 0 masked, logits (0, ln 3) for the true token 1: CE = ln(4/3), p = 0.5.
    # Sample 1: both slots masked, uniform logits: CE = ln 2 each, p = 0.8.
    # Sum = ln(4/3) / 0.5 / 2 + 2 ln 2 / 0.8 / 2 = ln(4/3) + 1.25 ln 2.
    logits = torch.zeros((2, 2, 2))
    logits[0, 0, 1] = math.log(3.0)
    answer = torch.tensor([[1, 0], [0, 1]])
    masked = torch.tensor([[True, False], [True, True]])
    loss = diffusion_loss_sum(logits, answer, masked, torch.tensor([0.5, 0.8]))
    assert loss.item() == pytest.approx(math.log(4 / 3) + 1.25 * math.log(2))


def test_unmasked_tokens_carry_no_loss():
    logits = torch.randn((1, 3, 5))
    loss = diffusion_loss_sum(
        logits,
        torch.tensor([[1, 2, 3]]),
        torch.zeros((1, 3), dtype=torch.bool),
        torch.tensor([0.9]),
    )
    assert loss.item() == 0.0


@pytest.mark.parametrize("eps", [1.0, -0.1, 1.5])
def test_eps_outside_zero_one_is_refused(eps):
    with pytest.raises(ConfigError, match=r"eps .* must be in \[0, 1\)"):
        MindRecConfig(eps=eps)
