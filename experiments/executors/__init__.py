"""Where runs execute: in this process (the default) or as tasks on a Ray cluster.

Whole runs (sweep arms, seed repeats) are Ray tasks here (`ray_runs.run_on_ray`); one
episode's cohort split into shards runs as Ray actors in the environment itself
(`environments/trirec/shards_ray.py`), the CLI joining the cluster first (`connect`).
"""
