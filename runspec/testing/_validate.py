"""
The checks a submitted runs/submit body goes through before it becomes a run.

Two layers. runspec's own validation (``RunSpec.from_dict``) finds the problems a workspace rejects;
the emulator answers with the first one as a workspace does, and lists them all in ``details``. Under it,
a few structural checks (task keys, dependencies, cycles) always run, because the engine needs them to
schedule the run at all, even when ``Emulator(validate=False)`` turns runspec's validation off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runspec.errors import SpecError
from runspec.spec import RunSpec
from runspec.spec.limits import MAX_TASKS, MAX_TOKEN
from runspec.testing._http import ApiFailure, invalid
from runspec.testing._wire import coerce_numbers, out_of_range, tasks_form

__all__ = ["SHARED_CLUSTER_MESSAGE", "check_submit_body"]

SHARED_CLUSTER_MESSAGE = "Shared job cluster feature is not supported in runs/submit API."
TOO_MANY_TASKS_21 = "Resources with more than 100 tasks can only be handled by API 2.2 and above"
MAX_TASKS_21 = 100  # API 2.0 and 2.1 take at most 100 tasks


def check_submit_body(body: Any, *, api_version: str, use_runspec: bool = True) -> dict[str, Any]:
    """
    Return the run ``body`` asks for when a workspace would accept it; raise ``ApiFailure`` (a 400) when it
    would not.

    Numeric strings in integer fields become numbers, and a single-task body (the 2.0 form, task fields
    at the top level) becomes a one-task ``tasks[]`` body, before any check. ``api_version`` is
    ``"2.0"``, ``"2.1"`` or ``"2.2"`` (2.0 and 2.1 accept at most 100 tasks). With ``use_runspec``,
    runspec's full validation (``RunSpec.from_dict``) runs too.
    """
    if not isinstance(body, dict):
        raise ApiFailure(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a map")
    try:
        body = coerce_numbers(body)
    except RecursionError:
        raise ApiFailure(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request") from None
    body = tasks_form(body) or body
    if _uses_shared_clusters(body):
        raise invalid(SHARED_CLUSTER_MESSAGE)
    tasks = body.get("tasks")
    if isinstance(tasks, list) and api_version in ("2.0", "2.1") and len(tasks) > MAX_TASKS_21:
        raise invalid(TOO_MANY_TASKS_21)
    if use_runspec:
        # On the body as sent: a null field is absent there, but a null inside a map is refused.
        _check_with_runspec(body)
    where = out_of_range(body)
    if where is not None:
        raise invalid(f"{where} is out of range of a 64-bit integer.")
    try:
        # The engine reads what a workspace keeps: null fields dropped.
        cleaned: dict[str, Any] = dict(_without_nulls(body))
    except RecursionError:
        raise ApiFailure(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request") from None
    _check_structure(cleaned)
    return cleaned


def _without_nulls(value: Any) -> Any:
    """``value`` with every null-valued object key removed, at any depth."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _uses_shared_clusters(body: Mapping[str, Any]) -> bool:
    if body.get("job_clusters") is not None:
        return True
    tasks = body.get("tasks")
    if not isinstance(tasks, list):
        return False
    for task in tasks:
        if not isinstance(task, Mapping):
            continue
        if task.get("job_cluster_key") is not None:
            return True
        loop = task.get("for_each_task")
        nested = loop.get("task") if isinstance(loop, Mapping) else None
        if isinstance(nested, Mapping) and nested.get("job_cluster_key") is not None:
            return True
    return False


def _check_with_runspec(body: dict[str, Any]) -> None:
    """
    Run runspec's own validation. Unknown keys pass (as a workspace lets them), so bodies from clients
    that know newer fields than runspec are not rejected for that alone.
    """
    try:
        RunSpec.from_dict(body, strict=False)
    except SpecError as exc:
        problems = list(exc.problems)
        if not problems:
            raise invalid(str(exc)) from None
        first = problems[0]
        if any(p.code == "shared-cluster-unsupported" for p in problems):
            message = SHARED_CLUSTER_MESSAGE
        else:
            message = first.message
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "field_violations": [{"field": p.path, "description": f"{p.message} [{p.code}]"} for p in problems],
            }
        ]
        raise ApiFailure(400, "INVALID_PARAMETER_VALUE", message, details) from None


def _check_structure(body: Mapping[str, Any]) -> None:
    """What the engine itself relies on: tasks with unique keys and an acyclic graph of known keys."""
    tasks = body.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        raise invalid("A one-time run needs at least one task in 'tasks'.")
    if len(tasks) > MAX_TASKS:
        raise invalid(f"A run can have at most {MAX_TASKS} tasks; this one has {len(tasks)}.")
    token = body.get("idempotency_token")
    if token is not None and (not isinstance(token, str) or len(token) > MAX_TOKEN):
        raise invalid(f"idempotency_token must be a string of at most {MAX_TOKEN} characters.")
    keys: dict[str, int] = {}
    for index, task in enumerate(tasks):
        if not isinstance(task, Mapping):
            raise invalid(f"tasks[{index}] must be an object.")
        key = task.get("task_key")
        if not isinstance(key, str) or not key:
            raise invalid(f"tasks[{index}].task_key is required.")
        if key in keys:
            raise invalid(f"Task key {key!r} is used by more than one task; task keys must be unique.")
        keys[key] = index
        depends_on = task.get("depends_on", [])
        if not isinstance(depends_on, list):
            raise invalid(f"tasks[{index}].depends_on must be a list.")
        nested = task.get("for_each_task")
        if nested is not None:
            inner = nested.get("task") if isinstance(nested, Mapping) else None
            if not isinstance(inner, Mapping):
                raise invalid(f"Task {key!r}: for_each_task needs a 'task' object.")
            if "for_each_task" in inner:
                raise invalid(f"Task {key!r}: a for_each task cannot run another for_each task.")
    graph: dict[str, list[str]] = {}
    for task in tasks:
        deps: list[str] = []
        for dep in task.get("depends_on", []):
            dep_key = dep.get("task_key") if isinstance(dep, Mapping) else None
            if not isinstance(dep_key, str) or dep_key not in keys:
                raise invalid(f"Task {task['task_key']!r} depends on {dep_key!r}, which is not a task of this run.")
            deps.append(dep_key)
        graph[task["task_key"]] = deps
    cycle = _find_cycle(graph)
    if cycle:
        raise invalid("The task dependencies form a cycle: " + " -> ".join(cycle) + ".")


def _find_cycle(graph: Mapping[str, list[str]]) -> list[str] | None:
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(graph, white)
    for root in graph:
        if color[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path = [root]
        color[root] = grey
        while stack:
            node, i = stack[-1]
            deps = graph[node]
            if i < len(deps):
                stack[-1] = (node, i + 1)
                nxt = deps[i]
                if color[nxt] == grey:
                    return [*path[path.index(nxt) :], nxt]
                if color[nxt] == white:
                    color[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                color[node] = black
                stack.pop()
                path.pop()
    return None
