"""The shard workers of a sharded TriRec episode as Ray actors (one per shard).

Ray's actors hold state between calls (Moritz et al., OSDI 2018): each actor builds its
`ShardWorker` from one copy of the run's roles in the object store and keeps its users
across rounds; each round the driver sends the exposure snapshot and the item memories,
and gathers the shards' rounds. The driver joins the cluster the CLI connected to
(`recagora run --executor ray [--ray-address ...]`); without one it starts a local
cluster of `execution.workers` CPUs. Ray is an optional extra (`pip install -e '.[ray]'`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from recagora.environments.trirec.cohort import cohort_slice
from recagora.environments.trirec.execution import ExecutionConfig
from recagora.environments.trirec.shards import ShardWorker, shard_bounds
from recagora.item_space.errors import ConfigError


class RayShards:
    """One Ray actor per shard, playing the same `ShardWorker` code as `LocalShards`."""

    def __init__(self, setup: Any, execution: ExecutionConfig) -> None:
        ray = _ray(execution)
        shards = execution.shards
        self.bounds, self.synced_round = shard_bounds(len(setup.targets), shards), None
        # At most one CPU each; more shards than CPUs share them (instead of waiting forever).
        cpus = min(1.0, float(ray.cluster_resources().get("CPU", 1.0)) / shards)
        actor = ray.remote(num_cpus=cpus)(ShardWorker)
        shared = ray.put(setup)  # one copy of the roles in the object store
        self.actors = [actor.remote(shared, s, shards, b) for s, b in enumerate(self.bounds)]

    async def load(self, cohort: Any) -> None:
        parts = [cohort_slice(cohort, a, b) for a, b in self.bounds]
        await asyncio.gather(*(a.load.remote(p) for a, p in zip(self.actors, parts, strict=True)))

    async def play(self, round_index: int, exposure: Any, items: Any) -> list:
        return list(
            await asyncio.gather(
                *(a.play.remote(round_index, exposure, items) for a in self.actors)
            )
        )

    def close(self) -> None:
        import ray

        for actor in self.actors:
            ray.kill(actor)
        self.actors = []


def _ray(execution: ExecutionConfig) -> Any:
    """The `ray` module, connected (to execution.ray_address, or a local cluster)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("execution.executor=ray needs Ray: pip install -e '.[ray]'") from None
    if not ray.is_initialized():
        options = {"include_dashboard": False, "log_to_driver": False}
        if execution.ray_address:
            ray.init(address=execution.ray_address, **options)
        else:
            ray.init(num_cpus=execution.workers, **options)
    return ray
