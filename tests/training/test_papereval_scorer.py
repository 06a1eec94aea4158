"""PaperEval scorer: losses against hand-computed values, learning, split, checkpoint."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from recagora.item_space.errors import ConfigError
from recagora.training.papereval.config import PaperScorerConfig
from recagora.training.papereval.losses import (
    listmle_loss,
    listnet_loss,
    mse_loss,
    progressive_listmle_loss,
    step_temperatures,
)
from recagora.training.papereval.ranking_metrics import (
    auroc,
    decision_report,
    graded_ndcg_at_k,
    random_order_baseline,
    ranking_report,
)
from recagora.training.papereval.trainer import PaperScorerTrainer, load_scorer, split_papers


def test_listmle_matches_hand_computation():
    scores, labels = torch.tensor([1.0, 2.0, 0.0]), torch.tensor([3.0, 1.0, 2.0])
    # True order by label: paper 0 (s=1), paper 2 (s=0), paper 1 (s=2).
    e = math.e
    expected = -(math.log(e / (e + 1 + e**2)) + math.log(1 / (1 + e**2)) + math.log(1.0))
    assert float(listmle_loss(scores, labels)) == pytest.approx(expected, rel=1e-6)
    # Temperature divides the scores.
    halved = -(math.log(e**2 / (e**2 + 1 + e**4)) + math.log(1 / (1 + e**4)))
    assert float(listmle_loss(scores, labels, temperature=0.5)) == pytest.approx(halved, rel=1e-6)


def test_temperatures_anneal_linearly_to_tau_min():
    assert step_temperatures(4, 1.0, 0.2).tolist() == pytest.approx([0.8, 0.6, 0.4, 0.2])


def test_progressive_listmle_sums_the_steps():
    scores = torch.tensor([[1.0, 0.5], [2.0, 0.1], [0.0, 0.3]])
    labels = torch.tensor([3.0, 1.0, 2.0])
    expected = listmle_loss(scores[:, 0], labels, 0.55) + listmle_loss(scores[:, 1], labels, 0.1)
    assert float(progressive_listmle_loss(scores, labels, 1.0, 0.1)) == pytest.approx(
        float(expected)
    )


def test_listnet_and_mse_are_zero_only_when_they_should_be():
    labels = torch.tensor([0.9, 0.1, 0.5])
    assert float(mse_loss(labels[:, None].repeat(1, 2), labels, 1.0, 0.1)) == 0.0
    assert float(
        listnet_loss(torch.log_softmax(labels, 0)[:, None], labels, 1.0, 1.0)
    ) == pytest.approx(0.0, abs=1e-6)
    assert float(listnet_loss(-labels[:, None], labels, 1.0, 1.0)) > 0.01


def test_graded_ndcg_hand_value_and_perfect_ranking():
    relevance = np.array([1.0, 0.0, 0.5])
    assert graded_ndcg_at_k(relevance, relevance, 3) == pytest.approx(1.0)
    # Predicted order 1, 2, 0: gains 0, 2^.5-1, 1 at discounts 1, 1/log2(3), 1/2.
    dcg = (2**0.5 - 1) / math.log2(3) + 1 / 2
    ideal = 1 + (2**0.5 - 1) / math.log2(3)
    assert graded_ndcg_at_k(np.array([0.0, 2.0, 1.0]), relevance, 3) == pytest.approx(dcg / ideal)
    report = ranking_report(relevance, relevance)
    assert report["spearman"] == pytest.approx(1.0) and report["kendall"] == pytest.approx(1.0)


def test_auroc_hand_value_ties_and_one_class():
    # Accepted papers score 0.9 and 0.3, rejected 0.8 and 0.1: 3 of the 4 pairs are in order.
    assert auroc(np.array([0.9, 0.8, 0.3, 0.1]), np.array([1, 0, 1, 0])) == pytest.approx(0.75)
    assert auroc(np.array([0.5, 0.5]), np.array([1, 0])) == pytest.approx(0.5)  # a tie is half
    assert np.isnan(auroc(np.array([0.2, 0.4]), np.array([1, 1])))


def test_decision_labels_add_auroc_and_ndcg_by_decision():
    scores, accepted = np.array([0.9, 0.8, 0.3, 0.1]), np.array([1.0, 0.0, 1.0, 0.0])
    report = ranking_report(scores, accepted)
    # Ranked 1, 0, 1, 0: DCG 1 + 1/log2(4); ideal 1 + 1/log2(3).
    assert report["ndcg@10"] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert report["auroc"] == pytest.approx(0.75)
    assert "auroc" not in ranking_report(scores, np.array([0.9, 0.0, 1.0, 0.5]))
    by_decision = decision_report(np.append(scores, 5.0), np.append(accepted, np.nan))
    assert by_decision["n"] == 4 and by_decision["auroc"] == pytest.approx(0.75)


def test_random_order_baseline_is_seeded_and_near_chance():
    relevance = np.linspace(0, 1, 200)
    small, large = random_order_baseline(relevance, 3), random_order_baseline(relevance, 300)
    assert small == random_order_baseline(relevance, 3)
    assert small != random_order_baseline(relevance, 3, seed=1)
    assert abs(large["spearman"]["mean"]) < 0.02 and large["spearman"]["sd"] > 0.03
    # Expected NDCG@10 of a random order is mean gain / mean ideal gain over the top 10.
    gains = 2**relevance - 1
    ideal = np.sort(gains)[::-1][:10] @ (1 / np.log2(np.arange(2, 12)))
    expected = gains.mean() * (1 / np.log2(np.arange(2, 12))).sum() / ideal
    assert large["ndcg@10"]["mean"] == pytest.approx(expected, abs=0.02)


def test_split_is_seeded_disjoint_and_complete():
    a, b = split_papers(100, 0.1, 0.2, seed=3), split_papers(100, 0.1, 0.2, seed=3)
    assert all(
        np.array_equal(x, y) for x, y in zip(vars(a).values(), vars(b).values(), strict=True)
    )
    together = np.concatenate([a.train, a.valid, a.test])
    assert sorted(together.tolist()) == list(range(100)) and (len(a.valid), len(a.test)) == (10, 20)
    assert not np.array_equal(split_papers(100, 0.1, 0.2, seed=4).test, a.test)


def _learnable_problem(n=120, d=16, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, d)).astype(np.float32)
    relevance = 1 / (1 + np.exp(-features[:, 0] - 0.5 * features[:, 1]))
    return features, relevance


@pytest.mark.parametrize("loss", ["listmle", "mse", "listnet"])
def test_training_lowers_loss_and_changes_parameters(loss):
    features, relevance = _learnable_problem()
    config = PaperScorerConfig(
        loss=loss, latent_steps=3, hidden_dim=32, list_size=30, lr=3e-3, dropout=0.0
    )
    trainer = PaperScorerTrainer(config, features, relevance)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    everything = np.arange(len(features))
    first = trainer.train_epoch(everything)
    for _ in range(25):
        last = trainer.train_epoch(everything)
    assert last < first
    changed = [k for k, v in trainer.model.state_dict().items() if not torch.equal(v, before[k])]
    assert "scorer.2.weight" in changed and "think.0.weight" in changed
    assert trainer.evaluate(everything)["spearman"] > 0.8


def test_fit_selects_on_valid_reports_test_and_round_trips(tmp_path):
    features, relevance = _learnable_problem()
    config = PaperScorerConfig(latent_steps=2, hidden_dim=16, epochs=5, list_size=20, seed=1)
    trainer = PaperScorerTrainer(config, features, relevance)
    result = trainer.fit(split_papers(len(features), 0.2, 0.2, seed=1))
    assert len(result.losses) == 5 and 0 <= result.best_epoch < 5
    assert set(result.test_metrics) >= {"ndcg@10", "ndcg@20", "spearman", "kendall"}
    trainer.save(tmp_path / "scorer.pt")
    loaded_config, model = load_scorer(tmp_path / "scorer.pt")
    assert loaded_config == config
    with torch.no_grad():
        assert np.allclose(
            model(torch.as_tensor(features))[:, -1].numpy(),
            trainer.predict(features=features),
            atol=1e-6,
        )


def test_same_seed_same_scores():
    features, relevance = _learnable_problem()
    config = PaperScorerConfig(latent_steps=2, hidden_dim=16, epochs=2, list_size=20)
    runs = [PaperScorerTrainer(config, features, relevance) for _ in range(2)]
    for trainer in runs:
        trainer.fit(split_papers(len(features), 0.2, 0.2, seed=0))
    assert np.array_equal(runs[0].predict(features=features), runs[1].predict(features=features))


def test_bad_config_is_one_line_error():
    with pytest.raises(ConfigError, match="did you mean 'listmle'"):
        PaperScorerConfig(loss="listmel")
    with pytest.raises(ConfigError, match="tau_min"):
        PaperScorerConfig(tau_min=2.0, tau_max=1.0)


def test_recagora_train_papereval_scorer_dispatches(tmp_path, capsys):
    """`recagora train papereval-scorer` trains the scorer and writes it to --output-dir."""
    from recagora.experiments.cli.main import main
    from recagora.item_space.datasets import shared_data_dir

    if not (shared_data_dir() / "iclr-openreview").exists():
        pytest.skip("shared iclr-openreview data not present")
    out = tmp_path / "scorer"
    code = main(["train", "papereval-scorer", "--backbone", "hashing", "--set", "epochs=1",
                 "--output-dir", str(out)])  # fmt: skip
    assert code == 0
    assert (out / "scorer.pt").is_file() and (out / "report.json").is_file()
    assert '"ndcg@10"' in capsys.readouterr().out


def test_rating_trained_scorer_is_scored_by_decision_on_a_decisions_only_export(tmp_path, capsys):
    """train-scorer reports AUROC by decision of its test papers; evaluate-scorer applies the
    scorer to an export without reviews (here a decisions-only view of the real ICLR 2017)."""
    from recagora.experiments.cli.main import main
    from recagora.item_space.papers import ICLR_FILES, shared_data_dir

    iclr = shared_data_dir() / "iclr-openreview"
    if not iclr.exists():
        pytest.skip("shared iclr-openreview data not present")
    out, view = tmp_path / "scorer", tmp_path / "decisions"
    view.mkdir()
    for name in (n for n in ICLR_FILES if n != "ICLR17_reviews.csv"):
        (view / name).symlink_to(iclr / name)
    assert main(["papereval", "train-scorer", "--backbone", "hashing", "--loss", "mse",
                 "--set", "epochs=2", "--out", str(out)]) == 0  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["labels"] == "rating" and report["test_by_decision"]["n"] == 98
    assert 0 <= report["test_by_decision"]["auroc"] <= 1 and "auroc" not in report["test"]
    capsys.readouterr()
    assert main(["papereval", "evaluate-scorer", "--scorer", str(out / "scorer.pt"),
                 "--submissions", str(view / "ICLR17_submissions.csv")]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert printed["labels_kind"] == "decision" and printed["by_decision"]["n"] == 489
    assert printed["labels"]["auroc"] == printed["by_decision"]["auroc"]
