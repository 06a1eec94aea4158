"""MetricsLog: the CSV and, when asked, TensorBoard events of the same steps (purged on resume)."""

from __future__ import annotations

import csv

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from recagora.training.run_logs import TENSORBOARD_DIR, MetricsLog


def _scalars(run_dir, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(run_dir / TENSORBOARD_DIR))
    events.Reload()
    return [(e.step, round(e.value, 6)) for e in events.Scalars(tag)]


def test_tensorboard_gets_the_steps_the_csv_gets(tmp_path):
    log = MetricsLog(tmp_path, tensorboard=True)
    for step in (1, 2, 3):
        log.append(step, {"loss": 1.0 / step, "lr": 0.1, "method": "sft"})
    assert _scalars(tmp_path, "loss") == [(1, 1.0), (2, 0.5), (3, 0.333333)]
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [r["step"] for r in rows] == ["1", "2", "3"]


def test_a_resume_drops_the_steps_after_the_checkpoint_in_both(tmp_path):
    log = MetricsLog(tmp_path, tensorboard=True)
    for step in (1, 2, 3):
        log.append(step, {"loss": float(step)})
    resumed = MetricsLog(tmp_path, start_step=2, tensorboard=True)  # checkpoint at step 2
    resumed.append(3, {"loss": 30.0})
    assert _scalars(tmp_path, "loss") == [(1, 1.0), (2, 2.0), (3, 30.0)]


def test_no_tensorboard_folder_unless_asked(tmp_path):
    MetricsLog(tmp_path).append(1, {"loss": 1.0})
    assert not (tmp_path / TENSORBOARD_DIR).exists()
