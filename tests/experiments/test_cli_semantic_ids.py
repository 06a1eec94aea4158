"""`recagora data semantic-ids` through the real dispatcher: ML-100K end to end, bad input."""

from __future__ import annotations

import json

import pytest

from recagora.experiments.cli.main import main
from recagora.item_space.datasets import load_dataset


def test_ml100k_semantic_ids_are_written_readable_and_cached(tmp_path, capsys):
    out = tmp_path / "ml"
    args = ["data", "semantic-ids", "ml-100k", "--levels", "3", "--codes", "128"]
    args += ["--embedder", "hashing", "--output", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "codebook usage (1,682 items, depth 3)" in printed
    assert "collisions after:" in printed and '"colliding_items": 0' in printed
    stats = json.loads((out / "ml-100k.stats.json").read_text())
    assert [level["level"] for level in stats["levels"]] == ["a", "b", "c"]
    dataset = load_dataset(out, cache=False)
    codes = [item.attributes["semantic_id"] for item in dataset.catalog.items]
    assert len(set(codes)) == 1682 and {len(code) for code in codes} == {3}
    assert dataset.catalog[0].title == "Toy Story (1995)"
    assert main(args) == 0
    assert "cached" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--codes", "100"], "--codes 100 must be a power of 2"),
        (["--codes", "4096"], "--codes 4096 exceeds the catalog's 1682 items"),
        (["--collisions", "sinkhorn"], "unknown --collisions 'sinkhorn'"),
        (["--embedder", "bert"], "unknown --embedder 'bert'"),
    ],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, extra, message):
    args = ["data", "semantic-ids", "ml-100k", "--embedder", "hashing", "--output", str(tmp_path)]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
