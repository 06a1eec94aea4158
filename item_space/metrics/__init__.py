"""Metrics over ranked lists (floor 1): accuracy, popularity fairness, diversity, utility.

Plain functions over numpy arrays; each module's docstring gives the definitions and the
paper they follow. Ranked lists are (n, L) int64 dense item ids, -1 padding.
"""

from recagora.item_space.metrics.accuracy import (
    accuracy_report,
    hit_rate_at_k,
    mrr_at_k,
    ndcg_at_k,
    per_user_hit_rate_at_k,
    per_user_mrr_at_k,
    per_user_ndcg_at_k,
    per_user_recall_at_k,
    recall_at_k,
)
from recagora.item_space.metrics.diversity import (
    distinct_items,
    entropy,
    intra_list_diversity,
    per_list_ild,
    type_token_ratio,
)
from recagora.item_space.metrics.fairness import (
    GroupUnfairness,
    coverage,
    dgu_mgu_flower,
    dgu_mgu_trirec,
    exposure_counts,
    exposure_gini,
    recommended_group_share,
    tail_share,
)
from recagora.item_space.metrics.fidelity import (
    choice_reliability,
    expected_calibration_error,
    js_divergence,
    mean_log_likelihood,
    ndcg_of_positive,
    popularity_group_jsd,
    top1_accuracy,
)
from recagora.item_space.metrics.utility import (
    ctr_probabilities,
    eiu,
    item_utility,
    per_user_eiu,
    position_weights,
    target_eiu,
    user_vectors_from_histories,
)

__all__ = [
    "GroupUnfairness",
    "accuracy_report",
    "choice_reliability",
    "coverage",
    "ctr_probabilities",
    "dgu_mgu_flower",
    "dgu_mgu_trirec",
    "distinct_items",
    "eiu",
    "entropy",
    "expected_calibration_error",
    "exposure_counts",
    "exposure_gini",
    "hit_rate_at_k",
    "intra_list_diversity",
    "item_utility",
    "js_divergence",
    "mean_log_likelihood",
    "mrr_at_k",
    "ndcg_at_k",
    "ndcg_of_positive",
    "per_list_ild",
    "per_user_eiu",
    "per_user_hit_rate_at_k",
    "per_user_mrr_at_k",
    "per_user_ndcg_at_k",
    "per_user_recall_at_k",
    "popularity_group_jsd",
    "position_weights",
    "recall_at_k",
    "recommended_group_share",
    "tail_share",
    "target_eiu",
    "top1_accuracy",
    "type_token_ratio",
    "user_vectors_from_histories",
]
