"""
Whole-run checks: everything about a run that one value alone cannot tell.

``check_run`` runs every rule on a ``RunSpec``, the same rules however the spec was made (the builder,
the classes, ``from_dict``), and returns a ``Report`` of errors and warnings, each with the JSON path
of the offending value and a stable code documented in ``docs/problems.md``.

There are three kinds of rule, each a small function named after what it checks:

- **Per-object rules** (``runspec.spec.checks._object_rules``) run once on every object of a class, wherever
  it appears in the run, after the class's enum and integer fields are checked. Those tests, and the walk
  into the objects inside it, are generated per class from the schema by ``tools/gen_spec.py``
  (``runspec.spec.checks._class_checks``); each class's check runs its registered rules. Add one with the
  ``object_rule`` decorator::

      @object_rule(NewCluster)
      def _cluster_name(cluster: NewCluster, path: str, r: Report) -> None:
          if cluster.cluster_name == "":
              r.error(jpath(path, "cluster_name"), "invalid-value", "cluster_name is empty")

- **Per-task rules** (``runspec.spec.checks._task_rules``) run once on every task of the run and on the task
  inside each for_each task, with a ``TaskScope`` saying what the run around it holds (keys,
  environments, git source) and the task's task-type fields. Add one with ``task_rule``::

      @task_rule
      def _named_retries(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
          ...

  A rule with nothing to say about most tasks says so with guards: ``reads=(fields...)`` (it runs on
  the tasks that set one of them) and ``when=test`` (on the tasks whose task types pass ``test``). The
  guards depend only on which fields a task sets, so each is worked out once per such set of fields
  (and kept until the rules or the task-types table change). A rule that tests which fields a task
  sets, or reads its task type's facts, is registered with ``shaped_task_rule``: a function of the
  fields (in order) and their ``TaskType``s that returns the rule for the tasks that set them (or None:
  nothing to say), made once per such set of fields; a guarded ``task_rule`` is registered as one::

      @shaped_task_rule
      def _named_compute(names: tuple[str, ...], entries: Sequence[TaskType]) -> TaskRule | None:
          ...

- **Run-level rules** (here) look at several tasks at once: task keys, dependency cycles, unused
  environments, the top-level fields.

Rules read spec objects (never dicts), tolerate missing fields (a body loaded with problems is still
checked as far as it goes), and report with ``r.error(path, code, message)`` or ``r.warn(...)``. A new
code goes in ``docs/problems.md`` (a test checks that every code is there). Nothing else needs an
edit: the registries are read by ``check_run`` for every object and every task, with no shortcut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, cast

from runspec.errors import Problem
from runspec.spec.checks import _object_rules as _object_rules  # registers the per-object rules
from runspec.spec.checks import _task_rules as _task_rules  # registers the per-task rules
from runspec.spec.checks._class_checks import CHECKS
from runspec.spec.checks._rules import (
    CLASS_CHECKS,
    OBJECT_RULES,
    TASK_KEY_CHARS,
    TASK_RULES,
    Check,
    Go,
    Maker,
    Report,
    Rules,
    TaskRule,
    TaskRuleEntry,
    TaskScope,
    _num,
)
from runspec.spec.checks._single import single_task
from runspec.spec.checks._task_rules import task_key_shape
from runspec.spec.limits import (
    DURATION_TARGETS,
    MAX_BODY_BYTES,
    MAX_ENV_VARIABLE_ENTRIES,
    MAX_RUN_NAME_BYTES,
    MAX_TASK_KEY,
    MAX_TASKS,
    MAX_TOKEN,
)
from runspec.spec.model._objects import GitSource, JobEnvironment, SubmitTask
from runspec.spec.objects._convert import REGISTRY
from runspec.spec.objects._load import LoadContext
from runspec.spec.objects._object import SpecObject
from runspec.spec.schema._schema import closest
from runspec.spec.task_types import TASK_TYPES, TaskType, task_types
from runspec.spec.task_types import table as type_table

__all__ = ["MAX_BODY_BYTES", "TASK_TYPES", "Problem", "Report", "RunBody", "check_run", "task_types"]


class RunBody(Protocol):
    """The fields of a ``RunSpec`` the whole-run checks read (``RunSpec`` runs them, so it is not imported)."""

    @property
    def tasks(self) -> Sequence[SubmitTask] | None: ...
    @property
    def run_name(self) -> str | None: ...
    @property
    def timeout_seconds(self) -> int | None: ...
    @property
    def idempotency_token(self) -> str | None: ...
    @property
    def git_source(self) -> GitSource | None: ...
    @property
    def environments(self) -> Sequence[JobEnvironment] | None: ...
    @property
    def performance_target(self) -> object: ...
    @property
    def duration_target(self) -> str | None: ...
    @property
    def environment_variables(self) -> Sequence[object] | None: ...


# ---- per-object checks, run on every object of the run ------------------------------------------


def _family(cls: type[SpecObject]) -> list[type[SpecObject]]:
    """``cls`` and its subclasses: the classes of the objects a field of ``cls`` can hold."""
    out = [cls]
    for sub in cls.__subclasses__():
        out += _family(sub)
    return out


def _all_classes() -> list[type[SpecObject]]:
    """Every spec class a run's objects can be of: the schema's classes and their subclasses."""
    return list(dict.fromkeys(c for cls in REGISTRY.values() for c in _family(cls)))


def _rules_of(cls: type) -> Rules:
    return tuple(rule for t in cls.__mro__ for rule in OBJECT_RULES.get(t, ()))


def _rules_only(rules: Rules, nested: Mapping[str, str], go: Go) -> Check:
    """
    The check of a class with no enum, integer or object fields: its rules, once per object (remembered
    only when they reported something: looked at again, an object they said nothing about says nothing).
    """

    def check(obj: Any, path: str, r: Report, seen: set[int]) -> None:
        if seen and id(obj) in seen:
            return
        told = r.told
        for rule in rules:
            rule(obj, path, r)
        if r.told != told:
            seen.add(id(obj))

    return check


_NOTHING: tuple[Maker, tuple[str, ...], dict[str, str]] = (_rules_only, (), {})


def _generated(cls: type) -> tuple[Maker, tuple[str, ...], dict[str, str]]:
    """The generated maker of ``cls``'s check, its enum and integer fields, and its object fields."""
    return CHECKS.get(getattr(cls, "_wire_type", ""), _NOTHING)


def _walked(cls: type, worth: Callable[[type[SpecObject]], bool]) -> dict[str, str]:
    """The fields of ``cls`` holding objects ``worth`` says are worth checking, each with its path suffix."""
    nested = _generated(cls)[2]
    return {name: "." + name for name, wire in nested.items() if any(map(worth, _family(REGISTRY[wire])))}


def _make(cls: type, worth: Callable[[type[SpecObject]], bool]) -> Check | None:
    """The check of ``cls``, or None when ``worth`` says nothing in or about its objects can be reported."""
    if not worth(cls):
        return None
    return _generated(cls)[0](_rules_of(cls), _walked(cls, worth), CLASS_CHECKS)


def _make_all() -> None:
    """
    Make the check of every class (``CLASS_CHECKS``). A class is worth checking when it has enum or integer
    fields or rules, or holds (in a field, or a list) objects of a class worth checking.

    The checks are made aside and put in the table in one step: a check running in another thread sees
    the table empty (and makes them too) or whole.
    """
    classes = _all_classes()
    worth = {cls for cls in classes if _generated(cls)[1] or _rules_of(cls)}
    grew = True
    while grew:
        grew = False
        for cls in classes:
            if cls not in worth and any(
                t in worth for wire in _generated(cls)[2].values() for t in _family(REGISTRY[wire])
            ):
                worth.add(cls)
                grew = True
    made = {cls: _make(cls, worth.__contains__) for cls in classes}
    global _plans
    _plans = None  # made from the checks before
    CLASS_CHECKS.update(made)


def _make_late(cls: type) -> Check | None:
    """
    The check of a class first met after the others were made (a subclass defined since). The classes
    whose objects it holds are read from the table as made; one not made yet counts as having nothing
    to report.
    """
    _, values, nested = _generated(cls)
    worth_itself = (
        bool(values)
        or bool(_rules_of(cls))
        or any(CLASS_CHECKS.get(t) is not None for wire in nested.values() for t in _family(REGISTRY[wire]))
    )
    return _make(cls, lambda c: worth_itself if c is cls else CLASS_CHECKS.get(c) is not None)


CLASS_CHECKS.make = _make_late


def _made(cls: type[SpecObject]) -> bool:
    """Whether anything in or about the objects of ``cls`` can be reported (its check is made)."""
    return CLASS_CHECKS[cls] is not None


# ---- per-task rules, and the walk into each task's objects ------------------------------------


#: What a shape of task gets (see ``_Plans``).
_Shape = tuple[
    bool, tuple[tuple[str, str], ...], tuple[TaskType, ...], tuple[TaskRule, ...], tuple[TaskRule, ...], bool
]


class _Plans:
    """
    What the checks of runs work out once, from the checks of the classes, the task rules ``rules`` and
    the task types ``types``, and keep until one of them changes.

    ``shapes``: for each shape of task (the fields it sets, in order; made by ``shape``), whether it
    sets an enum or integer field of its class; which of its fields hold objects worth checking, each
    with its path; its task types; the task rules that have something to say about it (in the order
    registered), as a task of the run and as the task inside a for_each task; and whether it is a
    for_each task. For each class of run, its rules and the fields its walk goes into; for each class
    of task, its check of the task alone.
    """

    def __init__(self, rules: tuple[TaskRuleEntry, ...], types: dict[str, TaskType]) -> None:
        self.shapes: dict[tuple[str, ...], _Shape] = {}
        self.rules = rules
        self.types = types
        self.made_from = (rules, tuple(types.values()))
        _, valued, self.nested = _generated(SubmitTask)
        self.valued = frozenset(valued)
        self.runs: dict[type, tuple[Maker, Rules, dict[str, str]]] = {}
        self.tasks: dict[type, tuple[Check, bool]] = {}

    def shape(self, names: tuple[str, ...]) -> _Shape:
        """What a task that sets the fields ``names`` gets (kept for at most ``_MAX_SHAPES`` shapes)."""
        known = self.shapes.get(names)  # not `in` then a subscript: another thread may clear the table between
        if known is not None:
            return known
        if len(self.shapes) >= _MAX_SHAPES:
            self.shapes.clear()  # bodies whose tasks set their fields in ever new orders
        types = self.types
        entries = tuple(types[k] for k in names if k in types)
        made = [(e.make(names, entries), e.inner_only) for e in self.rules]
        nested = self.nested
        walk = tuple(
            (name, "." + name) for name in names if name in nested and any(map(_made, _family(REGISTRY[nested[name]])))
        )
        shape = self.shapes[names] = (
            not self.valued.isdisjoint(names),
            walk,
            entries,
            tuple(rule for rule, inner_only in made if rule is not None and not inner_only),
            tuple(rule for rule, _ in made if rule is not None),
            "for_each_task" in names,
        )
        return shape

    def run_check(self, cls: type, go: Go) -> Check:
        """The check of a run of class ``cls``: its own, walking into the objects inside it with ``go``."""
        if cls not in self.runs:
            self.runs[cls] = (_generated(cls)[0], _rules_of(cls), _walked(cls, lambda c: c is cls or _made(c)))
        maker, rules, walked = self.runs[cls]
        return maker(rules, walked, go)

    def task_alone(self, cls: type) -> tuple[Check, bool]:
        """The check of a task of class ``cls`` alone (not the objects inside it), and whether it has rules."""
        if cls not in self.tasks:
            self.tasks[cls] = (_generated(cls)[0](_rules_of(cls), {}, CLASS_CHECKS), bool(_rules_of(cls)))
        return self.tasks[cls]


_plans: _Plans | None = None
#: The most task shapes kept between checks (a run usually has a few; each costs about 2 kB).
_MAX_SHAPES = 4096


class _RunChecks(dict[type, "Check | None"]):
    """
    The checks one run's walk calls: for each task of the run (a ``SubmitTask``), the task's check made by
    ``task_check``; for any other object, its class's check. ``start`` reports what the run's top-level
    fields, task keys and environments say and readies the task rules, before any task is met.
    """

    def __init__(self, run: RunBody, plans: _Plans, later: Report) -> None:
        super().__init__()
        self.run = run
        self.plans = plans
        self.later = later

    def start(self, tasks: Sequence[SubmitTask]) -> None:
        """Report what the run's top-level fields, task keys and environments say; ready the task rules."""
        run, later = self.run, self.later
        _top_level(run, tasks, later)
        keys, self.keyed = _task_keys(tasks, later)
        environments = _environments(run, later)
        used: set[str] = set()
        has_git_source = run.git_source is not None
        self.scope = TaskScope(tasks, keys, environments, used, has_git_source, inner=False)
        self.inner_scope = TaskScope(tasks, keys, environments, used, has_git_source, inner=True)

    def finish(self) -> None:
        """Report what the run's tasks say together: dependency cycles, environments no task uses."""
        scope = self.scope
        if not (self.keyed and scope.ordered):  # unique keys, each task depending on earlier ones only: no cycle
            _cycles(scope.tasks, scope.keys, self.later)
        for key, index in scope.environments.items():
            if key not in scope.used_envs:
                self.later.error(
                    f"$.environments[{index}].environment_key",
                    "unused-environment",
                    f"environment {key!r} is declared but no task uses it; "
                    f"remove it or set environment_key={key!r} on a task",
                )

    def __missing__(self, cls: type) -> Check | None:
        check = self[cls] = self.task_check(cls) if issubclass(cls, SubmitTask) else CLASS_CHECKS[cls]
        return check

    def task_check(self, cls: type) -> Check:
        """
        The check of a task of the run: its class's check of the task alone (its enum and integer fields,
        when its shape sets one, and its rules), then the objects inside it worth checking, then every
        task rule its shape passes (and those of the task inside it, when it is a for_each task),
        reported after the walk. The task's fields are read once, its shape looked up once.
        """
        plans = self.plans
        alone, has_rules = plans.task_alone(cls)
        shapes, scope, inner_scope, later, go = plans.shapes, self.scope, self.inner_scope, self.later, CLASS_CHECKS

        def check(task: Any, path: str, r: Report, seen: set[int]) -> None:
            d = task.__dict__  # its set fields (as `set_fields` reads them, without the call)
            names = tuple(d)
            try:
                valued, walk, entries, rules, _, loop = shapes[names]
            except KeyError:
                valued, walk, entries, rules, _, loop = plans.shape(names)
            if valued or has_rules:
                alone(task, path, r, seen)
            for name, suffix in walk:
                v = d[name]
                if type(v) is tuple:
                    i = 0
                    for item in v:
                        f = go[type(item)]
                        if f is not None:
                            f(item, f"{path}{suffix}[{i}]", r, seen)
                        i += 1  # noqa: SIM113 - enumerate() costs more than the usual one-item list's walk
                else:
                    f = go[type(v)]
                    if f is not None:
                        f(v, path + suffix, r, seen)
            scope.entries = entries
            scope.fields = d
            for rule in rules:
                rule(task, path, scope, later)
            if loop and (inner := d["for_each_task"].task) is not None:
                d = inner.__dict__
                _, _, inner_scope.entries, _, rules, _ = plans.shape(tuple(d))
                inner_scope.fields = d
                ipath = path + ".for_each_task.task"
                for rule in rules:
                    rule(inner, ipath, inner_scope, later)

        return check


# ---- run-level rules ---------------------------------------------------------------------------


def check_run(spec: SpecObject, *, strict: bool = True) -> Report:
    """
    Run every check on ``spec`` (a ``RunSpec``) and return what was found. ``strict=False``: a single-task
    body's task keeps keys outside the schema, with a warning, as ``RunSpec.from_dict(strict=False)`` does
    elsewhere.

    What the walk over the run's objects finds comes first, in the order it meets them; then what the
    top-level fields, task keys and environments say, the task rules task by task, dependency cycles and
    unused environments.
    """
    global _plans
    if not CLASS_CHECKS:
        _make_all()
    rules, types, plans = tuple(TASK_RULES), type_table(), _plans
    if plans is None or plans.made_from != (rules, tuple(types.values())):
        plans = _plans = _Plans(rules, types)
    r = Report()
    later = Report()
    seen: set[int] = set()
    run = cast(RunBody, spec)
    tasks: Sequence[SubmitTask] = run.tasks or ()
    go = _RunChecks(run, plans, later)
    if tasks:
        go.start(tasks)
    plans.run_check(type(spec), go)(spec, "$", r, seen)
    if not tasks:
        single = _single_task(spec, r, strict)
        go.start((single,) if single is not None else ())
        if single is not None:
            go.task_check(type(single))(single, "$", r, seen)
    go.finish()
    r.errors += later.errors
    r.warnings += later.warnings
    r.told += later.told
    return r


def _single_task(spec: SpecObject, r: Report, strict: bool) -> SubmitTask | None:
    """The one task of a body in the single-task form, read from its top level (see ``_single``)."""
    ctx = LoadContext(strict=strict)
    task = single_task(spec, ctx)
    if task is None and not ctx.problems:
        return None
    r.errors.extend(ctx.problems)
    r.warnings.extend(ctx.warnings)
    r.warn(
        "$",
        "single-task-form",
        "the task's fields are at the top level (the Jobs API 2.0 single-task form), which the service reads "
        "as a run of one task; spec.with_tasks_form() gives the same run with tasks[]",
    )
    return task


def _top_level(spec: RunBody, tasks: Sequence[SubmitTask], r: Report) -> None:
    if not tasks:
        r.error("$.tasks", "no-tasks", "a run needs at least one task")
    elif len(tasks) > MAX_TASKS:
        r.error("$.tasks", "too-many-tasks", f"a run takes at most {MAX_TASKS} tasks (got {len(tasks)})")
    token = spec.idempotency_token
    if token is not None:
        if len(token) > MAX_TOKEN:
            r.error(
                "$.idempotency_token",
                "too-long",
                f"the idempotency token has at most {MAX_TOKEN} characters (got {len(token)})",
            )
        elif not token:
            r.error(
                "$.idempotency_token",
                "invalid-value",
                "the idempotency token is empty; leave it unset to have submit() make one",
            )
    name = spec.run_name
    if name is not None:
        try:
            size = len(name.encode("utf-8"))
        except UnicodeEncodeError:
            r.error("$.run_name", "invalid-value", "run_name holds a lone surrogate, which UTF-8 cannot carry")
            size = 0
        if size > MAX_RUN_NAME_BYTES:
            r.error("$.run_name", "too-long", f"run_name has at most {MAX_RUN_NAME_BYTES} bytes of UTF-8 (got {size})")
    timeout = _num(spec.timeout_seconds)
    if timeout is not None and timeout < 0:
        r.error(
            "$.timeout_seconds",
            "out-of-range",
            f"timeout_seconds must be 0 (no limit) or more (got {spec.timeout_seconds})",
        )
    if len(spec.environment_variables or ()) > MAX_ENV_VARIABLE_ENTRIES:
        r.error(
            "$.environment_variables",
            "too-many-entries",
            f"at most {MAX_ENV_VARIABLE_ENTRIES} environment_variables entries",
        )
    target = spec.duration_target
    if target is not None:
        if target not in DURATION_TARGETS:
            guess = closest(target, DURATION_TARGETS)
            hint = f"; did you mean {guess!r}?" if guess else ""
            r.error(
                "$.duration_target", "invalid-enum", f"{target!r} is not one of {', '.join(DURATION_TARGETS)}{hint}"
            )
        if spec.performance_target != "COST_OPTIMIZED":
            r.error(
                "$.duration_target",
                "invalid-value",
                "duration_target only applies with performance_target='COST_OPTIMIZED'",
            )


def _task_keys(tasks: Sequence[SubmitTask], r: Report) -> tuple[dict[str, int], bool]:
    """
    The run's task keys (each at its first index), and whether each is new and of the right shape (the
    usual case: nothing to report; ``False`` only means ``_cycles`` looks). The keys are looked at
    together first (each at its last index, the same when no key repeats), each task's key in turn only
    when that fails.
    """
    # A body loaded with problems may lack required fields, so each is read as optional (None: unnamed).
    keys = {task.task_key: i for i, task in enumerate(tasks)}
    if (
        len(keys) == len(tasks)
        and None not in keys
        and "" not in keys
        and max(map(len, keys), default=0) <= MAX_TASK_KEY
        and TASK_KEY_CHARS.fullmatch("".join(keys))
    ):
        return keys, True
    first: dict[str, int] = {}
    for i, task in enumerate(tasks):
        key = task.task_key
        if key is not None:
            path = f"$.tasks[{i}].task_key"
            task_key_shape(key, path, r)
            if first.setdefault(key, i) != i:
                r.error(
                    path,
                    "duplicate-task-key",
                    f"task key {key!r} is already used by $.tasks[{first[key]}]; task keys must be unique",
                )
    return first, False


def _environments(spec: RunBody, r: Report) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, env in enumerate(spec.environments or ()):
        key: str | None = env.environment_key
        if key is None:
            continue
        if key in found:
            r.error(
                f"$.environments[{i}].environment_key",
                "duplicate-environment-key",
                f"environment key {key!r} is declared twice",
            )
        else:
            found[key] = i
        if env.spec is None:
            r.error(
                f"$.environments[{i}]",
                "environment-version-missing",
                f"environment {key!r} needs a spec with environment_version",
            )
    return found


def _cycles(tasks: Sequence[SubmitTask], keys: dict[str, int], r: Report) -> None:
    """
    Report each dependency cycle once, naming the tasks around it (not called when the keys are unique and
    each task depends on earlier tasks only, as ``_task_keys`` and the dependency rule tell).
    """
    graph: dict[str, list[str]] = {}
    for task in tasks:
        if task.task_key is None or task.task_key in graph:
            continue
        graph[task.task_key] = [
            d.task_key for d in (task.depends_on or ()) if d.task_key in keys and d.task_key != task.task_key
        ]
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    reported: set[frozenset[str]] = set()
    for start in graph:
        if state.get(start):
            continue
        # Iterative DFS, so a long chain cannot exhaust the interpreter's recursion limit.
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
        on_path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.pop()
                state[node] = 2
                continue
            s = state.get(child, 0)
            if s == 0:
                state[child] = 1
                stack.append((child, iter(graph.get(child, ()))))
                on_path.append(child)
            elif s == 1:
                cycle = on_path[on_path.index(child) :]
                members = frozenset(cycle)
                if members in reported:
                    continue
                reported.add(members)
                first = min(cycle, key=lambda k: keys[k])
                rotated = cycle[cycle.index(first) :] + cycle[: cycle.index(first)]
                # The path points at the dependency that closes the cycle from the first task.
                # Self-dependencies are reported on their own and left out of the graph, so a cycle has
                # two tasks or more, and the path points at first's dependency on the next one round it.
                upstream = rotated[1]
                index = keys[first]
                dep_index = next(
                    (j for j, d in enumerate(tasks[index].depends_on or ()) if d.task_key == upstream),
                    0,
                )
                shown = " -> ".join([*rotated, first])
                r.error(
                    f"$.tasks[{index}].depends_on[{dep_index}].task_key",
                    "dependency-cycle",
                    f"tasks depend on each other in a cycle: {shown} (each arrow reads 'depends on'); "
                    "remove one dependency",
                )
