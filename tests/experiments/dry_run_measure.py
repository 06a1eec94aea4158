"""The dry run against the real run on a small TriRec case, measured in a fresh interpreter.

Run as a script by `test_dry_run.py`: a process that has already played a thousand tests
carries their heap and threads, and a garbage-collection pause inside the 8-user pilot is
multiplied by four in the projection; a fresh process times what a user's `--dry-run` sees.
Prints one JSON line: the projection's requests, tokens and wall time beside the real run's.
"""

from __future__ import annotations

import json
import tempfile
import time

from recagora.agents.llm import open_llm
from recagora.environments.registry import get_scenario
from recagora.experiments.dry_run import dry_run
from recagora.experiments.runner.config import build_config
from recagora.experiments.runner.runner import start_run


def _client():  # every request takes 50 ms, two at a time: the LLM dominates the run
    return open_llm("fake:", fake_latency_s=0.05, concurrency=2, use_cache=False)


def main() -> None:
    fields = {
        "scenario": "trirec",
        "llm": "fake:",
        "user_fit.max_train_samples": 2000,
        "agents": "user=llm,item=surrogate",
        "users": 32,
        "rounds": 3,
    }
    config = build_config(get_scenario("trirec").config_cls, fields)
    with _client() as llm:
        projection = dry_run(config, llm=llm, pilot_users=8)
    with _client() as llm, tempfile.TemporaryDirectory() as runs:
        started = time.perf_counter()
        start_run(config, runs_dir=runs, llm=llm)
        wall_s = time.perf_counter() - started
        real = llm.ledger_summary()
    keys = ("requests", "prompt_tokens", "completion_tokens")
    print(
        json.dumps(
            {
                "projected": {
                    **{k: getattr(projection, k) for k in keys},
                    "wall_s": projection.wall_s,
                },
                "real": {**{k: real[k] for k in keys}, "wall_s": wall_s},
            }
        )
    )


if __name__ == "__main__":
    main()
