"""
The registries of the checks, and what every rule shares: ``Report``, ``object_rule``, ``task_rule``.

See ``runspec.spec.checks._checks`` for how the rules run and how to add one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from runspec.errors import Problem
from runspec.spec.objects import set_fields
from runspec.spec.objects._convert import plain_json

if TYPE_CHECKING:  # pragma: no cover
    from runspec.spec.model._objects import SubmitTask, Task
    from runspec.spec.objects._object import SpecObject
    from runspec.spec.task_types import TaskType

__all__ = [
    "ACTIVE_PLANS",
    "ENV_VAR_NAME_RE",
    "OBJECT_RULES",
    "TASK_KEY_RE",
    "TASK_RULES",
    "WALK_PLANS",
    "ObjectRule",
    "Report",
    "TaskRule",
    "TaskScope",
    "WalkPlan",
    "forget_plans",
    "object_rule",
    "task_rule",
]

_INT64 = 2**63
TASK_KEY_RE = re.compile(r"[A-Za-z0-9_\-]+")  # used with fullmatch: "$" would let a final newline through
ENV_VAR_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # used with fullmatch


def _num(value: Any) -> float | None:
    """
    A number field's value as a number (bodies may carry numeric strings), or None. An integer outside
    the API's 64 bits is None too: the walk reports it, and no rule writes it out in a message.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else None
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _json_size(value: Any) -> int:
    return len(json.dumps(plain_json(value), separators=(",", ":")).encode("utf-8"))


def _quote_keys(keys: Iterable[str], limit: int = 8) -> str:
    keys = list(keys)
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


# ---- reporting ---------------------------------------------------------------------------------


class Report:
    """Collects errors and warnings in the order they are found."""

    __slots__ = ("errors", "warnings")

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, code: str, message: str) -> None:
        self.errors.append(Problem(path, code, message))

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(Problem(path, code, message))


class TaskScope:
    """
    What a task rule may know besides the task: the run's tasks and keys, its environments, whether it
    has a git source, and about the task itself its task types (``types``: the fields, ``entries``: their
    ``TaskType``) and whether it is the task inside a for_each task (``inner``). ``used_envs`` collects the
    environments tasks use.
    """

    __slots__ = ("entries", "environments", "has_git_source", "inner", "keys", "tasks", "used_envs")

    def __init__(
        self,
        tasks: Sequence[SubmitTask],
        keys: dict[str, int],
        environments: dict[str, int],
        used_envs: set[str],
        has_git_source: bool,
        inner: bool,
    ) -> None:
        self.tasks = tasks
        self.keys = keys
        self.environments = environments
        self.used_envs = used_envs
        self.has_git_source = has_git_source
        self.inner = inner
        self.entries: list[TaskType] = []

    @property
    def types(self) -> list[str]:
        """The task-type fields set on the task (exactly one in a valid run)."""
        return [e.field for e in self.entries]


#: A rule about one object: ``rule(obj, path, report)``.
ObjectRule = Callable[[Any, str, Report], None]
#: A rule about one task in its run: ``rule(task, path, scope, report)``.
TaskRule = Callable[["SubmitTask | Task", str, TaskScope, Report], None]

#: Class -> the rules for each object of that class (and of its subclasses), in the order registered.
OBJECT_RULES: dict[type, list[ObjectRule]] = {}
#: The rules for each task of a run (and the task inside each for_each task), in the order registered.
TASK_RULES: list[TaskRuleEntry] = []


class WalkPlan(NamedTuple):
    """
    What the checks' walk does with the objects of one class: its enum fields with their values, then its
    integer fields with None (the API's are 64-bit); the per-object rules to run on each; and the
    fields to walk into, each with its JSON path suffix. A field is walked only when a rule can report
    something about its objects or inside them.
    """

    values: tuple[tuple[str, frozenset[str] | None], ...]
    checks: tuple[ObjectRule, ...]
    nested: dict[str, str]


#: Class -> its walk plan, made on first use from OBJECT_RULES (and made again when a rule is added).
WALK_PLANS: dict[type, WalkPlan] = {}
#: Class -> its walk plan when the walk has anything to do with its objects, else None (the walk skips them).
ACTIVE_PLANS: dict[type, WalkPlan | None] = {}


def forget_plans() -> None:
    """Drop the walk plans made so far: the next check makes them again from the rules."""
    WALK_PLANS.clear()
    ACTIVE_PLANS.clear()


def object_rule(*types: type) -> Callable[[ObjectRule], ObjectRule]:
    """Register a rule run once on every object of ``types``, wherever it appears in a run."""

    def register(fn: ObjectRule) -> ObjectRule:
        for t in types:
            OBJECT_RULES.setdefault(t, []).append(fn)
        forget_plans()
        return fn

    return register


class TaskRuleEntry(NamedTuple):
    """A registered task rule: the function, the fields it reads (None: it looks at every task) and where it runs."""

    rule: TaskRule
    reads: frozenset[str] | None
    inner_only: bool


@overload
def task_rule(fn: TaskRule) -> TaskRule: ...


@overload
def task_rule(
    fn: None = None, *, reads: Iterable[str] | None = None, inner_only: bool = False
) -> Callable[[TaskRule], TaskRule]: ...


def task_rule(
    fn: TaskRule | None = None, *, reads: Iterable[str] | None = None, inner_only: bool = False
) -> TaskRule | Callable[[TaskRule], TaskRule]:
    """
    Register a rule run once on every task of a run, and on the task inside each for_each task.

    ``@task_rule`` runs the rule on every task. ``@task_rule(reads=("depends_on",))`` says the rule has
    nothing to say about a task that sets none of those fields, so it runs on the tasks that set one;
    ``inner_only=True`` runs it on the task inside each for_each task only.
    """

    def register(rule: TaskRule) -> TaskRule:
        TASK_RULES.append(TaskRuleEntry(rule, frozenset(reads) if reads is not None else None, inner_only))
        return rule

    return register if fn is None else register(fn)


def _exactly_one(obj: SpecObject, names: Sequence[str], path: str, r: Report, code: str, what: str) -> None:
    present = [n for n in names if n in set_fields(obj)]
    if len(present) == 1:
        return
    if present:
        r.error(path, code, f"{what} takes exactly one of {', '.join(names)}; this one sets {', '.join(present)}")
    else:
        r.error(path, code, f"{what} needs exactly one of {', '.join(names)}; this one sets none")
