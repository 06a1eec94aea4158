"""Issue 12's bad input for the trained policies: one line on stderr, exit 2, nothing written.

UGR on titles, BLADE with K larger than the catalog, tau outside [0, 1], G < 2, and a
`--recommender` that is missing, corrupt, not a checkpoint or of another catalog.
"""

from __future__ import annotations

import json
import shutil

import pytest

from recagora.experiments.cli.main import main
from recagora.item_space.types import Catalog, Item, Sample
from recagora.training.registry import make_trainer

TINY = [
    "max_steps=1",
    "batch_size=4",
    "micro_batch_size=4",
    "progress=false",
    "backbone.tiny_n_layer=1",
    "backbone.tiny_n_embd=32",
    "backbone.tiny_n_head=2",
    "backbone.tiny_vocab_size=400",
    "prompt.max_history=2",
]


def _one_line(capsys, message: str) -> None:
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ugr", "--dataset", "video-games"], "UGR trains on semantic IDs"),
        (["blade", "--dataset", "video-games", "--set", "list_length=5000"], "exceeds the catalog"),
        (["blade", "--set", "tau=-0.1"], "tau -0.1 must lie in [0, 1)"),
        (["blade", "--set", "tau=1.5"], "tau 1.5 must lie in [0, 1)"),
        (["ugr", "--set", "num_generations=1"], "must be >= 2"),
        (["bon", "--set", "num_generations=0"], "must be >= 2"),
        (["ugr", "--set", "coeff_wrong=-1"], "must be >= 0"),
        (["ugr", "--set", "rollout=sample"], "set rollout=beam"),
    ],
)
def test_bad_policy_settings(args, message, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", *args, "--output-dir", str(out), *[x for s in TINY for x in ("--set", s)]]
    assert main(argv) == 2
    _one_line(capsys, message)
    assert not out.exists()


@pytest.fixture(scope="module")
def lookalike_run(tmp_path_factory):
    """A tiny SFT checkpoint of a catalog the size of ML-100K (1,682 items), other titles."""
    catalog = Catalog("lookalike", [Item(id=i, key=str(i), title=f"film {i}") for i in range(1682)])
    train = [Sample(user=f"u{i}", history=(i,), target=i + 1) for i in range(16)]
    out = tmp_path_factory.mktemp("lookalike")
    make_trainer("sft", catalog, train, overrides=[f"output_dir={out}", *TINY]).train()
    return out


def _corrupt(run, tmp):
    copy = tmp / "corrupt"
    shutil.copytree(run, copy)
    (copy / "checkpoint" / "policy.json").write_text("{not json")
    return copy


def _foreign_method(run, tmp):
    copy = tmp / "foreign"
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "checkpoint" / "policy.json").read_text())
    (copy / "checkpoint" / "policy.json").write_text(json.dumps({**manifest, "method": "magic"}))
    return copy


@pytest.mark.parametrize(
    ("make_path", "message"),
    [
        (lambda run, tmp: tmp / "missing", "does not exist"),
        (_corrupt, "is unreadable"),
        (_foreign_method, "unknown method 'magic'"),
        (lambda run, tmp: run, "trained on catalog 'lookalike'"),  # same size, other titles
    ],
)
def test_bad_recommender(make_path, message, lookalike_run, tmp_path, capsys):
    runs = tmp_path / "runs"
    path = make_path(lookalike_run, tmp_path)
    argv = ["run", "trirec", "--dataset", "ml-100k", "--recommender", str(path), "--quiet"]
    assert main([*argv, "--runs-dir", str(runs)]) == 2
    _one_line(capsys, message)
    assert not runs.exists()
