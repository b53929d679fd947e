"""
The benchmark bodies built with the official ``databricks-sdk`` dataclasses, for comparison.

``with_sdk(n, shape)`` builds the same runs/submit body as ``build.floor`` and ``build.with_runspec``
(the same tasks, cluster, libraries and dependencies) the way an SDK user does: ``jobs.SubmitTask``,
``compute.ClusterSpec``, ``compute.Library`` ... then ``as_dict()`` on each task, assembled into the
body exactly as ``WorkspaceClient().jobs.submit()`` assembles it before sending, and ``json.dumps``.
``sdk_load(text)`` is what the SDK offers for reading a body back: ``json.loads`` and
``SubmitTask.from_dict`` per task. It checks nothing (unknown keys are dropped, see
docs/performance.md), so it is a lower bar than ``RunSpec.from_json``.

Everything here returns ``None`` / ``AVAILABLE is False`` when ``databricks-sdk`` is not installed.
"""

from __future__ import annotations

import json
from typing import Any

try:
    from databricks.sdk.service import compute, jobs
except ImportError:  # pragma: no cover - the SDK is in the test extra
    AVAILABLE = False
    VERSION: str | None = None
else:
    AVAILABLE = True
    try:
        from databricks.sdk.version import __version__ as VERSION
    except ImportError:  # pragma: no cover
        VERSION = "unknown"

__all__ = ["AVAILABLE", "VERSION", "sdk_load", "sdk_tasks", "with_sdk"]


def _upstream(shape: str, i: int) -> str | None:
    # The same graph as benchmarks/build.py: a chain, or every task after the first on the first.
    if i == 0:
        return None
    return f"t{i - 1}" if shape == "chain" else "t0"


def sdk_tasks(n: int, shape: str, style: str = "named") -> list[Any]:
    """The benchmark's tasks as ``jobs.SubmitTask`` objects, on one shared ``ClusterSpec`` or an existing cluster."""
    cluster = compute.ClusterSpec(
        spark_version="15.4.x-scala2.12",
        node_type_id="i3.xlarge",
        num_workers=2,
        spark_conf={"spark.speculation": "true"},
        aws_attributes=compute.AwsAttributes(
            availability=compute.AwsAvailability.SPOT_WITH_FALLBACK,
            first_on_demand=1,
        ),
        custom_tags={"team": "etl"},
    )
    tasks = []
    for i in range(n):
        up = _upstream(shape, i)
        tasks.append(
            jobs.SubmitTask(
                task_key=f"t{i}",
                notebook_task=jobs.NotebookTask(notebook_path=f"/Repos/etl/step_{i}", base_parameters={"i": str(i)}),
                new_cluster=cluster if style == "named" else None,
                existing_cluster_id=None if style == "named" else "0923-164208-meows279",
                libraries=[
                    compute.Library(pypi=compute.PythonPyPiLibrary(package="pandas==2.2.2")),
                    compute.Library(whl="/Volumes/etl/libs/etl.whl"),
                ],
                depends_on=[jobs.TaskDependency(task_key=up)] if up is not None else None,
            )
        )
    return tasks


def with_sdk(n: int, shape: str, style: str = "named") -> str:
    """Build the body with SDK dataclasses, serialise it as ``jobs.submit()`` does, and dump it."""
    tasks = sdk_tasks(n, shape, style)
    # JobsAPI.submit() builds its request body this way from its keyword arguments.
    body: dict[str, Any] = {}
    body["run_name"] = "bench"
    body["tasks"] = [v.as_dict() for v in tasks]
    body["timeout_seconds"] = 3600
    return json.dumps(body)


def sdk_load(text: str) -> list[Any]:
    """Read a body back with the SDK: ``json.loads`` and ``SubmitTask.from_dict`` for each task."""
    data = json.loads(text)
    return [jobs.SubmitTask.from_dict(t) for t in data["tasks"]]
