"""
The single-task form: a body with one task's fields at the top level instead of ``tasks``.

The Jobs API 2.0 runs/submit body has no ``tasks``: ``notebook_task`` (or another task type),
``new_cluster`` or ``existing_cluster_id``, ``libraries`` ... sit beside ``run_name``. Airflow still
posts it to 2.1 and 2.2, and the service reads it as a run of one task. runspec loads it as it is: the
top-level task fields are kept as the body's ``extra`` fields, so ``to_dict()`` gives the body back
unchanged; the checks read them as one task (``single_task``) whose problems have paths from ``$``;
``RunSpec.with_tasks_form()`` gives the same run in the ``tasks[]`` form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runspec.spec.model._objects import SubmitTask
from runspec.spec.objects._convert import plain_json
from runspec.spec.objects._load import BAD, LoadContext, load_object
from runspec.spec.task_types import suggest_key, table

__all__ = ["is_task_field", "looks_single", "newer_task_type", "single_task", "task_fields"]


def is_task_field(name: str, run_fields: Mapping[str, Any]) -> bool:
    """Whether a top-level key of a body is a task's field (and not also a field of the run)."""
    return name in SubmitTask._fields and name not in run_fields and name != "task_key"


def newer_task_type(name: str, value: Any, run_fields: Mapping[str, Any]) -> bool:
    """
    Whether a key outside the schema reads as a task type newer than runspec's (an object under a name
    ending in ``_task``, such as the ``shell_command_task`` MLflow sends): ``strict=False`` passes it.
    """
    return (
        name.endswith("_task")
        and name not in SubmitTask._fields
        and name not in run_fields
        and isinstance(value, Mapping)
    )


def looks_single(body: Mapping[str, Any], run_fields: Mapping[str, Any] | None = None) -> bool:
    """
    Whether a body (a mapping) is in the single-task form: no ``tasks``, and a task type at the top
    (with ``run_fields``, the fields of the run, also a task type newer than the schema).
    """
    if body.get("tasks") is not None:
        return False
    types = table()
    if any(k in types for k in body):
        return True
    return run_fields is not None and any(newer_task_type(k, v, run_fields) for k, v in body.items())


def task_fields(spec: Any) -> dict[str, Any]:
    """The task fields a spec in the single-task form carries at its top level (empty when it has tasks)."""
    extra = spec._extra_map()
    if not extra or spec.tasks:
        return {}
    run_fields = type(spec)._fields
    fields = {k: v for k, v in extra.items() if is_task_field(k, run_fields) or newer_task_type(k, v, run_fields)}
    types = table()
    return fields if any(k in types or newer_task_type(k, v, run_fields) for k, v in fields.items()) else {}


def single_task(spec: Any, ctx: LoadContext) -> SubmitTask | None:
    """
    The one task of a spec in the single-task form (None for any other spec), read from its top-level
    fields as a ``SubmitTask`` would be loaded: problems go to ``ctx`` with paths from ``$``.
    """
    fields = task_fields(spec)
    if not fields:
        return None
    plain = plain_json(dict(fields))
    key = suggest_key(plain) or "task"
    task = load_object(SubmitTask, {"task_key": key, **plain}, "$", None, ctx, 0)
    return None if task is BAD else task
