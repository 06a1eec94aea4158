"""A benchmark whose dataset is not on this machine says so in one line (no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_dataset_is_one_line_naming_the_fetch_command(tmp_path):
    env = {**os.environ, "RECAGORA_SHARED_DATA": str(tmp_path / "none"),
           "RECAGORA_DATA_DIR": str(tmp_path / "none")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "baselines_bench.py"), "--out", str(tmp_path / "o")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "recagora data fetch video-games" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
