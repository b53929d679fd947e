"""
A one-time run as a saved job: the ``jobs/create`` body of a run's request body, with the per-task copies of
a cluster shared as one job cluster again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from runspec.spec.model._run_inits import RUN_SPEC_FIELDS
from runspec.spec.schema._schema import schema_fields

__all__ = ["job_body"]

#: Fields of the request body that jobs/create does not take (``run_name`` becomes the job's ``name``).
_SUBMIT_ONLY = tuple(f for f in RUN_SPEC_FIELDS if f != "run_name" and f not in schema_fields("CreateJob"))


def job_body(
    body: dict[str, Any], *, name: str | None = None, cluster_names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """
    The ``jobs/create`` body for a run's request body (``RunSpec.to_dict()``, which this changes); see
    ``RunSpec.to_job_settings``.
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"'name' must be str (got a {type(name).__name__})")
    for field in _SUBMIT_ONLY:
        body.pop(field, None)
    run_name = body.pop("run_name", None)
    job: dict[str, Any] = {}
    if name is not None or run_name is not None:
        job["name"] = name if name is not None else run_name
    tasks: list[dict[str, Any]] = body.pop("tasks", [])
    job_clusters = _share_clusters(tasks, _names_by_index(tasks, cluster_names or {}))
    job["tasks"] = tasks
    if job_clusters:
        job["job_clusters"] = job_clusters
    job.update(body)
    return job


def _names_by_index(tasks: list[dict[str, Any]], cluster_names: Mapping[str, str]) -> Any:
    """``cluster_names`` (task key -> cluster name) as _share_clusters reads it: (keys, name -> task indexes)."""
    keys = [task.get("task_key") for task in tasks]
    named: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        name = cluster_names.get(key) if isinstance(key, str) else None
        if isinstance(name, str) and name:
            named.setdefault(name, []).append(i)
    return (keys, named) if named else None


def _cluster_slots(tasks: list[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(top-level index, the task dict holding a new_cluster): each task, and each for_each's inner task."""
    for i, task in enumerate(tasks):
        if "new_cluster" in task:
            yield i, task
        loop = task.get("for_each_task")
        if isinstance(loop, dict) and isinstance(loop.get("task"), dict) and "new_cluster" in loop["task"]:
            yield i, loop["task"]


def _share_clusters(tasks: list[dict[str, Any]], names: Any) -> list[dict[str, Any]]:
    """
    Turn per-task clusters into job clusters; return the ``job_clusters`` entries.

    A cluster that had a name (a job's ``job_cluster_key``, or ``Run.cluster``'s name) becomes the job
    cluster of that name for the tasks that named it. Identical clusters of tasks that named none become
    one job cluster when two or more tasks have them; a task's own cluster stays its ``new_cluster``.
    """
    named_at: dict[int, str] = {}  # top-level task index -> the cluster name it used
    order: list[str] = []
    if isinstance(names, tuple) and len(names) == 2 and isinstance(names[1], Mapping):
        for cluster_name, indexes in names[1].items():
            order.append(cluster_name)
            for i in indexes:
                named_at.setdefault(i, cluster_name)
    groups: dict[tuple[str | None, str], list[dict[str, Any]]] = {}
    named_text: dict[str, str] = {}  # a name -> the cluster it stands for (the first task's)
    for index, holder in _cluster_slots(tasks):
        text = json.dumps(holder["new_cluster"], sort_keys=True, separators=(",", ":"))
        name = named_at.get(index)
        if name is not None and named_text.setdefault(name, text) != text:
            name = None  # changed since it was named: no longer that cluster
        groups.setdefault((name, text), []).append(holder)
    taken: set[str] = set()
    keys: dict[tuple[str | None, str], str] = {}
    for name in order:  # named clusters take their names first, in the order tasks use them
        if (name, named_text.get(name, "")) in groups:
            keys[(name, named_text[name])] = _free_key(name, taken)
    for group, members in groups.items():
        if group[0] is None and len(members) > 1:
            keys[group] = _free_key(f"{members[0].get('task_key', 'job')}_cluster", taken)
    # Entries follow the tasks: a job cluster is listed where a task first uses it, so a job read back into a
    # run (where every job cluster has a name) lists its clusters in the same order as the job it came from.
    entries = []
    for group, members in groups.items():
        key = keys.get(group)
        if key is None:
            continue
        entries.append({"job_cluster_key": key, "new_cluster": members[0]["new_cluster"]})
        for holder in members:
            _replace_cluster(holder, key)
    return entries


def _free_key(wanted: str, taken: set[str]) -> str:
    key = re.sub(r"[^\w\-]", "_", wanted)[:100] or "cluster"
    candidate, n = key, 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate, n = key[: 100 - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def _replace_cluster(holder: dict[str, Any], key: str) -> None:
    """Put ``job_cluster_key`` where ``new_cluster`` was, keeping the task's other keys in order."""
    items = [(k, v) for k, v in holder.items()]
    holder.clear()
    for k, v in items:
        if k == "new_cluster":
            holder["job_cluster_key"] = key
        else:
            holder[k] = v
