"""The learned user shown a LIST: which of these items would you watch? (Agent4Rec's protocol)

Agent4Rec (Zhang et al., SIGIR 2024) shows each simulated user its held-out items mixed with
never-seen ones at 1:m in ONE list and asks which it would pick. A user shown a list compares
what is on it; so the learned user answers from a choice model over the list, not item by item:

    s_i = exp(z_i) / (exp(z_0) + sum_{j in list} exp(z_j))            (conditional logit, with an
                                                                       outside option z_0: "none")
    P(pick i | list) = sigmoid(a log s_i + c log(1 - s_i) + b)

- z_i: the user's yes/no logit for item i alone (the interest head of `model.py`), the utility
  the list choice compares (McFadden, 1974): the item beats the others and "none of these";
- (z_0, a, c, b): fitted by maximum likelihood of the picks on VALIDATION lists built exactly
  as the fidelity suite builds its test lists (the calibration target + m never-seen items
  drawn uniformly, 1:1, 1:3 and 1:9 mixed, shown in a seeded random order), one head for all
  ratios: the share s_i already knows how long the list is, so no ratio needs a knob of its
  own. (a, c, b) = (1, -1, 0) makes P(pick i) = s_i (the user picks at most one item);
  the fit may say otherwise.
Nothing is fitted on test data: the lists come from `fit.calibration_samples` (validation
targets; negatives avoid the sample's history and target only: the fit never reads the test
split, so a user's test item can be drawn as a "never-seen" item exactly as any other).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from recagora.item_space.fidelity.heldout import sample_negatives, with_positive
from recagora.item_space.types import Sample

LIST_RATIOS = (1, 3, 9)  # the list lengths the head is fitted on (Agent4Rec's 1:1, 1:3, 1:9)


@dataclass(frozen=True)
class ListChoiceConfig:
    """How the list head is fitted."""

    ratios: tuple[int, ...] = field(default=LIST_RATIOS, metadata={"help": "Never-seen items per target in the validation lists (1:m), all fitted by one head."})
    l2: float = field(default=1e-4, metadata={"help": "L2 penalty on (a, c, b) towards the share itself (1, -1, 0)."})


@dataclass(frozen=True)
class ListHead:
    """P(pick i | list) = sigmoid(a log s_i + c log(1 - s_i) + b), s_i the list share of z_i
    against the others and the outside utility z_0 (see the module docstring)."""

    outside: float
    a: float
    c: float
    b: float

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """(n, L) P(pick) of each item of each list from its (n, L) alone logits z."""
        params = torch.tensor([self.outside, self.a, self.c, self.b], dtype=torch.float64)
        with torch.no_grad():
            return torch.sigmoid(_pick_logits(params, torch.from_numpy(np.array(z, np.float64)))).numpy()

    def as_dict(self) -> dict:
        return {"outside": round(self.outside, 4), "a": round(self.a, 4), "c": round(self.c, 4), "b": round(self.b, 4)}


def _pick_logits(params: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """(n, L) logit of P(pick): a log s + c log(1 - s) + b, both logs computed stably."""
    outside, a, c, b = params
    every = torch.cat([z, outside.expand(len(z), 1)], dim=1)
    total = torch.logsumexp(every, dim=1, keepdim=True)
    log_share = z - total
    # log(1 - s_i) = log(sum of the other items and the outside option) - total
    others = every[:, None, :].expand(-1, z.shape[1], -1).clone()
    others[:, torch.arange(z.shape[1]), torch.arange(z.shape[1])] = -torch.inf
    log_rest = torch.logsumexp(others, dim=2) - total
    return a * log_share + c * log_rest + b


@dataclass(frozen=True)
class ValidationLists:
    """The suite's lists, on validation. items: (S, 1 + max m), column 0 the calibration target,
    then one uniform draw of never-seen items; shown: ratio m -> ((S, m+1) columns of `items`
    in the order shown, (S,) the position of the target in it)."""

    items: np.ndarray
    shown: dict[int, tuple[np.ndarray, np.ndarray]]

    def lists(self, m: int) -> np.ndarray:
        """(S, m+1) items of the 1:m lists, in the order shown."""
        return np.take_along_axis(self.items, self.shown[m][0], axis=1)


def validation_lists(
    targets: np.ndarray, seen: Sequence[frozenset[int]], n_items: int, ratios: Sequence[int], rng: np.random.Generator
) -> ValidationLists:
    """Each target with the first m of one uniform draw of never-seen items (not in `seen`),
    shown in a seeded random order: the suite's construction (`build_protocols`), on validation."""
    unseen = sample_negatives(np.ones(n_items), seen, max(ratios), rng, f"validation lists at 1:{max(ratios)}")
    columns = np.tile(np.arange(1, max(ratios) + 1), (len(targets), 1))
    shown = {m: with_positive(columns[:, :m], np.zeros(len(targets), np.int64), rng) for m in ratios}
    return ValidationLists(np.column_stack([targets, unseen]), shown)


def fit_validation_list_head(
    alone_logits: Callable[[list[Sequence[int]], np.ndarray], np.ndarray],
    samples: Sequence[Sample],
    seen: Sequence[frozenset[int]],
    n_items: int,
    seed: int,
    config: ListChoiceConfig | None = None,
) -> ListHead:
    """A user model's list head, fitted on validation lists of its calibration samples.

    alone_logits(histories, (S, L) items) -> (S, L) the interest head's logits.
    """
    config = config or ListChoiceConfig()
    targets = np.array([s.target for s in samples], np.int64)
    lists = validation_lists(targets, seen, n_items, config.ratios, np.random.default_rng([seed, 3]))
    z = alone_logits([s.history for s in samples], lists.items)
    return fit_list_head(
        {m: (np.take_along_axis(z, columns, axis=1), columns == 0) for m, (columns, _) in lists.shown.items()},
        config,
    )


def fit_list_head(z_of: dict[int, tuple[np.ndarray, np.ndarray]], config: ListChoiceConfig) -> ListHead:
    """The head maximising the mean Bernoulli log-likelihood of the picks.

    z_of: ratio -> ((S, m+1) alone logits of the shown items, (S, m+1) picks: 1 = picked).
    Each ratio weighs the same in total (its items share it), so the 10-item lists do not
    drown the 2-item ones the headline reads.
    """
    batches = [
        (torch.from_numpy(np.array(z, np.float64)), torch.from_numpy(np.array(picks, np.float64)))
        for z, picks in z_of.values()
    ]
    prior = torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64)
    params = torch.tensor([0.0, 1.0, -1.0, 0.0], dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([params], max_iter=500, tolerance_grad=1e-9, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = sum(
            torch.nn.functional.binary_cross_entropy_with_logits(_pick_logits(params, z), y)
            for z, y in batches
        ) / len(batches)
        loss = loss + config.l2 * ((params[1:] - prior) ** 2).sum()
        loss.backward()
        return loss

    optimiser.step(closure)
    outside, a, c, b = params.detach().tolist()
    return ListHead(outside, a, c, b)
