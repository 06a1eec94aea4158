"""`recagora train puma|seller` bad input: one line on stderr, exit 2, before any training."""

from __future__ import annotations

import pytest
import torch

from recagora.experiments.cli.main import main

from ..soft_lm_fixture import tiny_lm


def _one_line(capsys, message: str) -> None:
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err, err


@pytest.fixture(scope="module")
def tiny_folders(tmp_path_factory):
    """Two saved tiny Llamas of widths 32 and 48 (local model folders)."""
    folders = {}
    for width in (32, 48):
        model, tokenizer = tiny_lm(hidden=width)
        folder = tmp_path_factory.mktemp(f"lm{width}")
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders[width] = str(folder)
    return folders


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["puma", "--set", "template='Rate the movie {title} now'"], "no <soft> placeholder"),
        (["puma", "--set", "adapter=affine"], "adapter 'affine' is unknown"),
        (["seller", "--set", "soft_tokens=0"], "soft-token count must be at least 1"),
    ],
)
def test_bad_settings_stop_before_any_load(args, message, tmp_path, capsys):
    assert main(["train", *args, "--dataset", "ml-100k", "--output-dir", str(tmp_path / "run")]) == 2
    _one_line(capsys, message)


def test_a_backbone_pair_with_no_adapter_shape(tiny_folders, tmp_path, capsys):
    argv = ["train", "puma", "--dataset", "ml-100k", "--output-dir", str(tmp_path / "run"),
            "--set", f"backbone_a={tiny_folders[32]}", "--set", f"backbone_b={tiny_folders[48]}",
            "--set", "adapter=identity", "--set", "n_users=4"]
    assert main(argv) == 2
    _one_line(capsys, "no adapter shape")
    assert not (tmp_path / "run" / "report.json").exists()


def test_a_target_user_without_a_source_prompt(tiny_folders, tmp_path, capsys):
    saved = tmp_path / "prompts.pt"
    torch.save({"users": ["1", "2"], "a": torch.zeros(2, 32), "heads": {"a": {}}}, saved)
    argv = ["train", "puma", "--dataset", "ml-100k", "--output-dir", str(tmp_path / "run"),
            "--set", f"backbone_a={tiny_folders[32]}", "--set", f"backbone_b={tiny_folders[48]}",
            "--set", f"source_prompts={saved}", "--set", "n_users=4"]
    assert main(argv) == 2
    _one_line(capsys, "has no source prompt")
