"""User models by name, for the fidelity suite: `build_user_model("learned" | "surrogate", ...)`.

Both fit on the split's training part and calibrate on its validation part; neither reads
`split.test`. In every `UserModel` call `users[r]` is a position in the dataset's sorted
training user keys (`user_keys(split)`); only the learned model's rating head reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recagora.agents.roles.base import ItemFacts
from recagora.agents.surrogate.choice_model import ChoiceModel, ChoiceModelConfig, fit_choice_model
from recagora.agents.surrogate.features import candidate_features, from_histories
from recagora.item_space.errors import ConfigError, did_you_mean
from recagora.item_space.types import Split

USER_MODELS = ("learned", "surrogate", "v0")  # v0 = surrogate, the first surrogate user


class UnknownUserModelError(ConfigError):
    """A user model name that `build_user_model` does not know."""


@dataclass
class SurrogateUserModel:
    """The v0 surrogate user (`agents/surrogate/choice_model.py`) as a `UserModel`.

    Choice: softmax(U / T) with the outside option; interest: P(item beats the outside
    option) = sigmoid((U - U_0) / T); shown a list: the learned user's list head
    (`learned_user/list_choice.py`) over those logits, fitted on validation lists by
    `build_user_model` (without one, each item is answered alone); no ratings.
    """

    facts: ItemFacts
    model: ChoiceModel
    name: str = "surrogate"
    list_head: Any = None

    def _scaled(self, histories: Sequence[Sequence[int]], candidates: np.ndarray) -> np.ndarray:
        x = candidate_features(self.facts, from_histories(self.facts, histories), candidates)
        return (self.model.utilities(x) - self.model.outside_utility) / self.model.temperature

    def choice_probabilities(self, users, histories, candidates: np.ndarray) -> np.ndarray:
        """(n, K); each row's remainder is the outside option."""
        u = self._scaled(histories, np.asarray(candidates, np.int64))
        top = np.maximum(u.max(axis=1, keepdims=True), 0.0)
        weight = np.exp(u - top)
        return weight / (weight.sum(axis=1, keepdims=True) + np.exp(-top))

    def interest_probabilities(self, users, histories, items: np.ndarray) -> np.ndarray:
        """(n,) P(yes) for items[r] shown alone."""
        u = self._scaled(histories, np.asarray(items, np.int64)[:, None])[:, 0]
        return 1.0 / (1.0 + np.exp(-u))

    def list_interest_probabilities(self, users, histories, lists: np.ndarray) -> np.ndarray:
        """(n, L) P(pick) of each item of the list each user is shown together."""
        u = self._scaled(histories, np.asarray(lists, np.int64))
        return 1.0 / (1.0 + np.exp(-u)) if self.list_head is None else self.list_head.probabilities(u)

    def rating_probabilities(self, users, histories, items, levels) -> None:
        """v0 does not rate."""
        return None


def user_keys(split: Split) -> tuple[str, ...]:
    """The sorted training user keys: `users[r]` of a UserModel call indexes this tuple."""
    return tuple(sorted(split.train_interactions.frame["user"].astype(str).unique()))


def item_facts(dataset: Any, split: Split) -> ItemFacts:
    """Item facts with TRAINING popularity; embeds the catalog (cached) when it has no vectors."""
    catalog = dataset.catalog
    if catalog.vectors is None:
        from recagora.item_space.space import ItemSpace

        catalog.vectors = ItemSpace.build(catalog).catalog.vectors
    return ItemFacts.from_catalog(catalog, split.train_interactions.item_counts(len(catalog)))


def build_user_model(
    name: str, dataset: Any, split: Split, seed: int = 0, facts: ItemFacts | None = None,
    show_progress: bool = True, config: Any = None, on_progress: Any = None,
) -> Any:
    """A fitted `UserModel` by name: "learned", or "surrogate" / "v0".

    on_progress: (str) -> None, told what a learned fit is doing (instead of its own bar).

    Raises:
        UnknownUserModelError: an unknown name (one line, with the closest name).
    """
    if name not in USER_MODELS:
        raise UnknownUserModelError(
            f"unknown user model {name!r}{did_you_mean(name, USER_MODELS)}; user models: {', '.join(USER_MODELS)}"
        )
    facts = facts or item_facts(dataset, split)
    if name == "learned":
        from recagora.agents.learned_user.fit import fit_learned_user

        return fit_learned_user(facts, split, seed, config, show_progress, on_progress=on_progress)
    model = fit_choice_model(facts, split.train, split.valid, config or ChoiceModelConfig(seed=seed))
    user = SurrogateUserModel(facts, model, name=name)
    user.list_head = _surrogate_list_head(user, split, seed)
    return user


def _surrogate_list_head(user: SurrogateUserModel, split: Split, seed: int) -> Any:
    """v0's list head, fitted as the learned user's on validation lists (seconds); None
    without validation samples."""
    from recagora.agents.learned_user.fit import calibration_samples
    from recagora.agents.learned_user.list_choice import fit_validation_list_head
    from recagora.agents.learned_user.model import LearnedUserConfig

    if not split.valid:
        return None
    samples, seen = calibration_samples(split.valid, LearnedUserConfig(), seed)
    return fit_validation_list_head(user._scaled, samples, seen, len(user.facts), seed)
