"""Runs as Ray tasks: a sweep's arms and seed repeats in parallel on a Ray cluster.

Ray's own APIs do the scheduling (`ray.init`, `ray.remote`, `ray.get`; Moritz et al.,
OSDI 2018): each run is one task asking for one CPU, so a cluster of W CPUs plays W
runs at a time. Without an address a local cluster of `workers` CPUs starts in this
process; with one (`--ray-address host:port`, or "auto") the driver joins that
cluster, whose workers must see the same `runs_dir` (a shared file system) and the
same installed `recagora`. Ray is an optional extra: `pip install -e '.[ray]'`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recagora.experiments.executors.jobs import RunJob, play_job
from recagora.item_space.errors import RecAgoraError


class RayUnavailable(RecAgoraError):
    """Ray is not installed, or the cluster at the given address cannot be reached."""


def connect(address: str | None, workers: int) -> None:
    """Join the cluster at `address` (None = start a local one with `workers` CPUs).

    Raises:
        RayUnavailable: ray is not installed or the address does not answer (one line).
    """
    try:
        import ray
    except ImportError:
        raise RayUnavailable("--executor ray needs Ray: pip install -e '.[ray]'") from None
    if ray.is_initialized():
        return
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    _check_reachable(address)
    try:
        if address:
            ray.init(address=address, **options)
        else:
            _start_local(ray, workers, options)
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError...
        where = f"at {address!r}" if address else "locally"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RayUnavailable(f"cannot start or reach a Ray cluster {where}: {first}") from None


def _start_local(ray: Any, workers: int, options: dict[str, Any], attempts: int = 2) -> None:
    """Start a local cluster, once more if the first start times out: Ray waits a fixed 30 s
    for its raylet to register, which a busy machine (a loaded 2-core CI box) can overrun."""
    for attempt in range(attempts):
        try:
            ray.init(num_cpus=workers, **options)
            return
        except Exception:
            ray.shutdown()  # the half-started processes, before the next try
            if attempt == attempts - 1:
                raise


def _check_reachable(address: str | None, timeout_s: float = 3.0) -> None:
    """A host:port that does not accept a TCP connection is refused at once: `ray.init`
    itself retries an unreachable address for minutes before it gives up."""
    if not address or address == "auto":
        return
    target = address.split("://", 1)[-1]
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise RayUnavailable(f"--ray-address {address!r} is not host:port (or auto)")
    import socket

    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise RayUnavailable(
            f"cannot start or reach a Ray cluster at {address!r}: {error.strerror or error}"
        ) from None


def run_on_ray(
    jobs: Sequence[RunJob], runs_dir: Path, extras: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Play every job as a Ray task (after `connect`); [{"overall", "run"}] in job order."""
    import ray

    task = ray.remote(num_cpus=1)(play_job)  # one CPU per run
    shared = ray.put(extras or {})  # one copy in the object store, not one per task
    refs = [task.remote(job, str(runs_dir), shared) for job in jobs]
    return ray.get(refs)
