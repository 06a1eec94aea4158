"""The scenario's vectorised item utility equals the metrics library's definition."""

from __future__ import annotations

import numpy as np

from recagora.environments.trirec.metrics import slate_exposure, slot_utility
from recagora.item_space.metrics.utility import item_utility


def test_vectorised_slot_utility_matches_item_space_metric():
    rng = np.random.default_rng(0)
    items = rng.normal(size=(50, 8)).astype(np.float32)
    items[3] = 0.0  # an item without a vector gets TriRec's fallback CTR
    users = rng.normal(size=(20, 8))
    users[5] = 0.0  # so does a user without a vector
    slates = np.stack([rng.permutation(50)[:10] for _ in range(20)])
    slates[7] = slates[7, 0]  # all-equal cosines: tau falls back to 0.5
    np.testing.assert_allclose(
        slot_utility(slates, users, items), item_utility(slates, users, items), rtol=1e-6
    )


def test_slate_exposure_weights_positions_by_log_discount():
    exposure = slate_exposure(np.array([[2, 0], [0, 1]]), n_items=3)
    np.testing.assert_allclose(exposure, [1.0 + 1 / np.log2(3), 1 / np.log2(3), 1.0])
