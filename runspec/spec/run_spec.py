"""``RunSpec``: the whole runs/submit request body, checked, frozen and ready to send."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from runspec.errors import Problem, SpecError
from runspec.spec._checks import check_run
from runspec.spec._convert import plain_json, wire_of
from runspec.spec._load import LoadContext
from runspec.spec._object import SpecObject
from runspec.spec._objects import (
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
from runspec.spec.limits import MAX_BODY_BYTES

if TYPE_CHECKING:  # pragma: no cover
    from dataclasses import KW_ONLY

    from typing_extensions import Self

    from runspec.spec._objects import PerformanceTarget

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

    def __post_init__(self) -> None:
        self._finish((), ())

    # -- checks ------------------------------------------------------------------------------------

    def _finish(
        self,
        problems: Sequence[Problem],
        warnings: Sequence[Problem],
        *,
        extra_warnings: Sequence[Problem] = (),
        subject: str | None = None,
    ) -> None:
        """Run the whole-run checks; raise ``SpecError`` with every problem, or keep the warnings."""
        report = check_run(self)
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
        ctx = LoadContext(strict=strict)
        spec: RunSpec = cls._load_checked(data, ctx)
        spec._finish(ctx.problems, ctx.warnings, subject="the request body")
        return spec  # type: ignore[return-value]

    @classmethod
    def from_json(cls, text: str | bytes, *, strict: bool = True) -> Self:
        """Parse JSON text and load it with ``from_dict``; JSON that is not an object is a ``SpecError``."""
        if not isinstance(text, (str, bytes, bytearray)):
            raise TypeError(f"RunSpec.from_json() takes str or bytes (got a {type(text).__name__})")
        try:
            data = json.loads(text)
        except RecursionError:
            raise SpecError([Problem("$", "invalid-json", "the JSON nests too deeply to read")]) from None
        except ValueError as exc:
            raise SpecError([Problem("$", "invalid-json", f"not valid JSON: {exc}")]) from None
        if not isinstance(data, dict):
            kind = "an array" if isinstance(data, list) else "not an object"
            raise SpecError(
                [Problem("$", "wrong-type", f"the request body must be a JSON object; this is {kind}")],
                subject="the request body",
            )
        size = len(text) if not isinstance(text, str) else len(text.encode("utf-8", "surrogatepass"))
        if size <= MAX_BODY_BYTES:
            return cls.from_dict(data, strict=strict)
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

        return picture.to_mermaid(self, **options)

    def to_dot(self, **options: Any) -> str:
        """Draw the run as a Graphviz DOT digraph (see ``runspec.picture.to_dot``)."""
        from runspec import picture

        return picture.to_dot(self, **options)

    def to_text(self, **options: Any) -> str:
        """Describe the run as plain text, one line per task (see ``runspec.picture.to_text``)."""
        from runspec import picture

        return picture.to_text(self, **options)

    def _repr_markdown_(self) -> str:
        from runspec import picture

        return picture.markdown(self, warnings=self.warnings)

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


def _compact(value: Any) -> str:
    # The body is built from frozen objects, so it cannot contain a cycle; wire_of gives the request
    # form of the spec objects and FrozenMaps in it.
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
                    entry = markers[id(cluster)] = [f"\x00runspec-shared-cluster-{len(markers)}\x00", cluster, 0]
            entry[2] += 1
            form = {**form, "new_cluster": entry[0]}
        marked.append(form)
    if not markers:
        return _compact(body)
    text = _compact({**body, "tasks": marked})
    for marker, cluster, uses in markers.values():
        token = _compact(marker)
        if text.count(token) != uses:
            return _compact(body)
        text = text.replace(token, _compact(cluster))
    return text


# More distinct clusters than this and the body is dumped plainly: each one costs a pass over the text.
_MAX_SHARED_CLUSTERS = 16
