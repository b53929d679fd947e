"""
The registries of the checks, and what every rule shares: ``Report``, ``object_rule``, ``task_rule``.

See ``runspec.spec.checks._checks`` for how the rules run and how to add one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from runspec.errors import Problem
from runspec.spec.objects import set_fields
from runspec.spec.objects._convert import jpath, plain_json
from runspec.spec.schema._schema import closest

if TYPE_CHECKING:  # pragma: no cover
    from runspec.spec.model._objects import SubmitTask, Task
    from runspec.spec.objects._object import SpecObject
    from runspec.spec.task_types import TaskType

__all__ = [
    "CLASS_CHECKS",
    "ENV_VAR_NAME_RE",
    "OBJECT_RULES",
    "TASK_KEY_CHARS",
    "TASK_RULES",
    "Check",
    "ClassChecks",
    "Go",
    "Maker",
    "ObjectRule",
    "Report",
    "Rules",
    "TaskRule",
    "TaskRuleMaker",
    "TaskScope",
    "TypesTest",
    "check_enums",
    "forget_plans",
    "indexes",
    "object_rule",
    "out_of_range",
    "shaped_task_rule",
    "task_rule",
]

_INT64 = 2**63
#: The characters a task key is made of: ASCII letters, digits, '_' and '-' (a key is 1 or more of them;
#: used with fullmatch).
TASK_KEY_CHARS = re.compile(r"[A-Za-z0-9_\-]*")
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
    """
    Collects errors and warnings in the order they are found. ``told`` counts those reported through
    ``error`` and ``warn`` (a check compares it before and after an object's rules).
    """

    __slots__ = ("errors", "told", "warnings")

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.told = 0

    def error(self, path: str, code: str, message: str) -> None:
        self.errors.append(Problem(path, code, message))
        self.told += 1

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(Problem(path, code, message))
        self.told += 1


class TaskScope:
    """
    What a task rule may know besides the task: the run's tasks and keys, its environments, whether it
    has a git source, and about the task itself its set fields (``fields``, as ``set_fields`` reads them),
    its task types (``types``: the fields, ``entries``: their ``TaskType``) and whether it is the task
    inside a for_each task (``inner``). ``used_envs`` collects the environments tasks use; ``ordered`` is
    cleared when a task depends on one not listed before it (only then can the dependencies have a cycle).
    """

    __slots__ = (
        "entries",
        "environments",
        "fields",
        "has_git_source",
        "inner",
        "keys",
        "ordered",
        "tasks",
        "used_envs",
    )

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
        self.ordered = True
        self.entries: Sequence[TaskType] = ()
        self.fields: Mapping[str, Any] = {}

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


#: The rules of one class's objects: its own in the order registered, then its bases' (``__mro__`` order).
Rules = tuple[ObjectRule, ...]
#: The check of one class: ``check(obj, path, report, seen)`` checks ``obj`` and the objects inside it, each
#: object's problems reported once per run (``seen`` holds the ids of those not to look at again).
Check = Callable[[Any, str, Report, "set[int]"], None]
#: Class -> its check, or None when nothing in or about its objects can be reported (the walk skips them).
Go = Mapping[type, "Check | None"]
#: What ``runspec.spec.checks._class_checks`` generates for each class: ``maker(rules, nested, go)`` makes
#: the class's check from its rules, its fields worth walking into (field -> JSON path suffix) and ``go``.
Maker = Callable[[Rules, Mapping[str, str], Go], Check]


class ClassChecks(dict[type, "Check | None"]):
    """
    Class -> its check, or None when nothing in or about its objects can be reported (the walk skips
    them). ``runspec.spec.checks._checks`` fills it from the generated makers and ``OBJECT_RULES`` when
    a check starts, and sets ``make``, which makes the check of a class first met later (a subclass).
    """

    make: Callable[[type], Check | None]

    def __missing__(self, cls: type) -> Check | None:
        check = self[cls] = self.make(cls)
        return check


#: The checks of the classes, made again after a rule is added (``forget_plans``).
CLASS_CHECKS = ClassChecks()


def forget_plans() -> None:
    """Drop the checks made so far: the next check makes them again from the rules."""
    CLASS_CHECKS.clear()


#: ``"[0]"``, ``"[1]"``, ...: the path suffixes of a list's items, each made once (see ``indexes``).
_INDEXES: list[str] = []
#: The most suffixes kept (a longer list's are made for its walk alone).
_MAX_INDEXES = 4096


def indexes(n: int) -> list[str]:
    """The path suffixes of the items of a list of ``n`` (``"[0]"``, ``"[1]"``, ...; the list may be longer)."""
    global _INDEXES
    have = _INDEXES
    if n > len(have):
        have = have + [f"[{i}]" for i in range(len(have), n)]  # a new list: another thread may read the one kept
        if n <= _MAX_INDEXES:
            _INDEXES = have
    return have


def check_enums(obj: SpecObject, path: str, r: Report) -> None:
    """Report each value of an enum field of ``obj`` that is not one of the field's values."""
    d = set_fields(obj)
    for name, allowed in type(obj)._enum_fields:
        value = d.get(name)
        if value is None:
            continue
        values = value if isinstance(value, tuple) else (value,)
        for i, v in enumerate(values):
            if v not in allowed:
                where = jpath(path, name) + (f"[{i}]" if isinstance(value, tuple) else "")
                guess = closest(str(v), allowed)
                hint = f"; did you mean {guess!r}?" if guess else ""
                r.error(where, "invalid-enum", f"{v!r} is not one of {', '.join(sorted(allowed))}{hint}")


def out_of_range(r: Report, path: str, value: int) -> None:
    """Report an integer field's value outside the API's 64 bits."""
    from runspec.spec.objects._load import outside_int64

    r.error(path, "out-of-range", outside_int64(value))


def object_rule(*types: type) -> Callable[[ObjectRule], ObjectRule]:
    """Register a rule run once on every object of ``types``, wherever it appears in a run."""

    def register(fn: ObjectRule) -> ObjectRule:
        for t in types:
            OBJECT_RULES.setdefault(t, []).append(fn)
        forget_plans()
        return fn

    return register


#: A test of a task's task types (``TaskScope.entries``): whether a rule has anything to say about such a task.
TypesTest = Callable[["Sequence[TaskType]"], bool]


#: A task rule made once per shape of task: ``make(names, entries)`` gets the fields the shape sets (in
#: order) and their ``TaskType``s, and returns the rule for the tasks of that shape, or None when it has
#: nothing to say about any of them.
TaskRuleMaker = Callable[["tuple[str, ...]", "Sequence[TaskType]"], "TaskRule | None"]


class TaskRuleEntry(NamedTuple):
    """
    A registered task rule: the function registered (the rule, or the ``TaskRuleMaker`` of
    ``shaped_task_rule``), what gives its rule for a shape of task (None: nothing to say about such a
    task), and whether it runs on the task inside each for_each task only.
    """

    rule: TaskRule | TaskRuleMaker
    make: TaskRuleMaker
    inner_only: bool


@overload
def task_rule(fn: TaskRule) -> TaskRule: ...


@overload
def task_rule(
    fn: None = None,
    *,
    reads: Iterable[str] | None = None,
    when: TypesTest | None = None,
    inner_only: bool = False,
) -> Callable[[TaskRule], TaskRule]: ...


def task_rule(
    fn: TaskRule | None = None,
    *,
    reads: Iterable[str] | None = None,
    when: TypesTest | None = None,
    inner_only: bool = False,
) -> TaskRule | Callable[[TaskRule], TaskRule]:
    """
    Register a rule run once on every task of a run, and on the task inside each for_each task.

    ``@task_rule`` runs the rule on every task. ``@task_rule(reads=("depends_on",))`` says the rule has
    nothing to say about a task that sets none of those fields, so it runs on the tasks that set one;
    ``when=test`` says it has nothing to say about a task whose task types (the ``TaskType`` of each
    task-type field it sets) fail ``test``; ``inner_only=True`` runs it on the task inside each for_each
    task only. Both guards depend only on which fields a task sets: the rule is registered as the
    ``shaped_task_rule`` that gives it for the shapes that pass them, worked out once per shape.
    """

    def register(rule: TaskRule) -> TaskRule:
        fields = frozenset(reads) if reads is not None else None

        def make(names: tuple[str, ...], entries: Sequence[TaskType]) -> TaskRule | None:
            if (fields is not None and fields.isdisjoint(names)) or (when is not None and not when(entries)):
                return None
            return rule

        TASK_RULES.append(TaskRuleEntry(rule, make, inner_only))
        return rule

    return register if fn is None else register(fn)


def shaped_task_rule(make: TaskRuleMaker) -> TaskRuleMaker:
    """
    Register a task rule that reads facts of the task's shape (which fields it sets, its task types): the
    decorated ``make(names, entries)`` works them out once for each shape of task in a run and returns the
    rule run on every task of that shape (and on the task inside each for_each task of that shape), or
    None when such a task has nothing to be told. Use it when a rule tests which fields a task sets or
    reads its task type's facts; what it says is the same as the plain rule's, on the same tasks.
    """
    TASK_RULES.append(TaskRuleEntry(make, make, False))
    return make


def _exactly_one(obj: SpecObject, names: Sequence[str], path: str, r: Report, code: str, what: str) -> None:
    present = [n for n in names if n in set_fields(obj)]
    if len(present) == 1:
        return
    if present:
        r.error(path, code, f"{what} takes exactly one of {', '.join(names)}; this one sets {', '.join(present)}")
    else:
        r.error(path, code, f"{what} needs exactly one of {', '.join(names)}; this one sets none")
