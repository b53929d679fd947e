"""
``Run``: describe a one-time run by chaining calls, then ``compile()`` it into a checked ``RunSpec``.

::

    run = (
        Run("nightly-etl")
        .cluster("etl", NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=2))
        .task(NotebookTask("/Repos/etl/ingest"))
        .task(SparkPythonTask("dbfs:/etl/transform.py"), depends_on=["ingest"])
        .timeout(3600)
    )
    spec = run.compile()

Every method returns a new ``Run``; the one it was called on is unchanged, so a partly built run can be
shared and extended in several directions. A ``Run`` records what you said (named clusters, task order,
keys you left out); ``compile()`` turns that into the request body and checks all of it at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runspec.errors import Problem, SpecError
from runspec.spec._base import LoadContext, SpecObject
from runspec.spec._checks import CLUSTER_TYPES
from runspec.spec._library import Library
from runspec.spec._objects import (
    CleanRoomsNotebookTask,
    ConditionTask,
    DashboardTask,
    DbtTask,
    Environment,
    ForEachTask,
    GitSource,
    JobAccessControlRequest,
    JobEmailNotifications,
    JobEnvironment,
    JobNotificationSettings,
    JobRunAs,
    JobsHealthRule,
    JobsHealthRules,
    NewCluster,
    NotebookTask,
    PipelineTask,
    PythonWheelTask,
    QueueSettings,
    RunJobTask,
    SparkJarTask,
    SparkPythonTask,
    SparkSubmitTask,
    SqlTask,
    SubmitTask,
    Task,
    TaskDependency,
    Webhook,
    WebhookNotifications,
)
from runspec.spec.run_spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

__all__ = ["Run", "TaskLike"]

#: What ``Run.task`` takes: a task-type object (``NotebookTask(...)``), or a whole ``SubmitTask``.
TaskLike = SpecObject

_GIT_HOSTS = (
    ("github.com", "gitHub"),
    ("gitlab.com", "gitLab"),
    ("dev.azure.com", "azureDevOpsServices"),
    ("visualstudio.com", "azureDevOpsServices"),
    ("bitbucket.org", "bitbucketCloud"),
    ("git-codecommit.", "awsCodeCommit"),
)

_NOT_KEY_CHARS = re.compile(r"[^A-Za-z0-9_\-]+")  # the characters a task key may have (ASCII)


def _task_field_for(obj: object) -> str | None:
    """The SubmitTask field a task-type object goes in (``notebook_task`` for a NotebookTask)."""
    field: str | None = (_TYPE_FIELDS or _fill_type_fields()).get(type(obj))
    return field


#: Task-type class -> SubmitTask field, filled on first use (keeps import cheap).
_TYPE_FIELDS: dict[type, str] = {}
#: The values of run_if, the one enum among the fields Run.task checks by name, and whether it is the
#: only one (else Run.task leaves a task's findings flag to compile()).
_RUN_IF_VALUES: frozenset[str] = frozenset()
_ONLY_RUN_IF = False


def _fill_type_fields() -> dict[type, str]:
    from runspec.spec._base import REGISTRY

    global _RUN_IF_VALUES, _ONLY_RUN_IF
    enums = dict(SubmitTask._enum_fields)
    _ONLY_RUN_IF = enums.keys() == {"run_if"}
    _RUN_IF_VALUES = enums.get("run_if", frozenset())
    for name, info in SubmitTask._schema.items():
        if name.endswith("_task") and info.desc[0] == "object" and not info.rejected:
            cls = REGISTRY.get(info.desc[1])
            if cls is not None:
                _TYPE_FIELDS[cls] = name
    return _TYPE_FIELDS


#: One ``.task(...)`` call, which is also its operation: ``("task", key, fields, cluster, flagged)``
#: with the task's fields (checked, frozen), its key (None: derive one), the named cluster it asked
#: for, and whether anything in the fields has a finding (see SpecObject._new; None: not known). A
#: plain tuple, because a run of 1000 tasks makes 1000 of them.
_TaskEntry = tuple[str, "str | None", dict[str, Any], "str | None", "bool | None"]


def _check_kind(owner: str, name: str, value: Any, kinds: type | tuple[type, ...], expected: str) -> None:
    if not isinstance(value, kinds) or (
        isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,))
    ):
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise TypeError(f"{owner}: {name!r} must be {expected} (got {shown} that is {_article(type(value).__name__)})")


def _as_list(owner: str, name: str, value: Any, expected: str) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        hint = f"; did you mean [{value!r}]?" if isinstance(value, str) else ""
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise TypeError(f"{owner}: {name!r} must be {expected} (got {shown} that is a {type(value).__name__}){hint}")
    return list(value)


class Run:
    """
    A one-time run being described. ``Run("name")`` sets ``run_name``.

    Chain ``.task(...)``, ``.cluster(...)``, ``.timeout(...)`` and the other methods in any order, then
    call ``.compile()``. Wrong Python types raise ``TypeError`` at the call; everything else is checked
    by ``compile()``, which reports every problem at once.
    """

    __slots__ = ("_op", "_parent")

    _parent: Run | None
    _op: tuple[Any, ...]

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            _check_kind("Run", "name", name, str, "str (the run_name)")
        _set_parent(self, None)
        _set_op(self, ("set", "run_name", name) if name is not None else ("noop",))

    # -- plumbing: each Run is one operation on top of its parent -----------------------------------

    def _then(self, *op: Any) -> Self:
        return self._push(op)

    def _push(self, op: tuple[Any, ...]) -> Self:
        new = _object_new(type(self))
        _set_parent(new, self)
        _set_op(new, op)
        return new

    def _ops(self) -> list[tuple[Any, ...]]:
        ops: list[tuple[Any, ...]] = []
        node: Run | None = self
        while node is not None:
            ops.append(node._op)
            node = node._parent
        ops.reverse()
        return ops

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Run is immutable: its methods return a new Run")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Run):
            return NotImplemented
        return self._ops() == other._ops()

    def __hash__(self) -> int:
        return hash(tuple(_hashable(op) for op in self._ops()))

    def __repr__(self) -> str:
        state = _Intent(self._ops())
        parts = [repr(state.top["run_name"])] if "run_name" in state.top else []
        parts.append(f"tasks={len(state.tasks)}")
        if state.clusters:
            parts.append(f"clusters={list(state.clusters)}")
        return f"Run({', '.join(parts)})"

    def _repr_markdown_(self) -> str:
        try:
            spec = self.compile()
        except SpecError as exc:
            return "**This run does not compile:**\n\n```\n" + str(exc) + "\n```"
        text: str = spec._repr_markdown_()
        return text

    # -- tasks --------------------------------------------------------------------------------------

    def task(
        self,
        task: TaskLike,
        key: str | None = None,
        depends_on: Iterable[str | TaskDependency] = (),
        cluster: str | None = None,
        *,
        libraries: Iterable[Library] | None = None,
        run_if: str | None = None,
        max_retries: int | None = None,
        min_retry_interval_millis: int | None = None,
        retry_on_timeout: bool | None = None,
        timeout_seconds: int | None = None,
        description: str | None = None,
        disabled: bool | None = None,
        environment_key: str | None = None,
        existing_cluster_id: str | None = None,
        new_cluster: NewCluster | None = None,
        **fields: Any,
    ) -> Self:
        """
        Return a copy of this run with one more task.

        ``task`` is a task-type object (``NotebookTask(...)``, ``SqlTask(warehouse_id, query=...)``, ...) or a whole
        ``SubmitTask``. ``key`` defaults to a readable name derived from the task (the notebook or file
        name, the entry point, ...), made unique within the run. ``depends_on`` lists upstream task keys;
        use ``TaskDependency(key, outcome="true")`` after a condition task. ``cluster`` names a cluster
        declared with ``.cluster(...)`` (before or after this call); when the run declares exactly one
        cluster, tasks that need classic compute and name none use it. Other keyword arguments are
        ``SubmitTask`` fields (``health=``, ``email_notifications=``, ``compute=``, ``extra=`` ...).
        """
        owner = "Run.task"
        if key is not None and type(key) is not str:
            _check_kind(owner, "key", key, str, "str")
        if cluster is not None and type(cluster) is not str:
            _check_kind(owner, "cluster", cluster, str, "str (the name given to .cluster())")
        type_field = (_TYPE_FIELDS or _fill_type_fields()).get(type(task))
        # Whether anything in the task's fields has a finding: found out here, field by field, as the
        # SubmitTask made by compile() would (None where this call cannot tell).
        flagged: bool | None = None
        if type_field is not None:
            given: dict[str, Any] = {type_field: task}
            flagged = task._f if _ONLY_RUN_IF else None
        elif isinstance(task, SubmitTask):
            given = dict(task.__dict__)
            task_key = given.pop("task_key", None)
            key = task_key if key is None else key
            x = task._extra_map()
            if x:
                given["extra"] = x
        else:
            raise TypeError(
                f"{owner}: 'task' must be a task such as NotebookTask(...), SparkPythonTask(...) or a SubmitTask "
                f"(got {task!r} that is {_article(type(task).__name__)})"
            )
        if depends_on:
            deps = _dependencies(owner, depends_on)
            given["depends_on"] = (*given["depends_on"], *deps) if "depends_on" in given else deps
            if flagged is False:
                for dep in deps:
                    if dep._f:
                        flagged = True
                        break
        table = SubmitTask._fields
        # The common keywords, checked one by one (this runs for every task of a large run).
        if libraries is not None:
            # The usual list of libraries, checked and looked at in one pass; anything else goes through
            # the field's converter, which freezes it or says what is wrong.
            libs = tuple(libraries) if type(libraries) is list or type(libraries) is tuple else ()
            found = False
            for lib in libs:
                if not isinstance(lib, Library):
                    libs = ()
                    break
                found = found or lib._f
            if not libs:
                libs = table["libraries"].conv(libraries)
                found = any(lib._f for lib in libs)
            given["libraries"] = libs
            if flagged is False:
                flagged = found
        if run_if is not None:
            given["run_if"] = run_if = table["run_if"].conv(run_if)
            if flagged is False:
                flagged = run_if not in _RUN_IF_VALUES
        if max_retries is not None:
            given["max_retries"] = table["max_retries"].conv(max_retries)
        if min_retry_interval_millis is not None:
            given["min_retry_interval_millis"] = table["min_retry_interval_millis"].conv(min_retry_interval_millis)
        if retry_on_timeout is not None:
            given["retry_on_timeout"] = table["retry_on_timeout"].conv(retry_on_timeout)
        if timeout_seconds is not None:
            given["timeout_seconds"] = table["timeout_seconds"].conv(timeout_seconds)
        if description is not None:
            given["description"] = table["description"].conv(description)
        if disabled is not None:
            given["disabled"] = table["disabled"].conv(disabled)
        if environment_key is not None:
            given["environment_key"] = table["environment_key"].conv(environment_key)
        if existing_cluster_id is not None:
            given["existing_cluster_id"] = table["existing_cluster_id"].conv(existing_cluster_id)
        if new_cluster is not None:
            given["new_cluster"] = new_cluster = table["new_cluster"].conv(new_cluster)
            if flagged is False:
                flagged = new_cluster._f
        for name, value in fields.items():
            if value is None:
                continue
            flagged = None  # any other field: compile() looks at all of them
            if name == "extra":
                # Checked now, the way SubmitTask would, so a mistake points at this call.
                given["extra"] = SubmitTask("probe", extra=value)._extra_map()
                continue
            f = table.get(name)
            if f is None or name == "task_key":
                raise TypeError(_unknown_kwarg(owner, name, table))
            given[name] = f.conv(value)
        new = _object_new(type(self))  # self._push(...), written out: this runs for every task
        _set_parent(new, self)
        _set_op(new, ("task", key, given, cluster, flagged))
        return new

    def update_task(self, key: str, **fields: Any) -> Self:
        """
        Return a copy of this run with fields of task ``key`` replaced (``None`` removes a field).

        Useful after ``Run.from_dict``: load a body, then change what differs. ``compile()`` reports an
        unknown ``key``.
        """
        _check_kind("Run.update_task", "key", key, str, "str")
        table = SubmitTask._fields
        checked: dict[str, Any] = {}
        for name, value in fields.items():
            f = table.get(name)
            if f is None:
                raise TypeError(_unknown_kwarg("Run.update_task", name, table))
            checked[name] = None if value is None else f.conv(value)
        return self._then("update_task", key, checked)

    def remove_task(self, key: str) -> Self:
        """Return a copy of this run without task ``key`` (``compile()`` reports an unknown key)."""
        _check_kind("Run.remove_task", "key", key, str, "str")
        return self._then("remove_task", key)

    # -- compute ------------------------------------------------------------------------------------

    def cluster(self, name: str, new_cluster: NewCluster | Mapping[str, Any]) -> Self:
        """
        Return a copy of this run with a named cluster that tasks can refer to by ``name``.

        runs/submit has no shared job clusters: ``compile()`` copies the cluster into the
        ``new_cluster`` of every task that uses it, so **each such task starts its own cluster**
        (``RunSpec.warnings`` says so when more than one task uses the same name). To share one
        running cluster, use ``existing_cluster_id`` on the tasks instead.
        """
        _check_kind("Run.cluster", "name", name, str, "str")
        if isinstance(new_cluster, Mapping):
            new_cluster = NewCluster.from_dict(new_cluster)
        _check_kind("Run.cluster", "new_cluster", new_cluster, NewCluster, "a NewCluster")
        return self._then("cluster", name, new_cluster)

    def environment(
        self,
        key: str,
        spec: Environment | None = None,
        *,
        dependencies: Sequence[str] | None = None,
        environment_version: str | None = None,
        java_dependencies: Sequence[str] | None = None,
        base_environment: str | None = None,
    ) -> Self:
        """
        Return a copy of this run with a serverless environment that tasks use via ``environment_key``.

        Give a whole ``Environment`` as ``spec``, or its fields: ``dependencies`` are pip requirement
        lines, ``environment_version`` a string such as ``"4"``.
        """
        _check_kind("Run.environment", "key", key, str, "str")
        if spec is None:
            spec = Environment(
                dependencies=dependencies,
                environment_version=environment_version,
                java_dependencies=java_dependencies,
                base_environment=base_environment,
            )
        else:
            _check_kind("Run.environment", "spec", spec, Environment, "an Environment")
            if any(v is not None for v in (dependencies, environment_version, java_dependencies, base_environment)):
                raise TypeError("Run.environment: pass either spec=Environment(...) or its fields, not both")
        return self._then("environment", JobEnvironment(key, spec))

    # -- top-level fields -----------------------------------------------------------------------------

    def name(self, run_name: str) -> Self:
        """Return a copy of this run with ``run_name`` set (replaces any previous name)."""
        return self._set("run_name", run_name, "Run.name")

    def timeout(self, seconds: int) -> Self:
        """
        Return a copy of this run with ``timeout_seconds`` set for the whole run (replaces any previous).

        The clock starts when the run starts, cluster start-up included; 0 means no limit.
        """
        return self._set("timeout_seconds", seconds, "Run.timeout")

    def idempotency_token(self, token: str) -> Self:
        """
        Return a copy of this run with an ``idempotency_token`` (at most 64 characters).

        The workspace starts at most one run per token, and keeps tokens reserved even after a run is
        deleted. ``submit()`` makes a fresh token per call when you set none, which is usually what you
        want; set one yourself to make a retry from another process return the same run.
        """
        return self._set("idempotency_token", token, "Run.idempotency_token")

    def git(
        self,
        url: str | GitSource,
        provider: str | None = None,
        *,
        branch: str | None = None,
        tag: str | None = None,
        commit: str | None = None,
        sparse_checkout: Iterable[str] | None = None,
    ) -> Self:
        """
        Return a copy of this run with ``git_source`` set: tasks with ``source="GIT"`` read from it.

        ``provider`` is guessed from the URL for GitHub, GitLab, Azure DevOps, Bitbucket Cloud and AWS
        CodeCommit; give it for other hosts (``gitHubEnterprise``, ``bitbucketServer``,
        ``gitLabEnterpriseEdition``). Give exactly one of ``branch``, ``tag`` and ``commit``.
        """
        if isinstance(url, GitSource):
            if provider or branch or tag or commit or sparse_checkout:
                raise TypeError("Run.git: pass a GitSource or its fields, not both")
            return self._then("set", "git_source", url)
        _check_kind("Run.git", "url", url, str, "str or a GitSource")
        if provider is None:
            provider = next((p for host, p in _GIT_HOSTS if host in url.lower()), None)
            if provider is None:
                raise TypeError(f"Run.git: cannot tell the git provider of {url!r}; pass provider=...")
        source = GitSource(
            url,
            provider,  # type: ignore[arg-type]  # checked against the enum by compile()
            git_branch=branch,
            git_tag=tag,
            git_commit=commit,
            sparse_checkout={
                "patterns": _as_list("Run.git", "sparse_checkout", sparse_checkout, "a list of path patterns")
            }  # type: ignore[arg-type]
            if sparse_checkout is not None
            else None,
        )
        return self._then("set", "git_source", source)

    def access(
        self,
        level: str | JobAccessControlRequest,
        *,
        user: str | None = None,
        group: str | None = None,
        service_principal: str | None = None,
    ) -> Self:
        """
        Return a copy of this run with one more access control entry (appends).

        ``level`` is ``CAN_VIEW``, ``CAN_MANAGE_RUN``, ``CAN_MANAGE`` or ``IS_OWNER``; name exactly one
        of ``user``, ``group`` or ``service_principal`` (an application ID). Or pass a whole
        ``JobAccessControlRequest``.
        """
        if isinstance(level, JobAccessControlRequest):
            entry = level
        else:
            _check_kind("Run.access", "level", level, str, "str or a JobAccessControlRequest")
            entry = JobAccessControlRequest(
                permission_level=level,  # type: ignore[arg-type]
                user_name=user,
                group_name=group,
                service_principal_name=service_principal,
            )
        return self._then("append", "access_control_list", entry)

    def notify(
        self,
        *,
        on_start: Sequence[str] | None = None,
        on_success: Sequence[str] | None = None,
        on_failure: Sequence[str] | None = None,
        on_duration_warning_threshold_exceeded: Sequence[str] | None = None,
        on_streaming_backlog_exceeded: Sequence[str] | None = None,
        no_alert_for_skipped_runs: bool | None = None,
        no_alert_for_canceled_runs: bool | None = None,
    ) -> Self:
        """
        Return a copy of this run with email notifications (replaces any previous ones).

        Each ``on_*`` argument is a list of email addresses. ``no_alert_for_*`` go in
        ``notification_settings``.
        """
        result = self
        emails = JobEmailNotifications(
            on_start=on_start,
            on_success=on_success,
            on_failure=on_failure,
            on_duration_warning_threshold_exceeded=on_duration_warning_threshold_exceeded,
            on_streaming_backlog_exceeded=on_streaming_backlog_exceeded,
        )
        if emails.__dict__:
            result = result._then("set", "email_notifications", emails)
        settings = JobNotificationSettings(
            no_alert_for_skipped_runs=no_alert_for_skipped_runs,
            no_alert_for_canceled_runs=no_alert_for_canceled_runs,
        )
        if settings.__dict__:
            result = result._then("set", "notification_settings", settings)
        if result is self:
            raise TypeError("Run.notify: name at least one event (on_failure=[...], ...) or setting")
        return result

    def webhooks(
        self,
        *,
        on_start: Sequence[str] | None = None,
        on_success: Sequence[str] | None = None,
        on_failure: Sequence[str] | None = None,
        on_duration_warning_threshold_exceeded: Sequence[str] | None = None,
        on_streaming_backlog_exceeded: Sequence[str] | None = None,
    ) -> Self:
        """
        Return a copy of this run with webhook notifications (replaces any previous ones).

        Each argument lists notification destination ids (at most 3 per event).
        """
        events = {
            "on_start": on_start,
            "on_success": on_success,
            "on_failure": on_failure,
            "on_duration_warning_threshold_exceeded": on_duration_warning_threshold_exceeded,
            "on_streaming_backlog_exceeded": on_streaming_backlog_exceeded,
        }
        hooks: dict[str, Any] = {}
        for event, ids in events.items():
            if ids is not None:
                hooks[event] = [Webhook(i) for i in _as_list("Run.webhooks", event, ids, "a list of destination ids")]
        if not hooks:
            raise TypeError("Run.webhooks: name at least one event (on_failure=[...], ...)")
        return self._then("set", "webhook_notifications", WebhookNotifications(**hooks))

    def health(self, metric: str, value: int, op: str = "GREATER_THAN") -> Self:
        """Return a copy of this run with one more health rule (appends): alert when ``metric`` > ``value``."""
        return self._then("health", JobsHealthRule(metric, op, value))  # type: ignore[arg-type]

    def queue(self, enabled: bool = True) -> Self:
        """Return a copy of this run with ``queue.enabled`` set: wait in a queue when limits are reached."""
        return self._then("set", "queue", QueueSettings(enabled))

    def run_as(
        self,
        *,
        user: str | None = None,
        service_principal: str | None = None,
        group: str | None = None,
    ) -> Self:
        """Return a copy of this run that executes as a user, a service principal (application ID) or a group."""
        return self._then(
            "set", "run_as", JobRunAs(user_name=user, service_principal_name=service_principal, group_name=group)
        )

    def set(self, **fields: Any) -> Self:
        """
        Return a copy of this run with any top-level body fields set (replaces previous values).

        For fields without a method of their own: ``budget_policy_id``, ``usage_policy_id``,
        ``performance_target``, ``duration_target``, ``environment_variables``, ``extra`` ...
        """
        result = self
        table = RunSpec._fields
        for name, value in fields.items():
            if name == "extra":
                probe = RunSpec._new({})
                from runspec.spec._base import _set_extra

                _set_extra(probe, value)
                result = result._then("extra", probe._extra_map())
                continue
            f = table.get(name)
            if f is None or name == "tasks":
                raise TypeError(_unknown_kwarg("Run.set", name, table, exclude=("tasks",)))
            result = result._then("set", name, None if value is None else f.conv(value))
        return result

    def _set(self, name: str, value: Any, owner: str) -> Self:
        f = RunSpec._fields[name]
        if value is not None and not (type(value) is str and f.info.desc == ("string",)):
            try:
                value = f.conv(value)
            except TypeError as exc:
                raise TypeError(str(exc).replace("RunSpec", owner, 1)) from None
        return self._then("set", name, value)

    def pipe(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Return ``fn(self, *args, **kwargs)``: apply a reusable fragment in the middle of a chain."""
        return fn(self, *args, **kwargs)

    # -- output -------------------------------------------------------------------------------------

    def compile(self) -> RunSpec:
        """
        Check the whole run and return it as a frozen ``RunSpec``.

        Adds nothing you did not say: no default values, only the task keys it derived and the named
        clusters it resolved into each task's ``new_cluster``. Raises ``SpecError`` listing every problem.
        """
        intent = _Intent(self._ops())
        return intent.compile()

    def check(self) -> tuple[Problem, ...]:
        """Return every problem ``compile()`` would raise (empty when the run is valid)."""
        try:
            self.compile()
        except SpecError as exc:
            return exc.problems
        return ()

    def to_dict(self) -> dict[str, Any]:
        """Compile and return the request body (see ``RunSpec.to_dict``)."""
        return self.compile().to_dict()

    def to_json(self, *, indent: int | None = None) -> str:
        """Compile and return the request body as JSON text."""
        return self.compile().to_json(indent=indent)

    # -- loading ------------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: RunSpec) -> Run:
        """Return a builder holding everything in ``spec``, to change it with the usual methods."""
        _check_kind("Run.from_spec", "spec", spec, RunSpec, "a RunSpec")
        return cls._from_fields(dict(spec.__dict__), spec._extra_map())

    @classmethod
    def from_dict(cls, body: Mapping[str, Any], *, strict: bool = True) -> Run:
        """
        Return a builder from an existing request body, to load a JSON spec and change it.

        Keys and value types are checked now (``SpecError``); whole-run checks wait for ``compile()``,
        so a body with, say, a dependency cycle can be loaded and mended.
        """
        if not isinstance(body, Mapping):
            raise TypeError(f"Run.from_dict() takes a dict (got a {type(body).__name__})")
        ctx = LoadContext(strict=strict)
        spec = RunSpec._load_checked(body, ctx)
        if ctx.problems:
            raise SpecError(ctx.problems, subject="the request body", warnings=ctx.warnings)
        run = cls._from_fields(dict(spec.__dict__), spec._extra_map())
        # What the load noticed (unknown keys kept, numbers as strings) is reported again by compile().
        return run._then("load_warnings", tuple(ctx.warnings)) if ctx.warnings else run

    @classmethod
    def from_json(cls, text: str | bytes, *, strict: bool = True) -> Run:
        """Parse JSON text and load it with ``Run.from_dict``."""
        import json

        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise SpecError([Problem("$", "invalid-json", f"not valid JSON: {exc}")]) from None
        if not isinstance(data, dict):
            raise SpecError([Problem("$", "wrong-type", "the request body must be a JSON object")])
        return cls.from_dict(data, strict=strict)

    @classmethod
    def _from_fields(cls, top: dict[str, Any], extra: Any) -> Run:
        run: Run = cls()
        tasks = top.pop("tasks", ())
        for name, value in top.items():
            run = run._then("set", name, value)
        if extra:
            run = run._then("extra", extra)
        for task in tasks:
            fields = dict(task.__dict__)
            key = fields.pop("task_key", None)
            if task._extra_map():
                fields["extra"] = task._extra_map()
            # A loaded task keeps its compute as written: the run's one named cluster is not given to it.
            run = run._push(("task", key, fields, _AS_LOADED, None))
        return run

    @classmethod
    def from_job_settings(
        cls, settings: Mapping[str, Any], *, run_name: str | None = None, parameters: Mapping[str, str] | None = None
    ) -> Run:
        """A builder holding a one-time run of a saved job (see ``RunSpec.from_job_settings``)."""
        from runspec.spec.jobs import job_to_run

        converted = job_to_run(settings, run_name=run_name, parameters=parameters)
        run = cls.from_spec(converted.spec)
        # What the conversion dropped is said again by compile(), with the run's own warnings.
        return run._then("load_warnings", converted.warnings) if converted.warnings else run


#: The cluster name of a task loaded from a body: none, and the run's one named cluster is not added.
_AS_LOADED = "\x00as-loaded"  # a name nobody gives a cluster: compile() reads it as "none, as loaded"

_object_new = object.__new__
# Run refuses attribute assignment, so its constructors write its slots directly.
_set_parent = Run.__dict__["_parent"].__set__
_set_op = Run.__dict__["_op"].__set__


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _dependencies(owner: str, depends_on: Iterable[str | TaskDependency]) -> tuple[TaskDependency, ...]:
    """Check ``depends_on`` and turn task keys into ``TaskDependency`` objects."""
    if type(depends_on) is not list and type(depends_on) is not tuple:
        depends_on = _as_list(owner, "depends_on", depends_on, "a list of task keys")
    out = []
    for dep in depends_on:
        if type(dep) is str:
            out.append(TaskDependency(dep))
        elif isinstance(dep, TaskDependency):
            out.append(dep)
        elif isinstance(dep, str):
            out.append(TaskDependency(str(dep)))
        else:
            _check_kind(owner, "depends_on[]", dep, (str, TaskDependency), "a task key (str) or a TaskDependency")
    return tuple(out)


def _unknown_kwarg(owner: str, name: str, table: Mapping[str, Any], exclude: Iterable[str] = ()) -> str:
    from runspec.spec._schema import closest

    known = [k for k in table if k not in exclude]
    guess = closest(name, known)
    hint = f"; did you mean {guess!r}?" if guess else ""
    return f"{owner}() got an unexpected keyword argument {name!r}{hint}"


def _hashable(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value


# -- compile ----------------------------------------------------------------------------------------


class _Intent:
    """The operations of a Run folded into what they say, then compiled into a RunSpec."""

    def __init__(self, ops: list[tuple[Any, ...]]) -> None:
        self.top: dict[str, Any] = {}
        self.extra: Any = None
        self.tasks: list[_TaskEntry] = []
        self.clusters: dict[str, NewCluster] = {}
        self.problems: list[Problem] = []
        self.environments: list[JobEnvironment] = []
        self.health: list[JobsHealthRule] = []
        self.appended: dict[str, list[Any]] = {}
        # Each edit with the number of tasks when it was called: it applies to those tasks only.
        self.edits: list[tuple[int, str, dict[str, Any] | None]] = []
        self.load_warnings: tuple[Problem, ...] = ()
        for op in ops:
            kind = op[0]
            if kind == "task":
                self.tasks.append(op)
            elif kind == "set":
                if op[2] is None:
                    self.top.pop(op[1], None)
                else:
                    self.top[op[1]] = op[2]
            elif kind == "cluster":
                name = op[1]
                if name in self.clusters:
                    self.problems.append(
                        Problem(
                            "$",
                            "duplicate-cluster",
                            f"cluster {name!r} is declared twice; give each .cluster() its own name",
                        )
                    )
                self.clusters[name] = op[2]
            elif kind == "environment":
                self.environments.append(op[1])
            elif kind == "append":
                self.appended.setdefault(op[1], []).append(op[2])
            elif kind == "health":
                self.health.append(op[1])
            elif kind == "update_task":
                self.edits.append((len(self.tasks), op[1], op[2]))
            elif kind == "remove_task":
                self.edits.append((len(self.tasks), op[1], None))
            elif kind == "extra":
                self.extra = op[1]
            elif kind == "load_warnings":
                self.load_warnings = op[1]

    def compile(self) -> RunSpec:
        tasks, keys = self._apply_edits()
        used: dict[str, list[int]] = {}
        only = next(iter(self.clusters)) if len(self.clusters) == 1 else None
        built: list[SubmitTask] = []
        new_task = SubmitTask._new
        clusters = self.clusters
        for i, ((_, _, fields, name, flagged), key) in enumerate(zip(tasks, keys, strict=True)):
            if name is None and only is not None and _wants_cluster(fields):
                name = only
            elif name == _AS_LOADED:
                name = None
            d: dict[str, Any] = {"task_key": key, **fields}
            if name is not None:
                cluster = clusters.get(name)
                uses = used.get(name)
                if cluster is not None and uses is not None and _NO_COMPUTE_YET.isdisjoint(d):
                    # The usual case: one more task on a cluster already in use, taken as it is.
                    uses.append(i)
                    d["new_cluster"] = cluster
                    if flagged is False:  # the cluster is the one field the entry did not see
                        flagged = cluster._f
                else:
                    self._attach_cluster(d, name, key, i, used)
                    flagged = None
            built.append(new_task(d, d.pop("extra") if "extra" in d else None, flagged))
        for name in self.clusters:
            if name not in used:
                self.problems.append(
                    Problem(
                        "$",
                        "unused-cluster",
                        f"cluster {name!r} is declared but no task uses it; "
                        f"pass cluster={name!r} to .task() or remove it",
                    )
                )
        top = dict(self.top)
        if self.environments:
            top["environments"] = (*top.get("environments", ()), *self.environments)
        for field, items in self.appended.items():
            top[field] = (*top.get(field, ()), *items)
        if self.health:
            rules = top.get("health")
            existing = rules.rules if isinstance(rules, JobsHealthRules) and rules.rules else ()
            top["health"] = JobsHealthRules(rules=[*existing, *self.health])
        fields = {"run_name": top.pop("run_name")} if "run_name" in top else {}
        fields["tasks"] = tuple(built)
        fields.update(top)
        spec = RunSpec._new(fields, self.extra)
        warnings = [
            Problem(
                f"$.tasks[{indexes[0]}].new_cluster",
                "cluster-per-task",
                f"cluster {name!r} is copied into {len(indexes)} tasks ({_first_keys(keys, indexes)}); runs/submit "
                f"starts a separate cluster for each of them",
            )
            for name, indexes in used.items()
            if len(indexes) > 1
        ]
        spec._finish(self.problems, self.load_warnings, extra_warnings=warnings)
        if used:
            # Which named cluster each task got, for the pictures; the dict is made when one is drawn.
            object.__setattr__(spec, "_cluster_names", (keys, used))
        return spec

    def _apply_edits(self) -> tuple[list[_TaskEntry], list[str]]:
        """
        The tasks and their keys after ``update_task`` / ``remove_task``, applied in the order called.

        An edit finds its task by key (given or derived) among the tasks that existed when it was
        called, so ``.remove_task("a").task(..., key="a")`` keeps the new task.
        """
        tasks = self.tasks
        keys = _derive_keys(tasks)
        if not self.edits:
            return tasks, keys
        entries = list(tasks)
        alive = [True] * len(entries)
        for count, key, changes in self.edits:
            name = "remove_task" if changes is None else "update_task"
            index = next((i for i in range(count - 1, -1, -1) if alive[i] and keys[i] == key), None)
            if index is None:
                self.problems.append(Problem("$", "unknown-task", f"{name}({key!r}): no task has that key"))
            elif changes is None:
                alive[index] = False
            else:
                _, given_key, fields, cluster, _ = entries[index]
                fields = dict(fields)
                for field, value in changes.items():
                    if value is None:
                        fields.pop(field, None)
                    else:
                        fields[field] = value
                entries[index] = ("task", given_key, fields, cluster, None)
        kept = [i for i, keep in enumerate(alive) if keep]
        return [entries[i] for i in kept], [keys[i] for i in kept]

    def _attach_cluster(
        self, task: dict[str, Any], name: str, key: str, index: int, used: dict[str, list[int]]
    ) -> None:
        """Put named cluster ``name`` into ``task`` (the fields of task ``index``), or note why not."""
        cluster = self.clusters.get(name)
        path = f"$.tasks[{index}]"
        if cluster is None:
            from runspec.spec._schema import closest

            guess = closest(name, self.clusters)
            hint = f"did you mean {guess!r}? " if guess else ""
            declared = ", ".join(repr(c) for c in self.clusters) or "none"
            self.problems.append(
                Problem(
                    path,
                    "unknown-cluster",
                    f"task {key!r} names cluster {name!r}, which is not declared; {hint}declared: {declared}",
                )
            )
            return
        used.setdefault(name, []).append(index)
        loop = task.get("for_each_task")
        if isinstance(loop, ForEachTask) and isinstance(loop.task, Task):
            # A for_each task has no cluster of its own: the cluster goes to the task it repeats.
            inner = loop.task
            if "new_cluster" in inner.__dict__ or "existing_cluster_id" in inner.__dict__:
                self.problems.append(
                    Problem(
                        f"{path}.for_each_task.task",
                        "multiple-compute",
                        f"the task inside {key!r} already has a cluster; drop cluster={name!r}",
                    )
                )
                return
            new_inner = Task._new({**inner.__dict__, "new_cluster": cluster})
            task["for_each_task"] = ForEachTask._new({**loop.__dict__, "task": new_inner})
            return
        if "new_cluster" in task or "existing_cluster_id" in task:
            self.problems.append(
                Problem(
                    path,
                    "multiple-compute",
                    f"task {key!r} names cluster {name!r} and also sets its own cluster; keep one",
                )
            )
            return
        task["new_cluster"] = cluster


# A task with none of these takes a named cluster as its new_cluster as it is.
_NO_COMPUTE_YET = frozenset({"for_each_task", "new_cluster", "existing_cluster_id"})


def _first_keys(keys: list[str], indexes: list[int]) -> str:
    shown = ", ".join(repr(keys[i]) for i in indexes[:5])
    return shown + (f" and {len(indexes) - 5} more" if len(indexes) > 5 else "")


def _wants_cluster(fields: dict[str, Any]) -> bool:
    """True for a task that needs classic compute and names none (so the run's one cluster applies)."""
    if "new_cluster" in fields or "existing_cluster_id" in fields or "environment_key" in fields:
        return False
    loop = fields.get("for_each_task")
    if isinstance(loop, ForEachTask) and isinstance(loop.task, Task):
        inner = loop.task.__dict__
        return _wants_cluster({k: v for k, v in inner.items() if k != "task_key"})
    kinds = [k for k in fields if k in CLUSTER_TYPES]
    if len(kinds) != 1:
        return False
    if kinds[0] == "notebook_task":
        nb = fields["notebook_task"]
        if isinstance(nb, NotebookTask) and nb.warehouse_id is not None:
            return False
    return True


# -- task keys ----------------------------------------------------------------------------------


def _derive_keys(tasks: list[_TaskEntry]) -> list[str]:
    """Each task's key: the one given, or one derived from the task and made unique in the run."""
    taken = {e[1] for e in tasks if e[1] is not None}
    counts: dict[str, int] = {}
    keys: list[str] = []
    for _, given_key, fields, _, _ in tasks:
        if given_key is not None:
            keys.append(given_key)
            continue
        base = _suggest_key(fields) or "task"
        n = counts.get(base, 0)
        key = base
        while key in taken:
            n += 1
            suffix = f"_{n + 1}"
            key = base[: 100 - len(suffix)] + suffix
        counts[base] = n
        taken.add(key)
        keys.append(key)
    return keys


def _suggest_key(fields: dict[str, Any]) -> str | None:
    for name in fields:
        if name.endswith("_task"):
            raw = _name_for(name, fields[name])
            if raw:
                cleaned = _NOT_KEY_CHARS.sub("_", raw).strip("_")[:100]
                return cleaned or None
    return None


def _tail(path: str | None) -> str | None:
    if not path:
        return None
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[0] if "." in last else last


def _name_for(kind: str, task: Any) -> str | None:
    if isinstance(task, NotebookTask):
        return _tail(task.notebook_path)
    if isinstance(task, SparkPythonTask):
        return _tail(task.python_file)
    if isinstance(task, PythonWheelTask):
        return task.entry_point or task.package_name
    if isinstance(task, SparkJarTask):
        return task.main_class_name.rsplit(".", 1)[-1] if task.main_class_name else "spark_jar"
    if isinstance(task, PipelineTask):
        return f"pipeline_{task.pipeline_id}"[:40] if task.pipeline_id else "pipeline"
    if isinstance(task, RunJobTask):
        return f"run_job_{task.job_id}"
    if isinstance(task, SqlTask):
        if task.file is not None:
            return _tail(task.file.path)
        form = next((f for f in ("query", "dashboard", "alert") if f in task.__dict__), None)
        return f"sql_{form}" if form else "sql"
    if isinstance(task, DbtTask):
        return "dbt"
    if isinstance(task, ConditionTask):
        return "condition"
    if isinstance(task, ForEachTask):
        inner = task.task
        return f"for_each_{inner.task_key}" if inner is not None and inner.task_key else "for_each"
    if isinstance(task, CleanRoomsNotebookTask):
        return _tail(task.notebook_name)
    if isinstance(task, DashboardTask):
        return "dashboard"
    if isinstance(task, SparkSubmitTask):
        return "spark_submit"
    return kind.removesuffix("_task")
