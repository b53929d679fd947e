"""
The ``Run`` builder: one method per thing a run can say, each returning a new ``Run``.

Over 600 lines on purpose: it is one public class, and its methods are short and documented one by one;
argument checking lives in ``_args``, the operations in ``_ops`` and compiling in ``_compile``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from runspec.build._args import (
    TYPE_FIELDS,
    add_fields,
    add_named,
    as_list,
    check_kind,
    dependencies,
    fill_type_fields,
    hashable,
    unknown_kwarg,
    whole_task_fields,
    with_key_first,
)
from runspec.build._compile import Compiled, Intent
from runspec.build._ops import (
    AS_LOADED,
    AddCluster,
    AddEnvironment,
    AddHealthRule,
    Append,
    ClusterKeys,
    LoadWarnings,
    Op,
    Record,
    RemoveTask,
    SetExtra,
    SetField,
    Start,
    UpdateTask,
)
from runspec.errors import Problem, SpecError
from runspec.spec.model._library import Library
from runspec.spec.model._objects import (
    Environment,
    GitSource,
    JobAccessControlRequest,
    JobEmailNotifications,
    JobEnvironment,
    JobNotificationSettings,
    JobRunAs,
    JobsHealthRule,
    NewCluster,
    QueueSettings,
    SubmitTask,
    TaskDependency,
    Webhook,
    WebhookNotifications,
)
from runspec.spec.objects import set_fields
from runspec.spec.objects._base import LoadContext, SpecObject, load_body
from runspec.spec.objects._classes import freeze_extra
from runspec.spec.run_spec import RunSpec

if TYPE_CHECKING:  # pragma: no cover
    from typing_extensions import Self

    from runspec.spec.jobs import JobConversion

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


class Run:
    """
    A one-time run being described. ``Run("name")`` sets ``run_name``.

    Chain ``.task(...)``, ``.cluster(...)``, ``.timeout(...)`` and the other methods in any order, then
    call ``.compile()``. Wrong Python types raise ``TypeError`` at the call; everything else is checked
    by ``compile()``, which reports every problem at once.
    """

    # Each Run is one call on top of the Run it was called on, and holds the record of that call, which
    # holds the record of the call before it (see ``runspec.build._ops.Record``).
    __slots__ = ("_last",)

    _last: Record

    def __init__(self, name: str | None = None) -> None:
        if name is not None:
            check_kind("Run", "name", name, str, "str (the run_name)")
        _set_last(self, (None, None, SetField("run_name", name) if name is not None else Start()))

    # -- plumbing: each Run is one call on top of its parent ----------------------------------------

    def _push(self, op: Op) -> Self:
        new = _object_new(type(self))
        _set_last(new, (self._last, None, op))
        return new

    def _records(self) -> list[Record]:
        """The records of the calls that made this run, first to last."""
        records: list[Record] = []
        record = self._last
        # ``while True`` rather than ``while record is not None``: CPython 3.11 specialises a function's
        # bytecode once it has jumped back unconditionally a few times, and this one runs once per compile().
        while True:
            records.append(record)
            if record[0] is None:
                break
            record = record[0]
        records.reverse()
        return records

    def _compiled(self) -> Compiled:
        return Intent(self._records()).compile()

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Run is immutable: its methods return a new Run")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Run):
            return NotImplemented
        mine, theirs = self._records(), other._records()
        return len(mine) == len(theirs) and all(map(_same_call, mine, theirs))

    def __hash__(self) -> int:
        return hash(tuple(map(_call_hash, self._records())))

    # A Run is a value: copies share it, and pickling writes its calls as a flat list (a chain of 1000
    # tasks would otherwise nest 1000 levels deep).
    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: Any) -> Self:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), [(task, second) for _, task, second in self._records()]))

    def __repr__(self) -> str:
        state = Intent(self._records())
        parts = [repr(state.top["run_name"])] if "run_name" in state.top else []
        parts.append(f"tasks={len(state.tasks)}")
        if state.clusters:
            parts.append(f"clusters={list(state.clusters)}")
        return f"Run({', '.join(parts)})"

    def _repr_markdown_(self) -> str:
        try:
            compiled = self._compiled()
        except SpecError as exc:
            return "**This run does not compile:**\n\n```\n" + str(exc) + "\n```"
        from runspec import picture

        spec = compiled.spec
        return picture.markdown(spec, warnings=spec.warnings, cluster_names=compiled.cluster_names)

    def to_mermaid(self, **options: Any) -> str:
        """Compile and draw the run as a Mermaid flowchart, naming each task's cluster (see ``RunSpec.to_mermaid``)."""
        from runspec import picture

        compiled = self._compiled()
        return picture.to_mermaid(compiled.spec, **{"cluster_names": compiled.cluster_names, **options})

    def to_dot(self, **options: Any) -> str:
        """Compile and draw the run as a Graphviz DOT digraph (see ``RunSpec.to_dot``)."""
        from runspec import picture

        compiled = self._compiled()
        return picture.to_dot(compiled.spec, **{"cluster_names": compiled.cluster_names, **options})

    def to_text(self, **options: Any) -> str:
        """Compile and describe the run as plain text, one line per task (see ``RunSpec.to_text``)."""
        from runspec import picture

        compiled = self._compiled()
        return picture.to_text(compiled.spec, **{"cluster_names": compiled.cluster_names, **options})

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
        if key is not None and type(key) is not str:
            check_kind(_TASK, "key", key, str, "str")
        if cluster is not None and type(cluster) is not str:
            check_kind(_TASK, "cluster", cluster, str, "str (the name given to .cluster())")
        given: dict[str, Any]
        type_field = (TYPE_FIELDS or fill_type_fields()).get(type(task))
        if type_field is not None:  # a task-type object, as usual: its record starts here
            given = {"task_key": key, type_field: task} if key is not None else {type_field: task}
        else:
            given = whole_task_fields(_TASK, task, key)
        if depends_on:
            deps: tuple[TaskDependency, ...]
            if type(depends_on) is list and len(depends_on) == 1 and type(depends_on[0]) is str:
                # The usual case, one earlier task's key: what ``dependencies`` makes of it, without its loop.
                deps = (TaskDependency(depends_on[0]),)
            else:
                deps = dependencies(_TASK, depends_on)
            given["depends_on"] = (*given["depends_on"], *deps) if "depends_on" in given else deps
        add_named(
            given,
            libraries,
            run_if,
            max_retries,
            min_retry_interval_millis,
            retry_on_timeout,
            timeout_seconds,
            description,
            disabled,
            environment_key,
            existing_cluster_id,
            new_cluster,
        )
        if fields:
            add_fields(_TASK, given, fields.items())
        # The new Run's record holds the task's fields and the cluster it named (see ``Record``).
        new = _object_new(type(self))
        _set_last(new, (self._last, given, cluster))
        return new

    def update_task(self, key: str, **fields: Any) -> Self:
        """
        Return a copy of this run with fields of task ``key`` replaced (``None`` removes a field).

        Useful after ``Run.from_dict``: load a body, then change what differs. ``compile()`` reports an
        unknown ``key``.
        """
        check_kind("Run.update_task", "key", key, str, "str")
        table = SubmitTask._fields
        checked: dict[str, Any] = {}
        for name, value in fields.items():
            f = table.get(name)
            if f is None:
                raise TypeError(unknown_kwarg("Run.update_task", name, table))
            checked[name] = None if value is None else f.conv(value)
        return self._push(UpdateTask(key, checked))

    def remove_task(self, key: str) -> Self:
        """Return a copy of this run without task ``key`` (``compile()`` reports an unknown key)."""
        check_kind("Run.remove_task", "key", key, str, "str")
        return self._push(RemoveTask(key))

    # -- compute ------------------------------------------------------------------------------------

    def cluster(self, name: str, new_cluster: NewCluster | Mapping[str, Any]) -> Self:
        """
        Return a copy of this run with a named cluster that tasks can refer to by ``name``.

        runs/submit has no shared job clusters: ``compile()`` copies the cluster into the
        ``new_cluster`` of every task that uses it, so **each such task starts its own cluster**
        (``RunSpec.warnings`` says so when more than one task uses the same name). To share one
        running cluster, use ``existing_cluster_id`` on the tasks instead.
        """
        check_kind("Run.cluster", "name", name, str, "str")
        if isinstance(new_cluster, Mapping):
            new_cluster = NewCluster.from_dict(new_cluster)
        check_kind("Run.cluster", "new_cluster", new_cluster, NewCluster, "a NewCluster")
        return self._push(AddCluster(name, new_cluster))

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
        check_kind("Run.environment", "key", key, str, "str")
        if spec is None:
            spec = Environment(
                dependencies=dependencies,
                environment_version=environment_version,
                java_dependencies=java_dependencies,
                base_environment=base_environment,
            )
        else:
            check_kind("Run.environment", "spec", spec, Environment, "an Environment")
            if any(v is not None for v in (dependencies, environment_version, java_dependencies, base_environment)):
                raise TypeError("Run.environment: pass either spec=Environment(...) or its fields, not both")
        return self._push(AddEnvironment(JobEnvironment(key, spec)))

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
            return self._push(SetField("git_source", url))
        check_kind("Run.git", "url", url, str, "str or a GitSource")
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
                "patterns": as_list("Run.git", "sparse_checkout", sparse_checkout, "a list of path patterns")
            }  # type: ignore[arg-type]
            if sparse_checkout is not None
            else None,
        )
        return self._push(SetField("git_source", source))

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
            check_kind("Run.access", "level", level, str, "str or a JobAccessControlRequest")
            entry = JobAccessControlRequest(
                permission_level=level,  # type: ignore[arg-type]
                user_name=user,
                group_name=group,
                service_principal_name=service_principal,
            )
        return self._push(Append("access_control_list", entry))

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
        if set_fields(emails):
            result = result._push(SetField("email_notifications", emails))
        settings = JobNotificationSettings(
            no_alert_for_skipped_runs=no_alert_for_skipped_runs,
            no_alert_for_canceled_runs=no_alert_for_canceled_runs,
        )
        if set_fields(settings):
            result = result._push(SetField("notification_settings", settings))
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
                hooks[event] = [Webhook(i) for i in as_list("Run.webhooks", event, ids, "a list of destination ids")]
        if not hooks:
            raise TypeError("Run.webhooks: name at least one event (on_failure=[...], ...)")
        return self._push(SetField("webhook_notifications", WebhookNotifications(**hooks)))

    def health(self, metric: str, value: int, op: str = "GREATER_THAN") -> Self:
        """Return a copy of this run with one more health rule (appends): alert when ``metric`` > ``value``."""
        return self._push(AddHealthRule(JobsHealthRule(metric, op, value)))  # type: ignore[arg-type]

    def queue(self, enabled: bool = True) -> Self:
        """Return a copy of this run with ``queue.enabled`` set: wait in a queue when limits are reached."""
        return self._push(SetField("queue", QueueSettings(enabled)))

    def run_as(
        self,
        *,
        user: str | None = None,
        service_principal: str | None = None,
        group: str | None = None,
    ) -> Self:
        """Return a copy of this run that executes as a user, a service principal (application ID) or a group."""
        return self._push(
            SetField("run_as", JobRunAs(user_name=user, service_principal_name=service_principal, group_name=group))
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
                result = result._push(SetExtra(freeze_extra(RunSpec, value)))
                continue
            f = table.get(name)
            if f is None or name == "tasks":
                raise TypeError(unknown_kwarg("Run.set", name, table, exclude=("tasks",)))
            result = result._push(SetField(name, None if value is None else f.conv(value)))
        return result

    def _set(self, name: str, value: Any, owner: str) -> Self:
        f = RunSpec._fields[name]
        if value is not None and not (type(value) is str and f.info.desc == ("string",)):
            try:
                value = f.conv(value)
            except TypeError as exc:
                raise TypeError(str(exc).replace("RunSpec", owner, 1)) from None
        return self._push(SetField(name, value))

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
        return self._compiled().spec

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

    def to_job_settings(self, *, name: str | None = None) -> dict[str, Any]:
        """
        Compile and return a ``jobs/create`` body: each cluster named with ``.cluster()`` becomes the job
        cluster of that name (see ``RunSpec.to_job_settings``).
        """
        compiled = self._compiled()
        return compiled.spec.to_job_settings(name=name, cluster_names=compiled.cluster_names)

    # -- loading ------------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: RunSpec) -> Run:
        """Return a builder holding everything in ``spec``, to change it with the usual methods."""
        check_kind("Run.from_spec", "spec", spec, RunSpec, "a RunSpec")
        return cls._from_fields(dict(set_fields(spec)), spec._extra_map())

    @classmethod
    def from_dict(cls, body: Mapping[str, Any], *, strict: bool = True) -> Run:
        """
        Return a builder from an existing request body, to load a JSON spec and change it.

        Keys and value types are checked now (``SpecError``); whole-run checks wait for ``compile()``,
        so a body with, say, a dependency cycle can be loaded and mended.
        """
        if not isinstance(body, Mapping):
            raise TypeError(f"Run.from_dict() takes a dict (got a {type(body).__name__})")
        return cls._from_body(body, strict, owned=False)

    @classmethod
    def _from_body(cls, body: Mapping[str, Any], strict: bool, owned: bool) -> Run:
        """``from_dict``; ``owned``: the loader may take ``body`` apart (see ``LoadContext``)."""
        ctx = LoadContext(strict=strict, owned=owned)
        spec = load_body(RunSpec, body, ctx)
        if ctx.problems:
            raise SpecError(ctx.problems, subject="the request body", warnings=ctx.warnings)
        run = cls._from_fields(dict(set_fields(spec)), spec._extra_map())
        # What the load noticed (unknown keys kept, numbers as strings) is reported again by compile().
        return run._push(LoadWarnings(tuple(ctx.warnings))) if ctx.warnings else run

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
        return cls._from_body(data, strict, owned=True)  # parsed here: nobody else holds it

    @classmethod
    def from_job_settings(
        cls, settings: Mapping[str, Any], *, run_name: str | None = None, parameters: Mapping[str, str] | None = None
    ) -> Run:
        """A builder holding a one-time run of a saved job (see ``RunSpec.from_job_settings``)."""
        from runspec.spec.jobs import job_to_run

        return cls._from_conversion(job_to_run(settings, run_name=run_name, parameters=parameters))

    @classmethod
    def from_bundle(
        cls,
        resolved: Mapping[str, Any],
        job: str,
        *,
        run_name: str | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> Run:
        """A builder holding a one-time run of a bundle's job (see ``RunSpec.from_bundle``)."""
        from runspec.spec.jobs import bundle_job_to_run

        return cls._from_conversion(bundle_job_to_run(resolved, job, run_name=run_name, parameters=parameters))

    @classmethod
    def _from_conversion(cls, converted: JobConversion) -> Run:
        run = cls.from_spec(converted.spec)
        if converted.cluster_names:
            # The builder remembers each task's job cluster key: pictures name the boxes after it, and
            # to_job_settings() shares the cluster under that key again.
            run = run._push(ClusterKeys(tuple(converted.cluster_names.items())))
        # What the conversion dropped is said again by compile(), with the run's own warnings.
        return run._push(LoadWarnings(tuple(converted.warnings))) if converted.warnings else run

    @classmethod
    def _from_fields(cls, top: dict[str, Any], extra: Any) -> Run:
        tasks = top.pop("tasks", ())
        calls: list[tuple[dict[str, Any] | None, Any]] = [(None, Start())]
        calls += [(None, SetField(name, value)) for name, value in top.items()]
        if extra:
            calls.append((None, SetExtra(extra)))
        # A loaded task keeps its compute as written: the run's one named cluster is not given to it.
        calls += [(with_key_first(set_fields(task), task._extra_map()), AS_LOADED) for task in tasks]
        return _rebuild(cls, calls)


_object_new = object.__new__
# Run refuses attribute assignment, so its constructors write its slot directly.
_set_last = Run.__dict__["_last"].__set__
_TASK = "Run.task"


def _same_call(a: Record, b: Record) -> bool:
    """Whether two records are of the same call (not comparing the calls before them)."""
    return a[1] == b[1] and a[2] == b[2]  # an operation equals only one of its own type


def _call_hash(r: Record) -> int:
    _, task, second = r
    if task is not None:
        # A frozenset: equal records hash equal whatever order their fields were given in.
        return hash((frozenset(task.items()), second))
    return hash((type(second).__name__, hashable(second.values())))


def _rebuild(cls: type[Run], calls: list[tuple[dict[str, Any] | None, Any]]) -> Run:
    last: Record | None = None
    for task, second in calls:
        last = (last, task, second)
    run: Run = _object_new(cls)
    _set_last(run, last)
    return run
