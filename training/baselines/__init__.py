"""Classic recommenders the generative policies are compared with: popularity and SASRec.

Both implement `recagora.item_space.recommender.Recommender` and add batch scoring
(`score_batch(histories) -> (U, N)`, `rank_batch(histories, k) -> (U, k)`).
"""

from recagora.training.baselines.popularity import PopularityRecommender
from recagora.training.baselines.sasrec import SASRecConfig, SASRecRecommender, SASRecTrainResult

__all__ = ["PopularityRecommender", "SASRecConfig", "SASRecRecommender", "SASRecTrainResult"]
