"""FLAME's list editor: simulated prompts, refusals, SFT and GRPO on a toy clinic."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from recagora.item_space.clinical.visits import ClinicalData, Visit
from recagora.item_space.errors import ConfigError
from recagora.training.flame_list import (
    FlameListConfig,
    ListEditor,
    World,
    _lines,
    evaluate,
    grpo_step,
    load_world,
    sft_epoch,
    training_profile,
)
from recagora.training.flame_list_data import (
    ADD,
    REMOVE,
    EditPrompt,
    error_profile,
    simulate_prompts,
)


def test_the_error_profile_counts_misses_and_extras_per_drug_and_per_list_length():
    profile = error_profile([(0, 2), (1,)], [{0, 1}, {1}], n_drugs=3)
    assert profile.by_length == {2: [(1, 1)], 1: [(0, 0)]}
    assert profile.miss.tolist() == [0, 1, 0] and profile.extra.tolist() == [0, 0, 1]


def test_simulated_prompts_follow_the_recipe_on_a_hand_example():
    # Every 2-drug visit misses one true drug and adds one extra; drug 0 is the one usually
    # missed, drug 3 the one usually added (weights + 1 smoothing: 99:1 and 99:1:1).
    profile = error_profile([(1, 3)] * 98 + [(0, 2)], [{0, 1}] * 99, n_drugs=4)
    prompts = simulate_prompts([7], [{0, 1}], profile, 400, np.random.default_rng(0))
    assert [p.op for p in prompts[:4]] == [ADD, REMOVE, ADD, REMOVE]
    for p in prompts:
        assert p.visit == 7 and len(p.proposal) == 2
        dropped, extra = {0, 1} - set(p.proposal), set(p.proposal) - {0, 1}
        assert len(dropped) == len(extra) == 1 and extra <= {2, 3}
        assert set(p.target) == (dropped if p.op == ADD else extra)
    share_0 = np.mean([0 not in p.proposal for p in prompts])
    share_3 = np.mean([3 in p.proposal for p in prompts])
    assert share_0 > 0.9 and share_3 > 0.9


def test_a_line_outside_the_instructions_candidates_is_a_refusal():
    add = EditPrompt(0, ADD, (1, 2), ())
    assert _lines([3, 1, 3, 4, 9, 5], add, stop=9) == [3, None, None, 4]
    remove = EditPrompt(0, REMOVE, (1, 2), ())
    assert _lines([2, 3, 2, 1, 9], remove, stop=9) == [2, None, None, 1]
    assert _lines([9, 1], remove, stop=9) == []


@dataclass
class _Graph:
    def interacting(self, a: int, b: int) -> bool:
        return {a, b} == {0, 3}


def _toy_world(n_visits: int = 24, n_drugs: int = 8, seed: int = 0) -> World:
    """Diagnosis a -> drugs {0, 1, 2}, b -> {3, 4, 5}; a noisy classifier proposes lists."""
    rng = np.random.default_rng(seed)
    visits, probs = [], []
    for i in range(n_visits):
        code = "ab"[i % 2]
        drugs = (0, 1, 2) if code == "a" else (3, 4, 5)
        visits.append(Visit(f"p{i}", f"v{i}", "t", (code,), (), drugs, None))
        p = rng.uniform(0.0, 0.4, n_drugs)
        p[list(drugs)] = rng.uniform(0.3, 1.0, 3)
        probs.append(p)
    data = ClinicalData("toy", visits, tuple(f"d{k}" for k in range(n_drugs)))
    third = n_visits // 3
    parts = list(range(third, n_visits)), list(range(third // 2)), list(range(third // 2, third))
    return World(data, _Graph(), {"dx:a": 0, "dx:b": 1}, *parts, np.array(probs), 0.5)


def _editor(world: World, dim: int = 8) -> ListEditor:
    torch.manual_seed(0)
    n_drugs = len(world.data.drugs)
    return ListEditor(np.random.default_rng(0).normal(0, 0.1, (2, dim)),
                      np.random.default_rng(1).normal(0, 0.1, (n_drugs, dim)))  # fmt: skip


def test_sft_loss_falls_on_the_simulated_errors():
    world, rng = _toy_world(), np.random.default_rng(0)
    model = _editor(world)
    truths = [world.truth(i) for i in world.train]
    prompts = simulate_prompts(world.train, truths, training_profile(world), 256, rng)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = [sft_epoch(model, optimiser, world, prompts, rng, batch=32) for _ in range(6)]
    assert losses[-1] < 0.6 * losses[0]


def test_grpo_steps_raise_the_mean_reward_on_a_toy():
    for reward in ("stepwise", "outcome"):
        world, rng = _toy_world(), np.random.default_rng(0)
        model = _editor(world)
        config = FlameListConfig(reward=reward, group=8, max_lines=3, prompts_per_step=12)
        truths = [world.truth(i) for i in world.train]
        profile = training_profile(world)
        optimiser = torch.optim.Adam(model.parameters(), lr=2e-2)
        rewards = []
        for _ in range(30):
            batch = simulate_prompts(world.train, truths, profile, 12, rng, config.max_lines)
            rewards.append(grpo_step(model, optimiser, world, batch, config, rng)["reward"])
        assert np.mean(rewards[-5:]) > np.mean(rewards[:5]) + 0.05, (reward, rewards)


def test_the_editor_is_evaluated_against_the_classifier_alone():
    world = _toy_world()
    alone = evaluate(None, world, world.test, 3)
    edited = evaluate(_editor(world), world, world.test, 3)
    assert set(alone) == set(edited) and alone["refusal_rate"] == 0.0
    assert 0.0 <= edited["refusal_rate"] <= 1.0


@pytest.mark.parametrize(
    "settings, message",
    [({"group": 1}, "group must be >= 2"), ({"reward": "dense"}, "reward must be one of")],
)
def test_bad_settings_are_one_line_errors(settings, message):
    with pytest.raises(ConfigError, match=message):
        FlameListConfig(**settings)


def test_a_classifier_from_another_split_seed_is_refused(tmp_path):
    np.savez(tmp_path / "classifier.npz", tokens=np.zeros((1, 2)), drugs=np.zeros((1, 2)),
             bias=np.zeros(1))  # fmt: skip
    meta = {"threshold": 0.5, "tokens": ["dx:a"], "drugs": ["x"], "seed": 1}
    (tmp_path / "classifier.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="split seed 1, not 0"):
        load_world(FlameListConfig(classifier=str(tmp_path), seed=0))
    with pytest.raises(ConfigError, match="no flame-cls classifier"):
        load_world(FlameListConfig(classifier=str(tmp_path / "missing")))


@pytest.mark.parametrize(
    "settings, message",
    [
        (["group=1"], "group must be >= 2"),
        (["reward=dense"], "reward must be one of"),
        (["seed=0"], "used split seed 1, not 0"),
    ],
)
def test_the_cli_refuses_bad_settings_in_one_line(settings, message, tmp_path, capsys):
    from recagora.experiments.cli.main import main

    folder = tmp_path / "cls"
    folder.mkdir()
    np.savez(folder / "classifier.npz", tokens=np.zeros((1, 2)), drugs=np.zeros((1, 2)),
             bias=np.zeros(1))  # fmt: skip
    meta = {"threshold": 0.5, "tokens": ["dx:a"], "drugs": ["x"], "seed": 1}
    (folder / "classifier.json").write_text(json.dumps(meta))
    sets = [a for s in [f"classifier={folder}", *settings] for a in ("--set", s)]
    argv = ["train", "flame-list", *sets, "--output-dir", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "report.json").exists()


def test_the_errors_are_capped_at_max_edits():
    truth = set(range(10))
    profile = error_profile([tuple(range(2, 16))], [truth], n_drugs=20)  # 2 missed, 6 extra
    prompts = simulate_prompts([0], [truth], profile, 20, np.random.default_rng(0), max_edits=3)
    for p in prompts:
        assert len(truth - set(p.proposal)) == 2 and len(set(p.proposal) - truth) == 3
        assert len(p.target) == (2 if p.op == ADD else 3)
