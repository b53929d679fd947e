"""``RunSpec``: the whole runs/submit request body, checked, frozen and ready to send."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from runspec._frozen import freeze_json
from runspec.errors import Problem, SpecError
from runspec.spec.checks._single import is_task_field, looks_single, newer_task_type, single_task, task_fields
from runspec.spec.limits import MAX_BODY_BYTES
from runspec.spec.model._objects import (
    GitSource,
    JobAccessControlRequest,
    JobEmailNotifications,
    JobEnvironment,
    JobEnvironmentVariables,
    JobNotificationSettings,
    JobRunAs,
    JobsHealthRules,
    QueueSettings,
    SubmitTask,
    WebhookNotifications,
)
from runspec.spec.model._run_inits import RUN_SPEC_TABLE, run_spec_init
from runspec.spec.objects import set_fields
from runspec.spec.objects._classes import adopt_init
from runspec.spec.objects._convert import plain_json, wire_of
from runspec.spec.objects._load import BAD, LoadContext, LongInt, Where, load_body, load_object, path_of
from runspec.spec.objects._object import SpecObject

if TYPE_CHECKING:  # pragma: no cover
    from dataclasses import KW_ONLY

    from typing_extensions import Self

    from runspec.spec.model._objects import PerformanceTarget

__all__ = ["RunSpec"]


class RunSpec(SpecObject, wire="RunsSubmitRequest"):
    """
    The body of ``POST /api/2.2/jobs/runs/submit``, checked as a whole and frozen.

    Make one with ``Run(...).compile()``, ``RunSpec.from_dict(body)`` / ``from_json(text)``, or by
    calling ``RunSpec(tasks=[SubmitTask(...)], ...)`` directly. Every way runs all checks: a
    ``RunSpec`` that exists is one the checks accept, and ``SpecError`` lists every problem
    otherwise. ``warnings`` holds what does not stop the request (a cluster copied to several
    tasks, a deprecated field). ``to_dict()`` / ``to_json()`` give exactly the request body: the
    fields that were set, nothing added.
    """

    __slots__ = ("_warnings",)
    _table = RUN_SPEC_TABLE

    _: KW_ONLY
    tasks: Sequence[SubmitTask] | None = None
    run_name: str | None = None
    timeout_seconds: int | None = None
    idempotency_token: str | None = None
    access_control_list: Sequence[JobAccessControlRequest] | None = None
    git_source: GitSource | None = None
    environments: Sequence[JobEnvironment] | None = None
    email_notifications: JobEmailNotifications | None = None
    webhook_notifications: WebhookNotifications | None = None
    notification_settings: JobNotificationSettings | None = None
    health: JobsHealthRules | None = None
    queue: QueueSettings | None = None
    run_as: JobRunAs | None = None
    budget_policy_id: str | None = None
    usage_policy_id: str | None = None
    performance_target: PerformanceTarget | Literal["COST_OPTIMIZED"] | None = None
    duration_target: str | None = None
    environment_variables: Sequence[JobEnvironmentVariables] | None = None

    # -- checks ------------------------------------------------------------------------------------

    def _finish(
        self,
        problems: Sequence[Problem],
        warnings: Sequence[Problem],
        *,
        extra_warnings: Sequence[Problem] = (),
        subject: str | None = None,
        strict: bool = True,
    ) -> None:
        """
        Run the whole-run checks; raise ``SpecError`` with every problem, or keep the warnings.
        ``strict=False`` reads a single-task body's task as ``from_dict(strict=False)`` reads the rest.
        """
        from runspec.spec.checks._checks import check_run  # the rules load with the first check, not with runspec

        report = check_run(self, strict=strict)
        errors = [*problems, *report.errors]
        all_warnings = (*warnings, *extra_warnings, *report.warnings)
        if errors:
            raise SpecError(errors, subject=subject or self._subject(), warnings=all_warnings)
        object.__setattr__(self, "_warnings", all_warnings)

    def _subject(self) -> str:
        return f"run {self.run_name!r}" if self.run_name else "the run"

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Problems that do not stop the request, each with its path, code and message."""
        try:
            return getattr(self, "_warnings")  # type: ignore[no-any-return]  # noqa: B009 - set by checks
        except AttributeError:
            return ()

    # -- loading -----------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, strict: bool = True) -> Self:
        """
        Load and check a runs/submit request body.

        Every problem is collected and raised once as ``SpecError``: unknown or misspelled keys (with the
        closest known name), wrong JSON types, missing required fields, and every whole-run check.
        ``strict=False`` keeps unknown keys as ``extra`` (sent unchanged) and reports them as warnings,
        for fields newer than runspec. Keys whose value is null are dropped. Anything but a dict is a
        ``TypeError``.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"RunSpec.from_dict() takes a dict (got a {type(data).__name__})")
        return cls._from_body(data, strict, owned=False)

    @classmethod
    def _from_body(cls, data: Mapping[str, Any], strict: bool, owned: bool) -> Self:
        """Load and check a body; ``owned``: the loader may take ``data`` apart (see ``LoadContext``)."""
        ctx = LoadContext(strict=strict, owned=owned)
        spec: RunSpec = load_body(cls, data, ctx)
        spec._finish(ctx.problems, ctx.warnings, subject="the request body", strict=strict)
        return spec  # type: ignore[return-value]

    @classmethod
    def _load(cls, value: Any, parent: Where, key: str | int | None, ctx: LoadContext, depth: int) -> Any:
        """Load a body: as any object, or in the single-task form (see ``runspec.spec.checks._single``)."""
        run_fields = cls._fields
        if key is not None or not isinstance(value, Mapping) or not looks_single(value, run_fields):
            return load_object(cls, value, parent, key, ctx, depth)
        # The single-task form: the run's own fields load as usual; the task's fields are carried as
        # they are (the checks read them as the run's one task, see runspec.spec.checks._single).

        def task_field(key: str, item: Any) -> bool:
            return is_task_field(key, run_fields) or newer_task_type(key, item, run_fields)

        spec = load_object(cls, {k: v for k, v in value.items() if not task_field(k, v)}, parent, key, ctx, depth)
        if spec is BAD:
            return BAD
        carried = dict(spec._extra_map() or {})
        for name, item in value.items():
            if item is None or not task_field(name, item):
                continue
            try:
                carried[name] = freeze_json(item)
            except (TypeError, ValueError) as exc:
                ctx.problem(path_of(parent, name), "wrong-type", f"not a usable JSON value: {exc}")
        return cls._new(dict(set_fields(spec)), carried)

    def with_tasks_form(self) -> RunSpec:
        """
        This run with ``tasks[]``: a body in the single-task form (the task's fields at the top level, as
        Jobs API 2.0 and Airflow send it) becomes a run of one task, keyed after what it runs (a
        notebook ``/a/ingest`` is ``ingest``). Any other spec is returned as it is.
        """
        fields = task_fields(self)
        if not fields:
            return self
        task = single_task(self, LoadContext(strict=False))  # checked already, as it was loaded
        assert task is not None  # the spec was checked when it was made
        rest = {k: v for k, v in (self._extra_map() or {}).items() if k not in fields}
        spec = RunSpec._new({"tasks": (task,), **set_fields(self)}, rest or None)
        spec._finish((), ())
        return spec

    @classmethod
    def from_json(cls, text: str | bytes, *, strict: bool = True) -> Self:
        """Parse JSON text and load it with ``from_dict``; JSON that is not an object is a ``SpecError``."""
        if not isinstance(text, (str, bytes, bytearray)):
            raise TypeError(f"RunSpec.from_json() takes str or bytes (got a {type(text).__name__})")
        data = read_json(text)
        if not isinstance(data, dict):
            kind = "an array" if isinstance(data, list) else "not an object"
            raise SpecError(
                [Problem("$", "wrong-type", f"the request body must be a JSON object; this is {kind}")],
                subject="the request body",
            )
        size = len(text) if not isinstance(text, str) else len(text.encode("utf-8", "surrogatepass"))
        if size <= MAX_BODY_BYTES:
            return cls._from_body(data, strict, owned=True)  # parsed here: nobody else holds it
        too_large = Problem(
            "$",
            "payload-too-large",
            f"the request body is {size:,} bytes; the API takes at most {MAX_BODY_BYTES // (1024 * 1024)} MB",
        )
        try:
            cls.from_dict(data, strict=strict)
        except SpecError as exc:
            raise SpecError([too_large, *exc.problems], subject="the request body", warnings=exc.warnings) from None
        raise SpecError([too_large], subject="the request body")

    # -- output ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the request body as plain dicts and lists: exactly the fields that were set."""
        return plain_json(self._wire())  # type: ignore[no-any-return]

    def to_json(self, *, indent: int | None = None) -> str:
        """Return the request body as JSON text (compact unless ``indent`` is given)."""
        if indent is None:
            return _compact_sharing_clusters(self._wire())
        # The body is built from frozen objects, so it cannot contain a cycle.
        return json.dumps(
            self._wire(),
            indent=indent,
            separators=(",", ": "),
            check_circular=False,
            ensure_ascii=False,
            default=wire_of,
        )

    # -- pictures ----------------------------------------------------------------------------------

    # The pictures draw from this value alone: two equal specs draw the same picture. (Run.to_mermaid()
    # and the other builder methods pass the named clusters they know as cluster_names=.)

    def to_mermaid(self, **options: Any) -> str:
        """
        Draw the run's tasks and dependencies as a Mermaid flowchart (see ``runspec.picture.to_mermaid``).

        ``state=handle.get()`` colours each task by its state in a running or finished run.
        """
        from runspec import picture

        return picture.to_mermaid(self.with_tasks_form(), **options)

    def to_dot(self, **options: Any) -> str:
        """Draw the run as a Graphviz DOT digraph (see ``runspec.picture.to_dot``)."""
        from runspec import picture

        return picture.to_dot(self.with_tasks_form(), **options)

    def to_text(self, **options: Any) -> str:
        """Describe the run as plain text, one line per task (see ``runspec.picture.to_text``)."""
        from runspec import picture

        return picture.to_text(self.with_tasks_form(), **options)

    def _repr_markdown_(self) -> str:
        from runspec import picture

        return picture.markdown(self.with_tasks_form(), warnings=self.warnings)

    def task(self, key: str) -> SubmitTask:
        """The task with this ``task_key``; ``KeyError`` names the known keys when there is none."""
        for t in self.tasks or ():
            if t.task_key == key:
                return t
        known = ", ".join(repr(t.task_key) for t in self.tasks or ())
        raise KeyError(f"no task {key!r} in this run (tasks: {known})")

    @property
    def task_keys(self) -> tuple[str, ...]:
        """The task keys, in order."""
        return tuple(t.task_key for t in self.tasks or ())

    # -- saved jobs (runspec.spec.job_conversion does the work) ------------------------------------

    @classmethod
    def from_job_settings(
        cls, settings: Mapping[str, Any], *, run_name: str | None = None, parameters: Mapping[str, str] | None = None
    ) -> RunSpec:
        """
        A one-time run of a saved job: from a ``jobs/create`` body or a ``jobs/get`` response.

        Shared job clusters are copied into each task that names them, ``{{job.parameters.NAME}}`` gets
        the default or the value in ``parameters``, and what a run cannot carry (schedule, trigger, tags,
        ...) is dropped with one warning each. Anything that cannot be converted faithfully is a
        ``SpecError`` with its path in the input. See docs/jobs.md.
        """
        from runspec.spec.job_conversion._job_to_run import convert_job  # loaded with the first conversion

        return convert_job(settings, cls.from_dict, run_name=run_name, parameters=parameters)[0]

    @classmethod
    def from_bundle(
        cls,
        resolved: Mapping[str, Any],
        job: str,
        *,
        run_name: str | None = None,
        parameters: Mapping[str, str] | None = None,
    ) -> RunSpec:
        """A one-time run of job ``job`` in ``databricks bundle validate --output json`` output."""
        from runspec.spec.job_conversion._job_to_run import convert_bundle_job

        return convert_bundle_job(resolved, job, cls.from_dict, run_name=run_name, parameters=parameters)[0]

    def to_job_settings(
        self, *, name: str | None = None, cluster_names: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """
        A ``jobs/create`` body (plain dicts) for this run: identical task clusters become one job cluster.

        ``name`` defaults to ``run_name``; ``idempotency_token`` is left out. ``cluster_names`` maps a
        task key to the job cluster key its cluster should get (``Run.to_job_settings()`` passes the
        names given to ``Run.cluster()``); other shared clusters are keyed after their first task.
        See docs/jobs.md.
        """
        from runspec.spec.job_conversion._run_to_job import job_body

        return job_body(self.to_dict(), name=name, cluster_names=cluster_names)


def read_json(text: str | bytes | bytearray) -> Any:
    """Parse a body's JSON text, or raise ``SpecError`` (``invalid-json``) saying why it cannot be read."""
    try:
        return json.loads(text)
    except RecursionError:
        raise SpecError([Problem("$", "invalid-json", "the JSON nests too deeply to read")]) from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise SpecError([Problem("$", "invalid-json", f"not valid JSON: {exc}")]) from None
    # An integer too long for int() to read: read it as a number just past the API's 64 bits, so that
    # loading reports it where it is (out-of-range) instead of failing on the whole text.
    try:
        return json.loads(text, parse_int=_bounded_int)
    except (ValueError, RecursionError) as exc:
        raise SpecError([Problem("$", "invalid-json", f"not valid JSON: {exc}")]) from None


def _bounded_int(text: str) -> int:
    return int(text) if len(text) <= 400 else LongInt(-1 if text.startswith("-") else 1)


def _compact(value: Any) -> str:
    # The body is built from frozen objects, so it cannot contain a cycle; wire_of gives the request
    # form of the spec objects in it (a FrozenMap is a dict, written as it is).
    return json.dumps(value, separators=(",", ":"), check_circular=False, ensure_ascii=False, default=wire_of)


def _compact_sharing_clusters(body: dict[str, Any]) -> str:
    """
    ``body`` as compact JSON, writing each cluster that several tasks share only once.

    ``Run.cluster`` puts the same cluster object in every task that names it, and a cluster is often
    most of a task's text. Each task that shares one gets a marker string instead, the body is dumped,
    and the cluster's own text replaces every marker. A marker is a whole JSON string token, led by a
    NUL (always written ``\\u0000``) and placed between ``:`` and ``,`` or ``}``, so its occurrences
    cannot overlap: when the text holds exactly as many as were placed, each one is a placed one.
    Otherwise the body itself contains the marker, and it is dumped plainly.
    """
    tasks = body.get("tasks")
    if type(tasks) is not tuple or len(tasks) < 2:
        return _compact(body)
    # One pass: mark every task's cluster, giving up when clusters are mostly not shared (a loaded body).
    markers: dict[int, list[Any]] = {}  # id of a cluster -> [marker, cluster, uses]
    marked = []
    last: Any = None  # the cluster of the task before (runs of tasks share one) and its entry
    entry: list[Any] | None = None
    for task in tasks:
        form = task._w  # a SubmitTask's request form: a dict
        cluster = form.get("new_cluster")
        if cluster is not None:
            if cluster is not last or entry is None:
                last = cluster
                entry = markers.get(id(cluster))
                if entry is None:
                    if len(markers) == _MAX_SHARED_CLUSTERS:
                        return _compact(body)
                    entry = markers[id(cluster)] = [f"\x00{len(markers)}\x00", cluster, 0]
            entry[2] += 1
            form = form.copy()  # the copy of a dict is one block copy; the key is there already
            form["new_cluster"] = entry[0]
        marked.append(form)
    # The tasks' request forms as a list: the encoder reads them without asking ``wire_of`` for each task.
    text = _compact({**body, "tasks": marked})
    if not markers:
        return text
    for marker, cluster, uses in markers.values():
        parts = text.split(_compact(marker))
        if len(parts) != uses + 1:
            return _compact(body)
        text = _compact(cluster).join(parts)
    return text


# More distinct clusters than this and the body is dumped plainly: each one costs a pass over the text.
_MAX_SHARED_CLUSTERS = 16

# The __init__ tools/gen_spec.py writes: checks and stores each field, then runs every check of the run.
# (Set here rather than in the class, so type checkers read the signature from the annotations above.)
adopt_init(RunSpec, run_spec_init)
