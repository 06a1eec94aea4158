"""The rating head's grid search: a penalty that cannot win stops early, and the pick is unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recagora.agents.learned_user import rating
from recagora.agents.learned_user.rating import RatingConfig, fit_rating_head


def test_out_of_reach_extrapolates_the_recent_rate_to_the_step_cap():
    config = RatingConfig(patience=2, max_epochs=10)
    losses = [2.0, 1.99, 1.98]  # -0.01 a step; 7 steps left: at best 1.91
    assert rating._out_of_reach(losses, 1.90, config)
    assert not rating._out_of_reach(losses, 1.92, config)
    assert not rating._out_of_reach(losses, None, config)  # the first entry always runs
    assert not rating._out_of_reach(losses[:2], 1.0, config)  # no rate yet
    assert not rating._out_of_reach([2.0, 1.99, 1.5], 1.6, config)  # already below


@pytest.fixture(scope="module")
def ratings(ml100k_split):
    """100 real ML-100K users' ratings and training histories."""
    dataset, _ = ml100k_split
    frame = dataset.interactions.frame
    frame = frame[frame["user"].isin(sorted(frame["user"].unique())[:100])]
    ordered = frame.sort_values(["user", "timestamp"], kind="stable")
    histories = {str(u): g.tolist() for u, g in ordered.groupby("user", sort=False)["item"]}
    args = (frame["user"].astype(str).to_numpy(), frame["item"].to_numpy(), frame["rating"].to_numpy(np.float64))
    return args, histories, len(dataset.catalog)


def test_a_losing_penalty_stops_early_and_the_pick_is_the_same(ratings, monkeypatch):
    (users, items, values), histories, n_items = ratings
    config = RatingConfig(dim=8, l2_grid=(0.05, 1.0), max_epochs=100)  # 1.0: far too strong
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # as the fit runs in `fit._cached`; several threads spin on a busy machine
    try:
        pruned = fit_rating_head(users, items, values, histories, n_items, config, seed=0)
        monkeypatch.setattr(rating, "_out_of_reach", lambda *args: False)
        full = fit_rating_head(users, items, values, histories, n_items, config, seed=0)
    finally:
        torch.set_num_threads(previous)
    assert pruned.log["grid"][1]["steps"] < full.log["grid"][1]["steps"]
    assert pruned.log["l2"] == full.log["l2"] == 0.05
    assert pruned.log["best_epoch"] == full.log["best_epoch"]
    some = (users[:50].tolist(), [histories[u] for u in users[:50]], items[:50])
    np.testing.assert_allclose(pruned.probabilities(*some), full.probabilities(*some), atol=1e-6)


def _gathered_loss(model, histories, part, l2):
    """The loss written the plain way: every rating's rows gathered, all levels formed."""
    users, items, levels = (torch.as_tensor(np.asarray(x, np.int64)) for x in part)
    implicit = model.implicit_sum(rating._bags(histories))[users]
    z = model.latent(users, items, implicit)
    nll = -torch.log(model.distribution(z)[torch.arange(len(levels)), levels]).mean()
    rows = (model.user(users), model.item(items), implicit, model.user_bias(users), model.item_bias(items))
    return nll + l2 * sum(r.pow(2).sum(-1).mean() for r in rows)


@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_the_sparse_loss_is_the_gathered_loss_with_the_same_gradients(l2):
    torch.manual_seed(0)
    model = rating.OrdinalSVDpp(n_users=30, n_items=40, n_levels=5, dim=6)
    for table in (model.user, model.item, model.implicit, model.user_bias, model.item_bias):
        torch.nn.init.normal_(table.weight, std=0.3)  # away from 0, so every term matters
    rng = np.random.default_rng(0)
    histories = [rng.integers(0, 40, rng.integers(0, 8)).tolist() for _ in range(30)] + [[]]
    part = (rng.integers(0, 30, 600), rng.integers(0, 40, 600), rng.integers(0, 5, 600))
    batch = rating._Ratings(part, 30, 40)
    assert batch.by_user._nnz() < 600  # repeated (user, item) pairs are in the test
    sparse = rating._loss(model, rating._bag_matrices(rating._bags(histories), 40), batch, l2)
    plain = _gathered_loss(model, histories, part, l2)
    params = list(model.parameters())
    for got, want in zip(torch.autograd.grad(sparse, params), torch.autograd.grad(plain, params), strict=True):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5)
    assert sparse.item() == pytest.approx(plain.item(), rel=1e-6)


def test_rows_sharing_a_history_object_score_as_rows_with_copies():
    torch.manual_seed(0)
    model = rating.OrdinalSVDpp(n_users=3, n_items=10, n_levels=5, dim=4)
    for table in (model.user, model.item, model.implicit, model.user_bias, model.item_bias):
        torch.nn.init.normal_(table.weight, std=0.5)
    head = rating.RatingHead(model.eval(), {"a": 0, "b": 1, "c": 2}, np.arange(1.0, 6.0), {})
    shared = [[1, 2, 3], (4,), []]
    keys, rows = ["a", "b", "a", "c", None, "b"], [0, 1, 0, 2, 0, 1]
    items = np.array([5, 6, 7, 8, 9, 0])
    once = head.probabilities(keys, [shared[r] for r in rows], items)
    copies = head.probabilities(keys, [list(shared[r]) for r in rows], items)
    np.testing.assert_array_equal(once, copies)
    assert not np.allclose(once[0], once[2])  # same user and history, other item
