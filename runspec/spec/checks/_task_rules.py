"""
Per-task rules: each runs once on every task of a run, and on the task inside each for_each task.

Add one with ``@task_rule`` (see ``runspec.spec.checks._checks``). A rule gets the task, its path, the
``TaskScope`` (the run's keys and environments, the task's task-type fields, whether it is the task
inside a for_each task) and the ``Report``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runspec.spec.checks._rules import TASK_KEY_CHARS, Report, TaskScope, _num, _quote_keys, task_rule
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
    if len(deps) == 1:
        only = deps[0]
        upstream_key = only.task_key
        if upstream_key in keys and upstream_key != task.task_key and only.outcome is None:
            return  # the usual case, one known upstream task: nothing to say
    seen: set[str] = set()
    for k, dep in enumerate(deps):
        key: str | None = dep.task_key
        if key is None:
            continue
        upstream_index = keys.get(key)
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


@task_rule
def _compute(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
    entries = scope.entries
    environments = scope.environments
    d = scope.fields
    has_new = "new_cluster" in d
    has_existing = "existing_cluster_id" in d
    env_key = d.get("environment_key")
    if has_new and has_existing:
        r.error(path, "multiple-compute", "a task runs on new_cluster or existing_cluster_id, not both")
    if env_key is not None:
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
    if len(entries) != 1:
        return
    entry = scope.entries[0]
    kind = entry.field
    on_cluster = has_new or has_existing
    if entry.compute == "none":
        for name in ("new_cluster", "existing_cluster_id", "libraries"):
            if name in d:
                r.error(jpath(path, name), "compute-not-allowed", f"a {kind} does not run on a cluster; remove {name}")
        return
    elsewhere = entry.runs_elsewhere(d[kind])
    if elsewhere is not None:
        if on_cluster:
            r.error(path, "compute-not-allowed", f"{elsewhere}; remove the cluster")
        return
    if not on_cluster:
        if d.get("libraries"):
            r.error(
                jpath(path, "libraries"),
                "libraries-need-cluster",
                "libraries install on classic compute only; give the task a cluster, "
                "or list the packages in an environment's dependencies",
            )
        if entry.serverless_env_key and env_key is None:
            r.error(
                path,
                "missing-compute",
                f"a {kind} needs compute: a cluster (new_cluster, existing_cluster_id or Run.cluster(...)) "
                "or, on serverless, environment_key",
            )
    if entry.new_cluster_only and not has_new:
        r.warn(path, "spark-submit-needs-new-cluster", f"{kind} runs only on a new job cluster")


def _reads_source(entries: Sequence[TaskType]) -> bool:
    return any(entry.source_path is not None for entry in entries)


@task_rule(when=_reads_source)
def _git_use(task: SubmitTask | Task, path: str, scope: TaskScope, r: Report) -> None:
    if scope.has_git_source:
        return
    d = scope.fields
    for entry in scope.entries:
        kind = entry.field
        if entry.source_path is not None and entry.source(d[kind]) == "GIT":
            r.error(
                ".".join((path, kind, *entry.source_path)),
                "git-source-missing",
                "source is 'GIT' but the run has no git_source; add one with Run.git(...) or set source='WORKSPACE'",
            )


def task_key_shape(key: str, path: str, r: Report) -> None:
    if not key or len(key) > MAX_TASK_KEY or not TASK_KEY_CHARS.issuperset(key):
        r.error(
            path,
            "invalid-task-key",
            f"task key {key!r} must have 1 to {MAX_TASK_KEY} characters, each a letter, digit, '_' or '-'",
        )
