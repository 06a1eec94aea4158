"""How a TriRec episode executes: the unsharded graph, or its cohort split into shards.

`shards` = S >= 1 splits the cohort into S contiguous shards, each played by one shard
worker (`environments.trirec.shards`): candidates, promotions, scoring, re-ranking,
response and the users' memory for its own users, with its own random streams. The
global state (the re-ranker's exposure, the per-item exposure, the item agents'
memories) is merged at each round boundary. `executor` says where the workers live:
"local" plays them one after another in this process, "ray" holds one Ray actor per
shard; for the same seed and S both give the same events and metrics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from recagora.environments.config_checks import require
from recagora.item_space.errors import did_you_mean

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class ExecutionConfig:
    """Sharding of one episode's cohort, and where the shards run."""

    shards: int = field(
        default=0,
        metadata={
            "help": "Cohort shards, each played by its own worker with the exposure merged at round boundaries; 0 = one unsharded graph (the default)."
        },
    )
    executor: str = field(
        default="local",
        metadata={
            "help": "Where the shards run: local (in this process, one after another) or ray (one Ray actor per shard)."
        },
    )
    ray_address: str = field(
        default="",
        metadata={
            "help": "Ray cluster to join (host:port or auto); empty = start a local cluster of `workers` CPUs."
        },
    )
    workers: int = field(
        default=2, metadata={"help": "CPUs of the local Ray cluster started without ray_address."}
    )

    def __post_init__(self) -> None:
        require(self.shards >= 0, f"execution.shards must be >= 0, got {self.shards}")
        require(self.workers >= 1, f"execution.workers must be >= 1, got {self.workers}")
        require(
            self.executor in EXECUTORS,
            f"execution.executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}"
            + did_you_mean(self.executor, EXECUTORS),
        )
        require(
            self.executor == "ray" or not self.ray_address,
            "execution.ray_address applies to executor=ray only",
        )
        require(
            self.executor == "local" or self.shards >= 1,
            "execution.executor=ray plays a sharded episode: set execution.shards >= 1",
        )


def check_sharding(execution: ExecutionConfig, cohort_size: int, uses_llm: bool) -> None:
    """A shard count the cohort can fill, and no LLM role (one LLM client per shard is not
    wired: its cache, ledger and fleet would be split across processes)."""
    if not execution.shards:
        return
    require(
        execution.shards <= cohort_size,
        f"execution.shards={execution.shards} exceeds the cohort of {cohort_size} users; "
        "use at most one shard per user",
    )
    require(
        not uses_llm,
        "sharded episodes play surrogate or learned roles only; drop --shards or the LLM role",
    )
