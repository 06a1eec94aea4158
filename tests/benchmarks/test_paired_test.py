"""The exact McNemar test of `benchmarks/paired_test.py` on saved evaluation samples."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from recagora.item_space.types import Catalog, Item, Sample
from recagora.training.evaluation import evaluate_rankings, samples_path, write_report

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "paired_test.py"


@pytest.fixture(scope="module")
def paired():
    spec = importlib.util.spec_from_file_location("paired_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_readme_sft_vs_flower_counts_give_p_0_065(paired):
    # 2 hits only SFT, 9 only Flower: 2 * P(X <= 2 | n = 11, 1/2) = 2 * 67 / 2048
    assert paired.mcnemar_exact(2, 9) == pytest.approx(134 / 2048)
    assert paired.mcnemar_exact(0, 0) == 1.0


def _saved(folder: Path, ranked: np.ndarray, samples, catalog) -> Path:
    train = [Sample("t", (0, 0, 1, 1, 2, 3), 4)]
    report = evaluate_rankings(ranked, samples, catalog, train, n_groups=2)
    return samples_path(write_report(report, folder / "eval_test.json"))


def test_pairs_two_saved_sample_files_and_refuses_different_samples(paired, tmp_path):
    catalog = Catalog("toy", [Item(id=i, key=str(i), title=f"T{i}") for i in range(6)])
    samples = [Sample(f"u{i}", (5,), i % 4) for i in range(8)]
    a = np.array([[i % 4, 5] for i in range(4)] + [[5, 4]] * 4)  # hits rows 0-3 at rank 1
    b = np.array([[5, i % 4] for i in range(6)] + [[5, 4]] * 2)  # hits rows 0-5 at rank 2
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    file_a, file_b = (
        _saved(tmp_path / "a", a, samples, catalog),
        _saved(tmp_path / "b", b, samples, catalog),
    )
    result = paired.paired_from_files(file_a, file_b, k=2)
    assert (result.hits_a, result.hits_b, result.both, result.only_a, result.only_b) == (
        4,
        6,
        4,
        0,
        2,
    )
    assert result.p_value == pytest.approx(0.5)
    assert paired.paired_from_files(file_a, file_b, k=1).hits_b == 0  # rank 2 is no hit at k=1
    other = _saved(tmp_path, a[:4], samples[:4], catalog)
    with pytest.raises(SystemExit, match="hold different samples"):
        paired.paired_from_files(file_a, other, k=2)
