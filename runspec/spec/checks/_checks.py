"""
Whole-run checks: everything about a run that one value alone cannot tell.

``check_run`` runs every rule on a ``RunSpec``, the same rules however the spec was made (the builder,
the classes, ``from_dict``), and returns a ``Report`` of errors and warnings, each with the JSON path
of the offending value and a stable code documented in ``docs/problems.md``.

There are three kinds of rule, each a small function named after what it checks:

- **Per-object rules** (``runspec.spec.checks._object_rules``) run once on every object of a class, wherever
  it appears in the run. Add one with the ``object_rule`` decorator::

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

- **Run-level rules** (here) look at several tasks at once: task keys, dependency cycles, unused
  environments, the top-level fields.

Rules read spec objects (never dicts), tolerate missing fields (a body loaded with problems is still
checked as far as it goes), and report with ``r.error(path, code, message)`` or ``r.warn(...)``. A new
code goes in ``docs/problems.md`` (a test checks that every code is there). Nothing else needs an
edit: the registries are read by ``check_run`` for every object and every task, with no shortcut.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, cast

from runspec.errors import Problem
from runspec.spec.checks import _object_rules as _object_rules  # registers the per-object rules
from runspec.spec.checks import _task_rules as _task_rules  # registers the per-task rules
from runspec.spec.checks._rules import (
    ACTIVE_PLANS,
    OBJECT_RULES,
    TASK_KEY_RE,
    TASK_RULES,
    WALK_PLANS,
    Report,
    TaskScope,
    WalkPlan,
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
from runspec.spec.limits import INT64_MAX as _INT64_MAX
from runspec.spec.limits import INT64_MIN as _INT64_MIN
from runspec.spec.model._objects import GitSource, JobEnvironment, SubmitTask
from runspec.spec.objects import set_fields
from runspec.spec.objects._convert import REGISTRY, jpath
from runspec.spec.objects._load import LoadContext, outside_int64
from runspec.spec.objects._object import SpecObject
from runspec.spec.schema._schema import closest
from runspec.spec.task_types import TASK_TYPES, task_types
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


# ---- per-object rules, run on every object of the run ------------------------------------------


def _check_enums(obj: SpecObject, path: str, r: Report) -> None:
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


def _plan(cls: type[SpecObject]) -> WalkPlan:
    """What the walk does with objects of ``cls``, worked out once per class (see ``WalkPlan``)."""
    plan = WALK_PLANS.get(cls)
    if plan is not None:
        return plan
    checks = tuple(rule for t in cls.__mro__ for rule in OBJECT_RULES.get(t, ()))
    nested: dict[str, str] = {}
    # An integer field reads None: its values are any int within the API's 64 bits.
    ints = tuple((f.attr, None) for f in cls._fields.values() if f.info.desc[0] in ("integer", "number"))
    values: tuple[tuple[str, frozenset[str] | None], ...] = (*cls._enum_fields, *ints)
    # In place before the fields are looked at: types can nest in circles.
    WALK_PLANS[cls] = plan = WalkPlan(values, checks, nested)
    for f in cls._fields.values():
        inner = _object_type(f.info.desc)
        if inner is not None and _may_find(inner):
            nested[f.attr] = jpath("", f.attr)
    return plan


def _object_type(desc: tuple[Any, ...]) -> type[SpecObject] | None:
    """The spec class of a field holding an object or a list of objects (None for anything else)."""
    if desc[0] == "array":
        desc = desc[1]
    return REGISTRY[desc[1]] if desc[0] == "object" else None


def _may_find(cls: type[SpecObject]) -> bool:
    """Whether a rule can report anything about an object of ``cls`` (or of a subclass), or inside it."""
    stack: list[type[SpecObject]] = [cls]
    while stack:
        klass = stack.pop()
        plan = _plan(klass)
        if plan.values or plan.checks or plan.nested:
            return True
        stack.extend(klass.__subclasses__())
    return False


_UNKNOWN: Any = object()


def _active(cls: type[SpecObject]) -> WalkPlan | None:
    """The plan of ``cls`` when the walk has anything to do with its objects, else None (kept in ACTIVE_PLANS)."""
    plan: WalkPlan | None = _plan(cls)
    if plan is not None and not (plan.values or plan.checks or plan.nested):
        plan = None
    ACTIVE_PLANS[cls] = plan
    return plan


def _walk(obj: SpecObject, path: str, r: Report, seen: set[int]) -> None:
    """Run the per-object rules on ``obj`` and everything inside it that a rule can say something about."""
    plan = ACTIVE_PLANS.get(type(obj), _UNKNOWN)
    if plan is _UNKNOWN:
        plan = _active(type(obj))
    if plan is not None:
        _walk_plan(obj, plan, path, r, seen)


def _walk_plan(obj: SpecObject, plan: WalkPlan, path: str, r: Report, seen: set[int]) -> None:
    """
    The walk of one object by its class's plan.

    Each object with something to check is checked once per run (``seen``: a named cluster copied into
    many tasks): its enum fields, its integer fields against the API's 64 bits, then its per-object
    rules; then the walk goes into each field the plan names whose objects have anything to check,
    building the JSON path as it goes.
    """
    values, checks, nested = plan
    d = set_fields(obj)
    if values or checks:
        key = id(obj)
        if key in seen:
            return
        seen.add(key)
        if values:
            bad_enum = bad_int = False
            for name, allowed in values:
                v = d.get(name)
                if v is None:
                    continue
                if allowed is None:
                    if type(v) is int and not _INT64_MIN <= v <= _INT64_MAX:
                        bad_int = True
                elif v not in allowed if type(v) is str else not allowed.issuperset(v):
                    bad_enum = True
            if bad_enum:
                _check_enums(obj, path, r)
            if bad_int:
                for name, allowed in values:
                    v = d.get(name)
                    if allowed is None and type(v) is int and not _INT64_MIN <= v <= _INT64_MAX:
                        r.error(path + "." + name, "out-of-range", outside_int64(v))
        for check in checks:
            check(obj, path, r)
    if not nested:
        return
    active = ACTIVE_PLANS
    for name, v in d.items():
        suffix = nested.get(name)
        if suffix is None:
            continue
        if type(v) is tuple:
            sub = path + suffix
            for i, item in enumerate(v):
                p = active.get(type(item), _UNKNOWN)
                if p is _UNKNOWN:
                    p = _active(type(item))
                if p is not None:
                    _walk_plan(item, p, f"{sub}[{i}]", r, seen)
        else:
            p = active.get(type(v), _UNKNOWN)
            if p is _UNKNOWN:
                p = _active(type(v))
            if p is not None:
                _walk_plan(v, p, path + suffix, r, seen)


# ---- per-task rules, run on every task of the run ----------------------------------------------


class _TaskRules:
    """
    The task rules registered when a check starts, in the order registered, each with the fields it
    ``reads`` (it runs only on a task that sets one of them; None: on every task): those for the tasks of
    the run, and those for the task inside a for_each task.
    """

    __slots__ = ("inner", "top", "types")

    def __init__(self) -> None:
        self.types = type_table()
        # A rule that reads one field is guarded by that name (``in`` on the task's dict), not a set.
        guards: list[tuple[Any, Any]] = [
            (e.rule, next(iter(e.reads)) if e.reads and len(e.reads) == 1 else e.reads) for e in TASK_RULES
        ]
        self.top = tuple(g for g, e in zip(guards, TASK_RULES, strict=True) if not e.inner_only)
        self.inner = tuple(guards)

    def __call__(self, task: Any, path: str, scope: TaskScope, inner_scope: TaskScope, r: Report) -> None:
        """Every task rule on one task, then on the task inside it when it is a for_each task."""
        types = self.types
        d = set_fields(task)
        scope.entries = e = []
        for k in d:
            t = types.get(k)
            if t is not None:
                e.append(t)
        for rule, reads in self.top:
            if reads is None or (reads in d if type(reads) is str else not reads.isdisjoint(d)):
                rule(task, path, scope, r)
        loop = d.get("for_each_task")
        inner = loop.task if loop is not None else None
        if inner is None:
            return
        d = set_fields(inner)
        inner_scope.entries = e = []
        for k in d:
            t = types.get(k)
            if t is not None:
                e.append(t)
        ipath = path + ".for_each_task.task"
        for rule, reads in self.inner:
            if reads is None or (reads in d if type(reads) is str else not reads.isdisjoint(d)):
                rule(inner, ipath, inner_scope, r)


# ---- run-level rules ---------------------------------------------------------------------------


def check_run(spec: SpecObject, *, strict: bool = True) -> Report:
    """
    Run every check on ``spec`` (a ``RunSpec``) and return what was found. ``strict=False``: a single-task
    body's task keeps keys outside the schema, with a warning, as ``RunSpec.from_dict(strict=False)`` does
    elsewhere.
    """
    r = Report()
    seen: set[int] = set()
    _walk(spec, "$", r, seen)
    run = cast(RunBody, spec)
    tasks: Sequence[SubmitTask] = run.tasks or ()
    single = _single_task(spec, r, strict) if not tasks else None
    if single is not None:
        tasks = (single,)
        _walk(single, "$", r, seen)
    _top_level(run, tasks, r)
    keys = _task_keys(tasks, r)
    environments = _environments(run, r)
    used_envs: set[str] = set()
    has_git_source = run.git_source is not None
    scope = TaskScope(tasks, keys, environments, used_envs, has_git_source, inner=False)
    inner_scope = TaskScope(tasks, keys, environments, used_envs, has_git_source, inner=True)
    run_rules = _TaskRules()
    for i, task in enumerate(tasks):
        run_rules(task, "$" if single is not None else f"$.tasks[{i}]", scope, inner_scope, r)
    _cycles(tasks, keys, r)
    for key, index in environments.items():
        if key not in used_envs:
            r.error(
                f"$.environments[{index}].environment_key",
                "unused-environment",
                f"environment {key!r} is declared but no task uses it; "
                f"remove it or set environment_key={key!r} on a task",
            )
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


def _task_keys(tasks: Sequence[SubmitTask], r: Report) -> dict[str, int]:
    keys: dict[str, int] = {}
    for i, task in enumerate(tasks):
        # A body loaded with problems may lack required fields, so each is read as optional.
        key: str | None = task.task_key
        if key is None:
            continue
        if key not in keys and 0 < len(key) <= MAX_TASK_KEY and TASK_KEY_RE.fullmatch(key):
            keys[key] = i  # the usual case: a new key of the right shape, nothing to say
            continue
        path = f"$.tasks[{i}].task_key"
        task_key_shape(key, path, r)
        if key in keys:
            r.error(
                path,
                "duplicate-task-key",
                f"task key {key!r} is already used by $.tasks[{keys[key]}]; task keys must be unique",
            )
        else:
            keys[key] = i
    return keys


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
    """Report each dependency cycle once, naming the tasks around it."""
    if _only_earlier_dependencies(tasks, keys):
        return
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


def _only_earlier_dependencies(tasks: Sequence[SubmitTask], keys: dict[str, int]) -> bool:
    """
    True when each task (at its key's first index) depends only on tasks listed before it.

    Every edge of the graph _cycles walks then points to a lower index, so it has no cycle: the usual
    case, checked in one pass before any search.
    """
    for i, task in enumerate(tasks):
        deps = task.depends_on
        if not deps:
            continue
        key = task.task_key
        if key is None or keys.get(key) != i:
            continue  # not in the graph: a task without a key, or a later task with a duplicate key
        for dep in deps:
            upstream = keys.get(dep.task_key)
            if upstream is not None and upstream >= i:
                return False
    return True
