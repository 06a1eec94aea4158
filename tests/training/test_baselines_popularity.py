"""PopularityRecommender against hand-counted rankings."""

import numpy as np
import pandas as pd
import pytest

from recagora.item_space.errors import DatasetError
from recagora.item_space.recommender import Recommender
from recagora.item_space.types import Interactions, Sample, UserHistory
from recagora.training.baselines import PopularityRecommender

# Targets 2, 0, 2, 3, 0, 2 over a catalog of 5 items -> counts [2, 0, 3, 1, 0].
SAMPLES = [
    Sample(user="a", history=(1,), target=2),
    Sample(user="a", history=(1, 2), target=0),
    Sample(user="b", history=(4,), target=2),
    Sample(user="b", history=(4, 2), target=3),
    Sample(user="c", history=(3,), target=0),
    Sample(user="c", history=(3, 0), target=2),
]


def test_counts_sample_targets_and_ranks_by_count_then_id():
    model = PopularityRecommender.from_samples(SAMPLES, n_items=5)
    assert model.counts.tolist() == [2, 0, 3, 1, 0]
    assert isinstance(model, Recommender)
    ranking = model.recommend(UserHistory(user="x", items=[]), k=5)
    # 2 (3), 0 (2), 3 (1), then the tie 1, 4 (0) broken by the smaller id.
    assert ranking.items.tolist() == [2, 0, 3, 1, 4]
    assert ranking.scores.tolist() == [3, 2, 1, 0, 0]


def test_exclude_history_and_candidates():
    model = PopularityRecommender.from_samples(SAMPLES, n_items=5, exclude_history=True)
    history = UserHistory(user="x", items=[2, 3])
    assert model.recommend(history, k=2).items.tolist() == [0, 1]
    # Candidates {1, 3, 4}: 3 is in the history, so 1 then 4 (tie by id); only 2 remain.
    assert model.recommend(history, k=3, candidates=[4, 3, 1]).items.tolist() == [1, 4]
    keep = PopularityRecommender.from_samples(SAMPLES, n_items=5)
    assert keep.recommend(history, k=3, candidates=[4, 3, 1]).items.tolist() == [3, 1, 4]


def test_batch_ranking_matches_single_recommendations():
    model = PopularityRecommender.from_samples(SAMPLES, n_items=5, exclude_history=True)
    histories = [[2], [0, 3], []]
    ranked = model.rank_batch(histories, k=3)
    assert ranked.tolist() == [[0, 3, 1], [2, 1, 4], [2, 0, 3]]
    assert model.score_batch(histories).shape == (3, 5)
    single = [model.recommend(h, 3).items.tolist() for h in histories]
    assert single == ranked.tolist()


def test_from_interactions_counts_rows():
    frame = pd.DataFrame(
        {"user": ["a", "a", "b"], "item": [1, 3, 3], "rating": np.nan, "timestamp": [1, 2, 1]}
    )
    model = PopularityRecommender.from_interactions(Interactions(frame), n_items=4)
    assert model.counts.tolist() == [0, 1, 0, 2]
    assert model.recommend([], 2).items.tolist() == [3, 1]


def test_bad_input_raises_one_line_errors():
    with pytest.raises(DatasetError, match="outside the catalog of 2 items"):
        PopularityRecommender.from_samples(SAMPLES, n_items=2)
    with pytest.raises(DatasetError, match="no training samples"):
        PopularityRecommender.from_samples([], n_items=5)
    with pytest.raises(DatasetError, match="counts"):
        PopularityRecommender(np.array([1, -1]))
