"""The learned user's rating head: an ordinal SVD++ that gives a distribution over rating levels.

Latent preference (SVD++, Koren, KDD 2008: a user's factors plus the normalised sum of
implicit factors of the items in their history):

    z(u, i) = b_u + b_i + q_i . (p_u + |H_u|^-1/2 sum_{j in H_u} y_j)

and the rating is ordinal (OrdRec, Koren & Sill, RecSys 2011; the cumulative-logit model
of McCullagh, 1980): P(r <= level_l) = sigmoid(theta_l - z), theta increasing, so every
(user, item) has a full distribution over the levels, not a point. Trained on the
training ratings by likelihood (full batch, Adam; z of all rated pairs as one sparse
sampled product of the tables, see `_loss`); the L2 penalty (from a small grid)
and the number of epochs are picked on a seeded 10% of them held out, then the model is
refitted on all of them with that penalty for that many epochs. A grid entry stops early
once it cannot win: when even its current rate of improvement, kept up to the step cap,
would leave its held-out loss above the best earlier entry's (a learning-curve cut-off as
in Hyperband-style searches; on convex, flattening curves it never drops the winner). On
ML-100K the strongest penalty otherwise ran all 400 steps to lose, half of each fit. A user unseen in training keeps p_u = b_u = 0 and is read through their history.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class RatingConfig:
    """Size, regularisation and budget of the rating head."""

    dim: int = field(default=32, metadata={"help": "Factor dimension."})
    l2_grid: tuple[float, ...] = field(
        default=(0.02, 0.05, 0.1),
        metadata={"help": "L2 penalties on the factors and biases each rating uses; the one with the best held-out likelihood is kept."},
    )
    lr: float = field(default=0.02, metadata={"help": "Adam learning rate (full batch)."})
    max_epochs: int = field(default=400, metadata={"help": "Most full-batch steps."})
    patience: int = field(default=20, metadata={"help": "Steps without a better held-out loss before stopping."})


class OrdinalSVDpp(nn.Module):
    """z(u, i) and the cumulative-logit distribution over `n_levels` rating levels."""

    def __init__(self, n_users: int, n_items: int, n_levels: int, dim: int) -> None:
        super().__init__()
        self.user_bias = nn.Embedding(n_users + 1, 1)  # row n_users: unknown user (kept 0)
        self.item_bias = nn.Embedding(n_items, 1)
        self.user = nn.Embedding(n_users + 1, dim)
        self.item = nn.Embedding(n_items, dim)
        self.implicit = nn.EmbeddingBag(n_items, dim, mode="sum")
        self.cut0 = nn.Parameter(torch.tensor(-2.0))
        self.steps = nn.Parameter(torch.zeros(n_levels - 2))
        for table in (self.user, self.item, self.implicit):
            nn.init.normal_(table.weight, std=0.01)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)

    def thresholds(self) -> torch.Tensor:
        """(L-1,) increasing cut points theta."""
        return torch.cat([self.cut0[None], self.cut0 + torch.cumsum(F.softplus(self.steps) + 0.1, 0)])

    def implicit_sum(self, bags: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """(n, d) |H|^-1/2 sum_{j in H} y_j of each bag (see `_bags`)."""
        items, offsets, weights = bags
        return self.implicit(items, offsets, per_sample_weights=weights)

    def latent(self, users, items, implicit: torch.Tensor) -> torch.Tensor:
        """(n,) z of rows (users[r], items[r]) with each row's implicit sum (n, d)."""
        user = self.user(users) + implicit
        return (self.user_bias(users) + self.item_bias(items)).squeeze(-1) + (user * self.item(items)).sum(-1)

    def distribution(self, z: torch.Tensor) -> torch.Tensor:
        """(n, L) level probabilities from (n,) latent z."""
        cumulative = torch.sigmoid(self.thresholds()[None] - z[:, None])
        ones, zeros = torch.ones_like(z)[:, None], torch.zeros_like(z)[:, None]
        upper = torch.cat([cumulative, ones], 1)
        lower = torch.cat([zeros, cumulative], 1)
        return (upper - lower).clamp_min(1e-9)


def _bags(histories: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """EmbeddingBag inputs with weights |H|^-1/2 (an empty history gives an empty bag)."""
    lengths = np.array([len(h) for h in histories], np.int64)
    flat = np.concatenate([np.zeros(0, np.int64), *(np.asarray(h, np.int64).reshape(-1) for h in histories)])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    weights = np.repeat(1.0 / np.sqrt(np.maximum(lengths, 1)), lengths).astype(np.float32)
    return torch.from_numpy(flat), torch.from_numpy(offsets), torch.from_numpy(weights)


@dataclass
class RatingHead:
    """A fitted ordinal SVD++ and the tables that map users and levels to its rows."""

    model: OrdinalSVDpp
    user_row: dict[str, int]
    levels: np.ndarray  # (L,) float64 sorted rating levels
    log: dict

    @torch.no_grad()
    def probabilities(self, user_keys: Sequence[str | None], histories, items: np.ndarray) -> np.ndarray:
        """(n, L) float64 P(level) of user r rating items[r] (training-history bags)."""
        unknown = len(self.user_row)
        users = torch.as_tensor([self.user_row.get(k, unknown) if k is not None else unknown for k in user_keys])
        # one bag per distinct history object: a user's rows usually share theirs (20,000
        # rows of an ML-100K fold, 943 histories)
        bag_of: dict[int, int] = {}
        rows = torch.as_tensor([bag_of.setdefault(id(h), len(bag_of)) for h in histories], dtype=torch.int64)
        distinct = list({id(h): h for h in histories}.values())
        implicit = self.model.implicit_sum(_bags(distinct))[rows]
        z = self.model.latent(users, torch.as_tensor(np.array(items, np.int64)), implicit)
        return self.model.distribution(z).double().numpy()


def fit_rating_head(
    users: np.ndarray, items: np.ndarray, ratings: np.ndarray, histories: dict[str, list[int]],
    n_items: int, config: RatingConfig, seed: int,
) -> RatingHead:
    """Fit on (user key, item, rating) triples; histories: each user's training items (implicit part)."""
    levels = np.unique(ratings)
    user_row = {key: row for row, key in enumerate(sorted(histories))}
    rows = np.array([user_row[u] for u in users], np.int64)
    level_index = np.searchsorted(levels, ratings)
    held = np.random.default_rng(seed).random(len(rows)) < 0.1
    fit_part = (rows[~held], items[~held], level_index[~held])
    held_part = (rows[held], items[held], level_index[held])
    logs = []
    for l2 in config.l2_grid:
        beat = min((entry["held_out_nll"] for entry in logs), default=None)
        logs.append(_fit(user_row, histories, n_items, len(levels), fit_part, held_part, config, l2, seed, None, beat)[1])
    log = min(logs, key=lambda entry: entry["held_out_nll"])
    model, _ = _fit(user_row, histories, n_items, len(levels), (rows, items, level_index), None, config,
                    log["l2"], seed, log["best_epoch"])
    return RatingHead(model, user_row, levels.astype(np.float64), {**log, "grid": logs})


def _fit(user_row, histories, n_items, n_levels, train, held, config, l2, seed, epochs, beat=None):
    """Full-batch Adam on the ordinal likelihood; early stop on `held` (or run `epochs` steps);
    beat: the best held-out loss of an earlier grid entry (stop once it is out of reach)."""
    torch.manual_seed(seed)
    model = OrdinalSVDpp(len(user_row), n_items, n_levels, config.dim)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    bags = _bag_matrices(_bags([histories[key] for key in sorted(user_row, key=user_row.get)] + [[]]), n_items)
    tensors = [_Ratings(part, len(user_row), n_items) for part in (train, held) if part is not None]
    best, best_epoch, losses = np.inf, 0, []
    for epoch in range(epochs or config.max_epochs):
        loss = _loss(model, bags, tensors[0], l2=l2)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if held is None:
            continue
        with torch.no_grad():
            held_loss = float(_loss(model, bags, tensors[1], l2=0.0))
        losses.append(held_loss)
        if held_loss < best:
            best, best_epoch = held_loss, epoch + 1
        if epoch + 1 - best_epoch >= config.patience or _out_of_reach(losses, beat, config):
            break
    return model.eval(), {"l2": l2, "best_epoch": max(best_epoch, 1), "held_out_nll": round(best, 5) if losses else None,
                          "steps": len(losses)}


def _out_of_reach(losses: list[float], beat: float | None, config: RatingConfig) -> bool:
    """True when the held-out loss, improving at its rate over the last `patience` steps until
    `max_epochs`, would still not get below `beat`."""
    if beat is None or len(losses) <= config.patience or losses[-1] <= beat:
        return False
    rate = (losses[-1] - losses[-1 - config.patience]) / config.patience  # < 0 while improving
    return losses[-1] + rate * (config.max_epochs - len(losses)) > beat


class _Ratings:
    """One fixed set of ratings as sparse (user, item) patterns, built once per fit.

    The latent z of every distinct (user, item) pair is a sampled dense-dense product (SDDMM)
    of the user and item tables, and its gradient two sparse-dense products: no (n, d) rows
    are gathered or scattered (on ML-100K's 78k ratings a step went from 19 ms to a few)."""

    def __init__(self, part, n_users: int, n_items: int) -> None:
        rows, items, level_index = part
        users, items = torch.from_numpy(rows), torch.from_numpy(np.array(items, np.int64))
        pairs, self.pair_of = torch.unique(users * n_items + items, return_inverse=True)  # sorted
        pair_users, pair_items = pairs // n_items, pairs % n_items
        self.by_user = _csr(pair_users, pair_items, torch.ones(len(pairs)), (n_users + 1, n_items))
        self.by_item = _Transposed(pair_items, pair_users, (n_items, n_users + 1))
        self.levels = torch.from_numpy(level_index)
        self.user_share = torch.bincount(users, minlength=n_users + 1).float() / len(users)
        self.item_share = torch.bincount(items, minlength=n_items).float() / len(items)


class _Transposed:
    """The CSR pattern of (row, col) pairs given in another order; `matrix(values)` places
    values given in that order (the pairs' sorted order) in it."""

    def __init__(self, rows: torch.Tensor, cols: torch.Tensor, shape: tuple[int, int]) -> None:
        self.order = torch.argsort(rows * shape[1] + cols)
        self.crow = torch.cat([torch.zeros(1, dtype=torch.int64), torch.cumsum(torch.bincount(rows, minlength=shape[0]), 0)])
        self.cols, self.shape = cols[self.order], shape

    def matrix(self, values: torch.Tensor) -> torch.Tensor:
        return torch.sparse_csr_tensor(self.crow, self.cols, values[self.order], self.shape, check_invariants=False)


def _csr(rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():  # torch's one-time "CSR support is in beta" notice
        warnings.simplefilter("ignore", UserWarning)
        coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, shape, check_invariants=False)
        return coo.coalesce().to_sparse_csr()


class _PairLatent(torch.autograd.Function):
    """(pairs,) rows of `users` dotted with rows of `items` at the batch's (user, item) pairs."""

    @staticmethod
    def forward(ctx, users: torch.Tensor, items: torch.Tensor, batch: _Ratings) -> torch.Tensor:
        ctx.save_for_backward(users, items)
        ctx.batch = batch
        return torch.sparse.sampled_addmm(batch.by_user, users, items.t(), beta=0.0).values()

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        users, items = ctx.saved_tensors
        pattern = ctx.batch.by_user
        by_user = torch.sparse_csr_tensor(
            pattern.crow_indices(), pattern.col_indices(), grad, pattern.shape, check_invariants=False
        )
        return by_user @ items, ctx.batch.by_item.matrix(grad) @ users, None


class _BagSums(torch.autograd.Function):
    """(n_users + 1, d) weighted sums of table rows, `bags` @ table, and its gradient."""

    @staticmethod
    def forward(ctx, table: torch.Tensor, bags) -> torch.Tensor:
        ctx.bags = bags
        return bags[0] @ table

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return ctx.bags[1] @ grad, None


def _bag_matrices(bags, n_items: int):
    """(`_bags` inputs) -> the (bags, items) CSR of |H|^-1/2 weights and its transpose."""
    items, offsets, weights = bags
    lengths = torch.diff(torch.cat([offsets, torch.tensor([len(items)])]))
    rows = torch.repeat_interleave(torch.arange(len(offsets)), lengths)
    return _csr(rows, items, weights, (len(offsets), n_items)), _csr(items, rows, weights, (n_items, len(offsets)))


def _loss(model: OrdinalSVDpp, bags, batch: _Ratings, l2: float) -> torch.Tensor:
    """Mean ordinal NLL (+ the per-rating L2): the same function as `latent` + `distribution`
    (z = b_u + b_i + q_i . (p_u + implicit_u) as one dot of [p_u + implicit_u, b_u, 1] and
    [q_i, 1, b_i]), formed per distinct pair and only at each rating's observed level."""
    implicit = _BagSums.apply(model.implicit.weight, bags)
    user = model.user.weight + implicit
    ones_u, ones_i = torch.ones(len(user), 1), torch.ones(len(model.item.weight), 1)
    users = torch.cat([user, model.user_bias.weight, ones_u], 1)
    items = torch.cat([model.item.weight, ones_i, model.item_bias.weight], 1)
    z = _PairLatent.apply(users, items, batch)[batch.pair_of]
    nll = -torch.log(_level_probability(model.thresholds(), z, batch.levels)).mean()
    if l2 == 0.0:
        return nll
    # per-rating penalty, as in SGD-trained SVD++: a user or item with many ratings is
    # regularised in proportion (Koren 2008, eq. 15). The mean over ratings of |row|^2 is
    # the tables' row norms weighted by each row's share of the ratings.
    user_norms = model.user.weight.pow(2).sum(-1) + implicit.pow(2).sum(-1) + model.user_bias.weight[:, 0].pow(2)
    item_norms = model.item.weight.pow(2).sum(-1) + model.item_bias.weight[:, 0].pow(2)
    return nll + l2 * ((batch.user_share * user_norms).sum() + (batch.item_share * item_norms).sum())


def _level_probability(thresholds: torch.Tensor, z: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """(n,) P(level = levels[r]) = sigmoid(theta_l - z) - sigmoid(theta_{l-1} - z), with
    theta_{-1} = -inf and theta_{L-1} = +inf (as `OrdinalSVDpp.distribution`, one column)."""
    inf = torch.tensor([torch.inf])
    cuts = torch.cat([-inf, thresholds, inf])
    upper, lower = cuts.index_select(0, levels + 1), cuts.index_select(0, levels)
    return (torch.sigmoid(upper - z) - torch.sigmoid(lower - z)).clamp_min(1e-9)
