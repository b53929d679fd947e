"""
Per-task rules: each runs once on every task of a run, and on the task inside each for_each task.

Add one with ``@task_rule`` (see ``runspec.spec.checks._checks``). A rule gets the task, its path, the
``TaskScope`` (the run's keys and environments, the task's task-type fields, whether it is the task
inside a for_each task) and the ``Report``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runspec.spec.checks._rules import (
    TASK_KEY_CHARS,
    Report,
    TaskRule,
    TaskScope,
    _num,
    _quote_keys,
    shaped_task_rule,
    task_rule,
)
from runspec.spec.limits import MAX_DESCRIPTION, MAX_TASK_KEY
from runspec.spec.model._objects import SubmitTask, Task
from runspec.spec.objects._convert import jpath
from runspec.spec.schema._schema import closest
from runspec.spec.task_types import TaskType

__all__ = ["task_key_shape"]


@task_rule(reads=("task_key",), inner_only=True)
def _inner_task_key(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
    # The keys of a run's own tasks are checked together, for duplicates too (runspec.spec.checks._checks).
    if task.task_key is not None:
        task_key_shape(task.task_key, jpath(path, "task_key"), r)


def _not_one_current_type(entries: Sequence[TaskType]) -> bool:
    return len(entries) != 1 or entries[0].deprecated


@task_rule(when=_not_one_current_type)
def _task_type(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
    entries = scope.entries
    if len(entries) == 1 and not entries[0].deprecated:
        return  # the usual case: nothing to say
    types = scope.types
    if not types:
        if any(k.endswith("_task") and isinstance(v, Mapping) for k, v in (task._extra_map() or {}).items()):
            return  # a task type newer than runspec's schema, sent as given (strict=False warned about it)
        r.error(
            path,
            "no-task-type",
            "the task has no type: set one of notebook_task, spark_python_task, python_wheel_task, sql_task, ... ",
        )
    elif len(types) > 1:
        r.error(path, "multiple-task-types", f"a task has exactly one type; this one has {', '.join(types)}")
    for entry in entries:
        if entry.deprecated:
            r.warn(jpath(path, entry.field), "deprecated", f"{entry.field} is deprecated by Databricks")


@task_rule(reads=("description",))
def _description(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
    description = task.description
    if description is not None and len(description) > MAX_DESCRIPTION and not scope.inner:
        r.error(jpath(path, "description"), "too-long", f"a task description has at most {MAX_DESCRIPTION} characters")


@task_rule(reads=("depends_on",))
def _dependencies(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
    deps = task.depends_on
    if not deps:
        return
    if scope.inner:
        r.error(
            jpath(path, "depends_on"),
            "invalid-value",
            "the task inside a for_each task cannot depend on other tasks",
        )
        return
    keys = scope.keys
    own = keys.get(task.task_key, -1)  # its index (-1: unnamed); a dependency on a later task may close a cycle
    if len(deps) == 1:
        only = deps[0]
        if keys.get(only.task_key, own) < own and only.outcome is None:
            return  # the usual case, one task listed before this one: nothing to say
    seen: set[str] = set()
    for k, dep in enumerate(deps):
        key: str | None = dep.task_key
        if key is None:
            continue
        upstream_index = keys.get(key)
        if upstream_index is not None and upstream_index >= own:
            scope.ordered = False  # then _cycles looks
        if upstream_index is not None and key not in seen and dep.outcome is None and key != task.task_key:
            seen.add(key)  # the usual case, a known upstream task named once: nothing to say
            continue
        dep_path = f"{path}.depends_on[{k}]"
        if key == task.task_key:
            r.error(jpath(dep_path, "task_key"), "dependency-cycle", f"task {key!r} depends on itself")
            continue
        if key in seen:
            r.error(
                jpath(dep_path, "task_key"),
                "duplicate-dependency",
                f"task {task.task_key!r} lists {key!r} twice in depends_on",
            )
        seen.add(key)
        if upstream_index is None:
            guess = closest(key, keys)
            hint = f"did you mean {guess!r}? " if guess else ""
            r.error(
                jpath(dep_path, "task_key"),
                "unknown-dependency",
                f"task {task.task_key!r} depends on {key!r}, which is not a task of this run; "
                f"{hint}known: {_quote_keys(keys)}",
            )
            continue
        if dep.outcome is not None:
            if dep.outcome not in ("true", "false"):
                r.error(
                    jpath(dep_path, "outcome"), "invalid-outcome", f"outcome is 'true' or 'false' (got {dep.outcome!r})"
                )
            upstream = scope.tasks[upstream_index]
            if upstream.condition_task is None:
                r.error(
                    jpath(dep_path, "outcome"),
                    "outcome-not-condition",
                    f"outcome only applies to a dependency on a condition task, and {key!r} is not one; remove outcome",
                )


@task_rule(reads=("max_retries", "min_retry_interval_millis", "timeout_seconds"))
def _retries(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
    retries = _num(task.max_retries)
    if retries is not None and retries < -1:
        r.error(
            jpath(path, "max_retries"),
            "out-of-range",
            f"max_retries is -1 (retry forever), 0 or more (got {task.max_retries})",
        )
    interval = _num(task.min_retry_interval_millis)
    if interval is not None and interval < 0:
        r.error(jpath(path, "min_retry_interval_millis"), "out-of-range", "min_retry_interval_millis must be 0 or more")
    timeout = _num(task.timeout_seconds)
    if timeout is not None and timeout < 0:
        r.error(
            jpath(path, "timeout_seconds"),
            "out-of-range",
            f"timeout_seconds must be 0 (no limit) or more (got {task.timeout_seconds})",
        )
    if task.condition_task is not None and retries:
        r.warn(jpath(path, "max_retries"), "ignored-field", "condition tasks are not retried")


@shaped_task_rule
def _compute(names: tuple[str, ...], entries: Sequence[TaskType]) -> TaskRule | None:
    """
    What a task's type needs from the task and the run: where it runs (one of new_cluster and
    existing_cluster_id, a declared environment, and what its task type needs or refuses) and, for a
    type that reads its source from git (``source='GIT'``), the run's git_source. Which of those fields
    the task sets and its task types' facts are read once per shape; the rule reads the values.
    """
    has_new = "new_cluster" in names
    on_cluster = has_new or "existing_cluster_id" in names
    both = has_new and "existing_cluster_id" in names
    reads_env = "environment_key" in names
    entry = entries[0] if len(entries) == 1 else None
    # each task type that has a source: how it is read, and where its path leads
    sourced = tuple(
        (e.source_of, e.field, ".".join((e.field, *e.source_path)))
        for e in entries
        if e.source_of is not None and e.source_path is not None
    )
    if entry is None and not both and not reads_env and not sourced:
        return None  # no task type or several (_task_type reports it), and nothing else to tell
    kind = entry.field if entry is not None else ""
    no_compute = entry is not None and entry.compute == "none"
    # a task type that needs no compute: each cluster field or libraries it sets, in this order
    refused = tuple(n for n in ("new_cluster", "existing_cluster_id", "libraries") if n in names) if no_compute else ()
    needs_env = entry is not None and entry.serverless_env_key
    new_only = entry is not None and entry.new_cluster_only and not has_new
    # the field of its task type's value that, set, has the value run off any cluster (then the type says why)
    off = entry.elsewhere[0] if entry is not None and entry.elsewhere is not None else None
    # the field its task type's source path starts at: a value that does not set it sets no source (None:
    # the type has none)
    first = entry.source_path[0] if entry is not None and entry.source_path is not None else None

    def compute(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
        d = scope.fields
        value = d[kind].__dict__ if entry is not None else {}  # the fields of its one task type
        env_key = d.get("environment_key") if reads_env else None
        if both:
            r.error(path, "multiple-compute", "a task runs on new_cluster or existing_cluster_id, not both")
        if env_key is not None:
            environments = scope.environments
            if env_key in environments:
                scope.used_envs.add(env_key)
            else:
                guess = closest(env_key, environments)
                hint = f"; did you mean {guess!r}?" if guess else ""
                declared = _quote_keys(environments) if environments else "none"
                r.error(
                    jpath(path, "environment_key"),
                    "unknown-environment",
                    f"environment {env_key!r} is not declared in environments (declared: {declared}){hint}",
                )
        if no_compute:
            for name in refused:
                r.error(jpath(path, name), "compute-not-allowed", f"a {kind} does not run on a cluster; remove {name}")
        elif entry is not None:
            elsewhere = entry.runs_elsewhere(value) if off is not None and off in value else None
            if elsewhere is not None:
                if on_cluster:
                    r.error(path, "compute-not-allowed", f"{elsewhere}; remove the cluster")
            else:
                if not on_cluster:
                    if d.get("libraries"):
                        r.error(
                            jpath(path, "libraries"),
                            "libraries-need-cluster",
                            "libraries install on classic compute only; give the task a cluster, "
                            "or list the packages in an environment's dependencies",
                        )
                    if needs_env and env_key is None:
                        r.error(
                            path,
                            "missing-compute",
                            f"a {kind} needs compute: a cluster (new_cluster, existing_cluster_id or "
                            "Run.cluster(...)) or, on serverless, environment_key",
                        )
                if new_only:
                    r.warn(path, "spark-submit-needs-new-cluster", f"{kind} runs only on a new job cluster")
        if scope.has_git_source or (entry is not None and (first is None or first not in value)):
            return  # (the usual task: one task type, whose value sets no source)
        for source_of, field, where in sourced:
            if source_of(value if field == kind else d[field].__dict__) == "GIT":
                r.error(
                    f"{path}.{where}",
                    "git-source-missing",
                    "source is 'GIT' but the run has no git_source; "
                    "add one with Run.git(...) or set source='WORKSPACE'",
                )

    return compute


def task_key_shape(key: str, path: str, r: Report) -> None:
    if not key or len(key) > MAX_TASK_KEY or not TASK_KEY_CHARS.fullmatch(key):
        r.error(
            path,
            "invalid-task-key",
            f"task key {key!r} must have 1 to {MAX_TASK_KEY} characters, each a letter, digit, '_' or '-'",
        )
