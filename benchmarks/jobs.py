"""
Time converting a saved job into a one-time run, and the run back into a job, against loading the
equivalent runs/submit body.

    python benchmarks/jobs.py [--repeat N]

For 10, 100 and 1000 tasks in a chain, every task on one shared job cluster and reading two job
parameters, with a schedule and tags to drop:

- convert: ``RunSpec.from_job_settings(job)`` (strict load of the job settings, clusters inlined,
  parameters put in, every check of the run)
- back:    ``spec.to_job_settings()`` of that run
- load:    ``RunSpec.from_dict(body)`` of the runs/submit body the conversion gives (the baseline)

Each figure is the best of N repeats, in the same process; ratios are against load. Timings on a shared
machine are noisy, so read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from typing import Any

from runspec import RunSpec

SIZES = (10, 100, 1000)
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}


def job(n: int) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = []
    for i in range(n):
        task: dict[str, Any] = {
            "task_key": f"t{i}",
            "job_cluster_key": "shared",
            "notebook_task": {
                "notebook_path": f"/Repos/etl/step_{i}",
                "base_parameters": {"day": "{{job.parameters.day}}", "region": "{{job.parameters.region}}"},
            },
        }
        if i:
            task["depends_on"] = [{"task_key": f"t{i - 1}"}]
        tasks.append(task)
    return {
        "name": f"chain-{n}",
        "schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC"},
        "tags": {"team": "etl"},
        "parameters": [{"name": "day", "default": "2026-12-01"}, {"name": "region", "default": "emea"}],
        "job_clusters": [{"job_cluster_key": "shared", "new_cluster": CLUSTER}],
        "tasks": tasks,
    }


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'tasks':>6} {'load ms':>9} {'convert ms':>11} {'ratio':>6} {'back ms':>8} {'ratio':>6}")
    for n in SIZES:
        settings = job(n)
        spec = RunSpec.from_job_settings(copy.deepcopy(settings))
        body = spec.to_dict()
        load = best(lambda body=body: RunSpec.from_dict(body), args.repeat)  # type: ignore[misc]
        convert = best(lambda settings=settings: RunSpec.from_job_settings(settings), args.repeat)  # type: ignore[misc]
        back = best(spec.to_job_settings, args.repeat)
        print(
            f"{n:>6} {load * 1e3:>9.2f} {convert * 1e3:>11.2f} {convert / load:>6.1f} {back * 1e3:>8.2f} "
            f"{back / load:>6.1f}"
        )


if __name__ == "__main__":
    main()
