"""
A workspace's documented budgets for runs, and how much of them one run uses: read by the client's
``submit_many`` (to stay inside them) and by the emulator (to enforce them when asked).

The limits (Databricks resource limits page, and "Create and run jobs"):

* 2,000 task runs running at once in a workspace, Run Job and For each parent tasks excluded (older
  pages said 1,000); a run that cannot start because of it is refused with 429 unless queueing is on
  (``queue.enabled``), when it waits in the queue (up to 48 hours);
* 750 Run Job and For each parent tasks running at once (``parent_weight`` counts a run's); how the
  workspace refuses a run past it is not documented, and the emulator answers it as the 2,000;
* 10,000 jobs created per rolling hour, runs/submit included; past it runs/submit answers 400
  ``INVALID_STATE`` "There were already N jobs created in past 3600 seconds, exceeding rate limit";
* requests per second per endpoint: not published reliably (about 35/s for runs/submit and 100/s for
  runs/get by one secondary source); the workspace answers 429 ``REQUEST_LIMIT_EXCEEDED`` with
  ``Retry-After`` past it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "HOURLY_LIMIT_MESSAGE",
    "MAX_ACTIVE_PARENT_TASKS",
    "MAX_ACTIVE_TASKS",
    "RUNS_PER_HOUR",
    "is_hourly_limit",
    "parent_weight",
    "queued",
    "task_weight",
]

#: Task runs a workspace runs at once (Run Job and For each parents excluded).
MAX_ACTIVE_TASKS: Final = 2000
#: Run Job and For each parent tasks a workspace runs at once (not counted in ``MAX_ACTIVE_TASKS``).
MAX_ACTIVE_PARENT_TASKS: Final = 750
#: Jobs (runs/submit included) a workspace creates per rolling hour.
RUNS_PER_HOUR: Final = 10_000
#: The workspace's answer past the hourly limit (400 ``INVALID_STATE``), ``{count}`` filled in.
HOURLY_LIMIT_MESSAGE: Final = (
    "There were already {count} jobs created in past 3600 seconds, exceeding rate limit: {limit} job creations "
    "per 3600 seconds"
)


def task_weight(body: Mapping[str, Any]) -> int:
    """
    The task runs a runs/submit body can have running at once, at most: one per task, a For each
    task counting its ``concurrency`` (its iterations run that many at a time; 1 when not given).

    An upper bound: tasks that wait for others are counted too, so a run never exceeds what it was
    admitted with. A body in the single-task form (no ``tasks``) counts 1.
    """
    tasks = body.get("tasks")
    if not isinstance(tasks, list):
        return 1
    weight = 0
    for task in tasks:
        loop = task.get("for_each_task") if isinstance(task, Mapping) else None
        if isinstance(loop, Mapping):
            concurrency = loop.get("concurrency")
            weight += concurrency if isinstance(concurrency, int) and concurrency > 0 else 1
        else:
            weight += 1
    return max(weight, 1)


def parent_weight(body: Mapping[str, Any]) -> int:
    """
    The Run Job and For each parent tasks a runs/submit body can have running at once, at most: one
    per ``run_job_task`` task and one per ``for_each_task`` task, whose iterations count too (its
    ``concurrency``, 1 when not given) when each runs a job (a nested ``run_job_task``). 0 for a run
    with neither.
    """
    tasks = body.get("tasks")
    if not isinstance(tasks, list):
        return 1 if isinstance(body.get("run_job_task"), Mapping) else 0
    parents = 0
    for task in tasks:
        if not isinstance(task, Mapping):
            continue
        loop = task.get("for_each_task")
        if isinstance(loop, Mapping):
            parents += 1
            inner = loop.get("task")
            if isinstance(inner, Mapping) and isinstance(inner.get("run_job_task"), Mapping):
                concurrency = loop.get("concurrency")
                parents += concurrency if isinstance(concurrency, int) and concurrency > 0 else 1
        elif isinstance(task.get("run_job_task"), Mapping):
            parents += 1
    return parents


def queued(body: Mapping[str, Any]) -> bool:
    """Whether the body asks the workspace to queue the run when a limit is reached (``queue.enabled``)."""
    queue = body.get("queue")
    return isinstance(queue, Mapping) and queue.get("enabled") is True


def is_hourly_limit(error_code: str | None, message: str) -> bool:
    """Whether a 400 is the hourly creation limit (``INVALID_STATE`` ... "exceeding rate limit")."""
    return error_code == "INVALID_STATE" and "rate limit" in message
