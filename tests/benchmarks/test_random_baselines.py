"""The closed-form chance levels of `benchmarks/random_baselines.py` against seeded draws."""

import importlib.util
import sys
from pathlib import Path

import pytest

from recagora.item_space.metrics import hit_rate_at_k, mrr_at_k, ndcg_at_k

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "random_baselines.py"


@pytest.fixture(scope="module")
def baselines():
    spec = importlib.util.spec_from_file_location("random_baselines", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_expected_ndcg_at_5_of_10_candidates_is_the_readme_chance_level(baselines):
    # (1 + 1/log2 3 + 1/2 + 1/log2 5 + 1/log2 6) / 10
    assert baselines.expected_ndcg(5, 10) == pytest.approx(0.29485, abs=1e-5)
    assert baselines.expected_hr(5, 10) == 0.5
    assert baselines.expected_ndcg(10, 3) == pytest.approx((1 + 1 / 1.5849625 + 0.5) / 3, 1e-6)


@pytest.mark.parametrize("k", [1, 3, 5, 10])
def test_closed_form_matches_seeded_random_orders(baselines, k):
    for metric, closed in (
        (ndcg_at_k, baselines.expected_ndcg),
        (hit_rate_at_k, baselines.expected_hr),
        (mrr_at_k, baselines.expected_mrr),
    ):
        drawn = baselines.drawn_metric(metric, k, 20_000, 10, 5, seed=1).mean()
        assert drawn == pytest.approx(closed(k, 10), abs=0.005)
