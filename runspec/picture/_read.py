"""
Reading a run into the tasks the pictures draw: key, type, what it runs, flags, compute, dependencies.

The body is read as it is given, a ``RunSpec`` or plain JSON, through ``fields_of``: nothing is
serialised or copied first. Clusters are compared once per drawing: a cluster object met again (the
builder puts one object in every task that names it) is known by its identity, and a new one by its
value (spec objects compare and hash by value; a JSON object by its canonical text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runspec._runs_get import latest_attempts
from runspec._text import as_text
from runspec.picture._words import inputs, is_list
from runspec.spec.task_types import TASK_TYPES, TaskType, fields_of, task_type

__all__ = ["Compute", "Task", "read_body"]

#: How a task gets its compute: ("new", the cluster's value), ("existing", cluster id) or ("env", key).
Compute = tuple[str, Any]


@dataclass(slots=True)
class Task:
    """One task of the run, as much of it as the pictures show."""

    index: int
    key: str
    kind: str  # task type without "_task": "notebook", "condition", "for_each"; "task" if none
    detail: str  # what it runs, shortened
    inner: str  # for_each: the repeated task, shortened
    flags: tuple[str, ...]  # "run_if ALL_DONE", "disabled"
    disabled: bool
    compute: Compute | None
    new_cluster: Mapping[str, Any] | None  # the fields of its new_cluster, for the box title
    deps: list[tuple[str, str | None]]  # (task key, outcome)


def _body_fields(body: Any) -> Mapping[str, Any]:
    found = fields_of(body, None)
    if found is not None:
        return found
    to_dict = getattr(body, "to_dict", None)
    if callable(to_dict):
        result = to_dict()
        if isinstance(result, Mapping):
            return result
    raise TypeError(f"expected a runs/submit body as a dict (or an object with to_dict()), got {type(body).__name__}")


class _Clusters:
    """The value of each ``new_cluster`` met while reading one run, found once per cluster object."""

    __slots__ = ("_known",)

    def __init__(self) -> None:
        # id of a cluster -> (the cluster, its value); the cluster is kept so its id stays its own
        self._known: dict[int, tuple[Any, Any]] = {}

    def value(self, cluster: Any, fields: Mapping[str, Any]) -> Any:
        known = self._known.get(id(cluster))
        if known is not None:
            return known[1]
        if fields is cluster:  # a JSON object: its canonical text
            try:
                value: Any = json.dumps(cluster, sort_keys=True, separators=(",", ":"), default=str)
            except (TypeError, ValueError):
                value = repr(cluster)
        else:
            value = cluster  # a spec object: it hashes and compares by value
        try:
            hash(value)
        except TypeError:
            value = ("unhashable", id(cluster))
        self._known[id(cluster)] = (cluster, value)
        return value

    def compute(self, task: Mapping[str, Any]) -> tuple[Compute | None, Mapping[str, Any] | None]:
        cluster = task.get("new_cluster")
        if cluster is not None:
            fields = fields_of(cluster, None)
            if fields is not None:
                return ("new", self.value(cluster, fields)), fields
        existing = task.get("existing_cluster_id")
        if isinstance(existing, str) and existing:
            return ("existing", existing), None
        environment = task.get("environment_key")
        if isinstance(environment, str) and environment:
            return ("env", environment), None
        return None, None


def _deps(depends_on: Any) -> list[tuple[str, str | None]]:
    deps: list[tuple[str, str | None]] = []
    if is_list(depends_on):
        for dep in depends_on:
            fields = fields_of(dep, None)
            if fields is not None:
                key = fields.get("task_key")
                if type(key) is str or isinstance(key, str):
                    outcome = fields.get("outcome")
                    deps.append((key, as_text(outcome) or None if outcome is not None else None))
            elif isinstance(dep, str):
                deps.append((dep, None))
    return deps


# The task-type table's entry for each task field met so far (the table is fixed; fields are few).
_ENTRIES: dict[str, TaskType] = {}


def _kind(task: Mapping[str, Any], width: int) -> tuple[str, Mapping[str, Any] | None, str]:
    """
    The task's type as the task-type table names it (``notebook``; ``task`` when it has none), its
    fields, and what it runs in a few words (the table's ``detail``).
    """
    for name, value in task.items():
        if type(name) is str and name.endswith("_task"):
            fields = fields_of(value, None)
            if fields is not None:
                entry = _ENTRIES.get(name)
                if entry is None:
                    entry = task_type(name)
                    if name in TASK_TYPES:
                        _ENTRIES[name] = entry
                return entry.kind, fields, entry.detail(fields, width)
    return "task", None, ""


def _read_task(index: int, raw: Any, width: int, clusters: _Clusters) -> Task:
    task = fields_of(raw, None)
    if task is None:
        return Task(index, f"?{index}", "task", "", "", (), False, None, None, [])
    get = task.get
    key = get("task_key")
    if not (key and isinstance(key, str)):
        key = f"?{index}"
    kind, spec, what = _kind(task, width)
    inner = ""
    compute, cluster = clusters.compute(task)
    if kind == "for_each":  # what it repeats, over what: drawn from its own fields
        spec = spec or {}
        concurrency = spec.get("concurrency")
        parts = []
        repeated = as_text(spec.get("inputs"))
        if repeated:
            parts.append("over " + inputs(repeated, max(width // 2, 8)))
        parts.append(f"concurrency {concurrency if isinstance(concurrency, int) else 1}")
        what = " · ".join(parts)
        nested = fields_of(spec.get("task"), None)
        if nested is not None:
            inner_kind, _, inner_detail = _kind(nested, width)
            inner = "↳ " + inner_kind + (" · " + inner_detail if inner_detail else "")
            if compute is None:
                compute, cluster = clusters.compute(nested)
    flags: tuple[str, ...] = ()
    run_if = get("run_if")
    if isinstance(run_if, str) and run_if and run_if != "ALL_SUCCESS":
        flags = (f"run_if {run_if}",)
    disabled = get("disabled") is True
    if disabled:
        flags = (*flags, "disabled")
    depends_on = get("depends_on")
    deps = _deps(depends_on) if depends_on else []
    return Task(index, key, kind, what, inner, flags, disabled, compute, cluster, deps)


def read_body(body: Any, width: int) -> tuple[str, list[Task]]:
    """The run's name (``run`` when it has none) and its tasks, in body order."""
    data = _body_fields(body)
    raw_tasks: Any = data.get("tasks")
    if not is_list(raw_tasks):
        raw_tasks = ()
    clusters = _Clusters()
    if any(isinstance(t, Mapping) and "attempt_number" in t for t in raw_tasks):
        # A run as runs/get describes it: each task once, at its latest attempt. A request body (no
        # attempts) is drawn as written, a duplicate key included (the checks report it).
        raw_tasks = latest_attempts(raw_tasks)
    tasks = [_read_task(i, t, width, clusters) for i, t in enumerate(raw_tasks)]
    return as_text(data.get("run_name")) or "run", tasks
