"""The learned user agent (`user=learned`): the v0 surrogate's dynamics over the learned utilities.

Score, respond and reflect are the surrogate's (`user_surrogate.py`: a 0-10 score from
the centred utility, a position-based examination model with one softmax choice against
the outside option, consumed items join the history, `satisfaction.py` decides who
leaves); only the utility differs: U of `agents/learned_user/model.py` (a SASRec encoder
over the user's current history, consumed items included, stacked with the surrogate's
features read through each candidate's promotion).
"""

from __future__ import annotations

import numpy as np

from recagora.agents.learned_user.model import LearnedUserModel
from recagora.agents.roles.base import ItemFacts, Promotions, UserCohort
from recagora.agents.roles.user_surrogate import (
    SurrogateUserAgent,
    SurrogateUserConfig,
    TextEmbedder,
)
from recagora.agents.surrogate.features import from_cohort


class LearnedUserAgent(SurrogateUserAgent):
    """A TriRec user whose utilities come from a fitted `LearnedUserModel`.

    Args:
        facts: catalog vectors, categories, training popularity.
        model: the fitted learned user (`agents.learned_user.fit.fit_learned_user`).
        embedder: embeds promotion texts; None = promotions are ignored.
    """

    name = "learned"

    def __init__(
        self,
        facts: ItemFacts,
        model: LearnedUserModel,
        embedder: TextEmbedder | None = None,
        config: SurrogateUserConfig | None = None,
    ) -> None:
        super().__init__(facts, model, embedder, config)  # model.temperature = 1, model.outside_utility

    def utilities(
        self, cohort: UserCohort, idx: np.ndarray, items: np.ndarray, promotions: Promotions
    ) -> np.ndarray:
        """(m, K) learned U of each user's `items` as perceived through their promotions."""
        histories = [cohort.histories[u] for u in idx.tolist()]
        return self.model.utilities(
            histories,
            items,
            from_cohort(cohort, idx),
            self._promotion_vectors(promotions),
            self.config.promotion_weight,
        )
