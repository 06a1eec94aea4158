"""`recagora train mindrec` / `evaluate` refuse bad input in one line, exit 2, before any data."""

from __future__ import annotations

import pytest

from recagora.experiments.cli.main import main


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("eps=1.0", "eps 1.0 must be in [0, 1)"),
        ("eps=-0.2", "eps -0.2 must be in [0, 1)"),
        ("category_levels=0", "category_levels must be >= 1"),
        ("d_model=30", "d_model 30 is not a multiple of n_heads 4"),
    ],
)
def test_bad_mindrec_settings_are_one_line_exit_2(setting, message, tmp_path, capfd):
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "mindrec",
            "--dataset",
            "games-semids",
            "--set",
            setting,
            "--output-dir",
            str(out),
        ]
    )
    err = capfd.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    assert not out.exists()
