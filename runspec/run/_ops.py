"""
The operations a ``Run`` records: one small immutable record per builder call.

A ``Run`` is a chain of operations, each on top of the run it was called on (see ``Run``); ``compile()``
folds them, in order, into the request body. They are ``NamedTuple``\\ s: typed, immutable, cheap to
make (a 1000-task run makes 1000 ``AddTask``), and picklable.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from runspec._frozen import FrozenMap
from runspec.errors import Problem
from runspec.spec import JobEnvironment, JobsHealthRule, NewCluster

__all__ = [
    "AS_LOADED",
    "AddCluster",
    "AddEnvironment",
    "AddHealthRule",
    "AddTask",
    "Append",
    "LoadWarnings",
    "Op",
    "RemoveTask",
    "SetExtra",
    "SetField",
    "Start",
    "UpdateTask",
]


class Start(NamedTuple):
    """The first operation of every run: nothing yet."""


class SetField(NamedTuple):
    """Set a top-level field (``None`` unsets it)."""

    name: str
    value: Any


class SetExtra(NamedTuple):
    """Set the top-level fields outside the schema."""

    extra: FrozenMap[str, Any]


class Append(NamedTuple):
    """Append one entry to a top-level list field (``access_control_list``)."""

    name: str
    item: Any


class AddTask(NamedTuple):
    """
    One more task: its fields (checked, frozen; ``extra`` among them when given), the key it was given
    (None: derive one), and the named cluster it asked for (None: none; ``AS_LOADED``: keep its compute
    as loaded, without the run's one cluster).
    """

    key: str | None
    fields: dict[str, Any]
    cluster: str | None


class UpdateTask(NamedTuple):
    """Replace fields of the task with this key (a value of ``None`` removes the field)."""

    key: str
    changes: dict[str, Any]


class RemoveTask(NamedTuple):
    """Remove the task with this key."""

    key: str


class AddCluster(NamedTuple):
    """Declare a named cluster that tasks refer to."""

    name: str
    cluster: NewCluster


class AddEnvironment(NamedTuple):
    """Declare a serverless environment."""

    environment: JobEnvironment


class AddHealthRule(NamedTuple):
    """Append one health rule."""

    rule: JobsHealthRule


class LoadWarnings(NamedTuple):
    """What loading a body noticed, reported again by ``compile()``."""

    warnings: tuple[Problem, ...]


Op = (
    Start
    | SetField
    | SetExtra
    | Append
    | AddTask
    | UpdateTask
    | RemoveTask
    | AddCluster
    | AddEnvironment
    | AddHealthRule
    | LoadWarnings
)

#: The cluster name of a task loaded from a body: none, and the run's one named cluster is not added.
AS_LOADED = "\x00as-loaded"  # a name nobody gives a cluster
