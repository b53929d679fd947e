"""
The operations a ``Run`` records besides its tasks: one small record per builder call, never changed once made.

A ``Run`` holds the record of its last call, which holds the record of the call before it (``Record``);
``compile()`` folds them, in order, into the request body. A ``Run.task`` call keeps its task in its record
itself: a 1000-task run is 1000 records and nothing more. Every other call keeps one of these operations. They are
plain slotted classes: typed, equal and hashed by value, picklable, and, unlike ``NamedTuple``\\ s, cheap
to define (``import runspec`` defines eleven).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from runspec._frozen import FrozenMap
from runspec.errors import Problem

if TYPE_CHECKING:  # pragma: no cover
    from runspec.spec import JobEnvironment, JobsHealthRule, NewCluster

__all__ = [
    "AS_LOADED",
    "AddCluster",
    "AddEnvironment",
    "AddHealthRule",
    "Append",
    "ClusterKeys",
    "LoadWarnings",
    "Op",
    "Record",
    "RemoveTask",
    "SetExtra",
    "SetField",
    "Start",
    "UpdateTask",
]


class _Operation:
    """
    Base of the operations: equal by type and values, hashed by values, shown with them. Nothing assigns
    to an operation once made (runs share them), so they are not guarded against it: that would cost
    every ``Run.task`` a call per field.
    """

    __slots__: tuple[str, ...] = ()

    def values(self) -> tuple[Any, ...]:
        """The operation's values, in the order of its fields."""
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.values() == other.values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self.values())


class Start(_Operation):
    """The first operation of every run: nothing yet."""

    __slots__ = ()


class SetField(_Operation):
    """Set a top-level field (``None`` unsets it)."""

    __slots__ = ("name", "value")
    name: str
    value: Any

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value


class SetExtra(_Operation):
    """Set the top-level fields outside the schema."""

    __slots__ = ("extra",)
    extra: FrozenMap[str, Any]

    def __init__(self, extra: FrozenMap[str, Any]) -> None:
        self.extra = extra


class Append(_Operation):
    """Append one entry to a top-level list field (``access_control_list``)."""

    __slots__ = ("name", "item")  # noqa: RUF023 - the order of the arguments
    name: str
    item: Any

    def __init__(self, name: str, item: Any) -> None:
        self.name = name
        self.item = item


class UpdateTask(_Operation):
    """Replace fields of the task with this key (a value of ``None`` removes the field)."""

    __slots__ = ("key", "changes")  # noqa: RUF023 - the order of the arguments
    key: str
    changes: dict[str, Any]

    def __init__(self, key: str, changes: dict[str, Any]) -> None:
        self.key = key
        self.changes = changes


class RemoveTask(_Operation):
    """Remove the task with this key."""

    __slots__ = ("key",)
    key: str

    def __init__(self, key: str) -> None:
        self.key = key


class AddCluster(_Operation):
    """Declare a named cluster that tasks refer to."""

    __slots__ = ("name", "cluster")  # noqa: RUF023 - the order of the arguments
    name: str
    cluster: NewCluster

    def __init__(self, name: str, cluster: NewCluster) -> None:
        self.name = name
        self.cluster = cluster


class AddEnvironment(_Operation):
    """Declare a serverless environment."""

    __slots__ = ("environment",)
    environment: JobEnvironment

    def __init__(self, environment: JobEnvironment) -> None:
        self.environment = environment


class AddHealthRule(_Operation):
    """Append one health rule."""

    __slots__ = ("rule",)
    rule: JobsHealthRule

    def __init__(self, rule: JobsHealthRule) -> None:
        self.rule = rule


class ClusterKeys(_Operation):
    """The cluster name of loaded tasks, by task key (a job's ``job_cluster_key``): names, not compute."""

    __slots__ = ("names",)
    names: tuple[tuple[str, str], ...]

    def __init__(self, names: tuple[tuple[str, str], ...]) -> None:
        self.names = names


class LoadWarnings(_Operation):
    """What loading a body noticed, reported again by ``compile()``."""

    __slots__ = ("warnings",)
    warnings: tuple[Problem, ...]

    def __init__(self, warnings: tuple[Problem, ...]) -> None:
        self.warnings = warnings


Op = (
    Start
    | SetField
    | SetExtra
    | Append
    | UpdateTask
    | RemoveTask
    | AddCluster
    | AddEnvironment
    | AddHealthRule
    | ClusterKeys
    | LoadWarnings
)

#: The cluster name of a task loaded from a body: none, and the run's one named cluster is not added.
AS_LOADED = "\x00as-loaded"  # a name nobody gives a cluster


#: The record of one call of a ``Run``: ``(the record of the call before it or None, task, second)``. A
#: ``Run.task`` call's ``task`` is the task's fields, checked and frozen, with ``task_key`` first when a key
#: was given and ``extra`` among them when given: the very dict ``compile()`` makes the ``SubmitTask`` from
#: when it has nothing to add; its ``second`` is the named cluster the task asked for (None: none;
#: ``AS_LOADED``: keep its compute as loaded). Any other call's ``task`` is None and its ``second`` its
#: operation (an ``Op``). A run of 1000 tasks is 1001 such tuples, each made once and shared by every run
#: built on it.
Record: TypeAlias = "tuple[Record | None, dict[str, Any] | None, Any]"
