"""The checks a builder call makes on its arguments, with the messages they give (``TypeError`` at the call)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runspec._text import article, shown
from runspec.spec.model._objects import SubmitTask, TaskDependency
from runspec.spec.model._run_inits import NAMED_FIELDS, add_named
from runspec.spec.objects import set_fields
from runspec.spec.objects._classes import freeze_extra
from runspec.spec.objects._convert import REGISTRY
from runspec.spec.schema._schema import closest
from runspec.spec.task_types import TASK_TYPES

__all__ = [
    "NAMED_FIELDS",
    "TYPE_FIELDS",
    "add_fields",
    "add_named",
    "as_list",
    "check_kind",
    "dependencies",
    "fill_type_fields",
    "hashable",
    "unknown_kwarg",
    "whole_task_fields",
    "with_key_first",
]


#: Task-type class -> the SubmitTask field it goes in (``NotebookTask`` -> ``notebook_task``), filled from the
#: task-type table on first use (``TYPE_FIELDS or fill_type_fields()``).
TYPE_FIELDS: dict[type, str] = {}


def fill_type_fields() -> dict[type, str]:
    for entry in TASK_TYPES.values():
        cls = REGISTRY.get(entry.class_name)
        if cls is not None:
            TYPE_FIELDS[cls] = entry.field
    return TYPE_FIELDS


def check_kind(owner: str, name: str, value: Any, kinds: type | tuple[type, ...], expected: str) -> None:
    if not isinstance(value, kinds) or (
        isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,))
    ):
        raise TypeError(
            f"{owner}: {name!r} must be {expected} (got {shown(value)} that is {article(type(value).__name__)})"
        )


def as_list(owner: str, name: str, value: Any, expected: str) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        hint = f"; did you mean [{value!r}]?" if isinstance(value, str) else ""
        raise TypeError(
            f"{owner}: {name!r} must be {expected} (got {shown(value)} that is a {type(value).__name__}){hint}"
        )
    return list(value)


def whole_task_fields(owner: str, task: Any, key: str | None) -> dict[str, Any]:
    """
    The record of a task given as a whole ``SubmitTask`` (``Run.task`` looks up a task-type object's
    field itself, see ``TYPE_FIELDS``): its fields, ``task_key`` first (``key`` when given); anything
    else is a ``TypeError``.
    """
    if isinstance(task, SubmitTask):
        return with_key_first(set_fields(task), task._extra_map(), key)
    raise TypeError(
        f"{owner}: 'task' must be a task such as NotebookTask(...), SparkPythonTask(...) or a SubmitTask "
        f"(got {task!r} that is {article(type(task).__name__)})"
    )


def with_key_first(
    fields: Mapping[str, Any], extra: Mapping[str, Any] | None, key: str | None = None
) -> dict[str, Any]:
    """
    A task's record from a SubmitTask's fields: ``task_key`` first (``key`` when given, else its own),
    as ``compile()`` writes it, and ``extra`` among the fields when it has any.
    """
    rest = {name: value for name, value in fields.items() if name != "task_key"}
    if key is None:
        key = fields.get("task_key")
    given = {"task_key": key, **rest} if key is not None else rest
    if extra:
        given["extra"] = extra
    return given


def dependencies(owner: str, depends_on: Iterable[str | TaskDependency]) -> tuple[TaskDependency, ...]:
    """Check ``depends_on`` and turn task keys into ``TaskDependency`` objects."""
    if type(depends_on) is not list and type(depends_on) is not tuple:
        depends_on = as_list(owner, "depends_on", depends_on, "a list of task keys")
    out = []
    for dep in depends_on:
        if type(dep) is str:
            out.append(TaskDependency(dep))
        elif isinstance(dep, TaskDependency):
            out.append(dep)
        elif isinstance(dep, str):
            out.append(TaskDependency(str(dep)))
        else:
            check_kind(owner, "depends_on[]", dep, (str, TaskDependency), "a task key (str) or a TaskDependency")
    return tuple(out)


def unknown_kwarg(owner: str, name: str, table: Mapping[str, Any], exclude: Iterable[str] = ()) -> str:
    known = [k for k in table if k not in exclude]
    guess = closest(name, known)
    hint = f"; did you mean {guess!r}?" if guess else ""
    return f"{owner}() got an unexpected keyword argument {name!r}{hint}"


def hashable(value: Any) -> Any:
    """``value`` made hashable, hashing equal when equal: a dict (a FrozenMap too) as a frozenset of its items."""
    if isinstance(value, tuple):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return frozenset((k, hashable(v)) for k, v in value.items())
    return value


def add_fields(owner: str, given: dict[str, Any], fields: Iterable[tuple[str, Any]]) -> None:
    """Check and freeze each SubmitTask field given (``None``: not given) into ``given``."""
    table = SubmitTask._fields
    for name, value in fields:
        if value is None:
            continue
        if name == "extra":
            # Checked now, the way SubmitTask would, so a mistake points at this call.
            given["extra"] = freeze_extra(SubmitTask, value)
            continue
        f = table.get(name)
        if f is None or name == "task_key":
            raise TypeError(unknown_kwarg(owner, name, table))
        given[name] = value if type(value) is f.exact else f.conv(value)
