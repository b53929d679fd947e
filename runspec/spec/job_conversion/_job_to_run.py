"""
A saved job's settings as a one-time run.

``convert_job`` turns a saved job's settings (a ``jobs/create`` body, a ``jobs/get`` response; or a job
of ``databricks bundle validate --output json``, ``convert_bundle_job``) into a checked run: every shared
job cluster is copied into the tasks that name it, job parameters are put where a run of the job would
see them, and what a one-time run cannot carry is dropped with one warning each. Whatever cannot be
converted faithfully is a ``SpecError`` with its path in the input, never a quiet change. The run is
made by the function given (``RunSpec.from_dict``), so this module does not import ``RunSpec``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeAlias, TypeVar

from runspec.errors import Fix, Problem, SpecError
from runspec.spec.job_conversion._job_parameters import JobParameters
from runspec.spec.model._job_objects import JobSettings
from runspec.spec.model._run_inits import RUN_SPEC_FIELDS
from runspec.spec.objects._base import jpath
from runspec.spec.schema._schema import FieldInfo, closest, schema_fields
from runspec.spec.task_types import table

__all__ = ["CARRIED_FIELDS", "JOB_ONLY_FIELDS", "Conversion", "Made", "convert_bundle_job", "convert_job"]


class Made(Protocol):
    """What a conversion makes (a ``RunSpec``): a checked run that carries warnings."""

    @property
    def warnings(self) -> tuple[Problem, ...]: ...


M = TypeVar("M", bound=Made)

#: The run made from a job, the warnings the conversion itself gave (also in the run's ``warnings``), and
#: task key -> the job cluster key its cluster came from (for ``RunSpec.to_job_settings(cluster_names=...)``).
Conversion: TypeAlias = "tuple[M, tuple[Problem, ...], dict[str, str]]"

#: The fields of the job settings handled on their own (``name`` becomes ``run_name``; the job clusters are
#: copied into the tasks; the parameters are put where a run would see them).
_HANDLED = ("name", "job_clusters", "parameters")


def carried_fields(job: Mapping[str, FieldInfo], run: Mapping[str, FieldInfo]) -> tuple[str, ...]:
    """
    The fields of a ``jobs/create`` body (``job``) that a runs/submit body (``run``, in the order its
    fields are written) takes under the same name: a field both gain is carried with no edit here.
    """
    return tuple(name for name, info in run.items() if name in job and not info.rejected and name not in _HANDLED)


#: Job fields a one-time run carries unchanged (their names and shapes are the same in runs/submit).
CARRIED_FIELDS = carried_fields(
    schema_fields("CreateJob"), {name: schema_fields("RunsSubmitRequest")[name] for name in RUN_SPEC_FIELDS}
)

#: Job fields a one-time run cannot carry, and what happens instead (the warning says so).
JOB_ONLY_FIELDS: dict[str, str] = {
    "schedule": "the run starts once, when it is submitted; nothing starts it again on a schedule",
    "trigger": "the run starts once, when it is submitted; no file arrival, table update or periodic "
    "trigger starts it again",
    "continuous": "the run starts once and is not started again when it ends",
    "max_concurrent_runs": "each submit starts one more run; nothing limits how many run at the same time",
    "tags": "the job's tags reach neither the run nor its clusters (to tag the clusters, put the tags in each "
    "new_cluster.custom_tags)",
    "format": "every one-time run has the multi-task format",
    "edit_mode": "a one-time run cannot be edited in the UI at all",
    "deployment": "the run belongs to no bundle or other deployment",
    "description": "the text is not sent",
    "triggers": "the run starts once, when it is submitted; none of the triggers starts it again",
    "parent_path": "the run is not saved in a workspace folder",
}

#: The other fields of a bundle's job resource.
_BUNDLE_FIELDS = ("permissions",)
_BUNDLE_STATE = ("id", "url", "modified_status")  # what a deployment recorded, not settings

#: A bundle substitution (``${var.x}``, ``${resources.jobs.y.id}``, ...) left in the settings.
_BUNDLE_REFERENCE = re.compile(r"\$\{(?:var|variables|resources|bundle|workspace|artifacts)\.[^}]*\}")

#: The path of a task's new_cluster (or the new_cluster of the task a for_each repeats) in the run body.
_CLUSTER_PATH = re.compile(r"\$\.tasks\[\d+\](?:\.for_each_task\.task)?\.new_cluster(?=$|[.\[])")

#: Fields of the single-task job format of API 2.0 beside its task types (``api_2_0`` in the task-type table),
#: which put one task's fields at the top.
_SINGLE_TASK_COMPUTE = ("new_cluster", "existing_cluster_id")
_SINGLE_TASK_OTHERS = ("libraries", "max_retries", "min_retry_interval_millis", "retry_on_timeout")


def _single_task_fields() -> tuple[str, ...]:
    types = tuple(field for field, entry in table().items() if entry.api_2_0)
    return (*_SINGLE_TASK_COMPUTE, *types, *_SINGLE_TASK_OTHERS)


# --------------------------------------------------------------------------------------------------
# Job -> run
# --------------------------------------------------------------------------------------------------


def convert_job(
    settings: Mapping[str, Any],
    make: Callable[[dict[str, Any]], M],
    *,
    run_name: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Conversion[M]:
    """
    Convert job settings (a ``jobs/create`` body or a ``jobs/get`` response) into a checked run, made
    from the run body by ``make`` (``RunSpec.from_dict``).

    See ``RunSpec.from_job_settings``.
    """
    if not isinstance(settings, Mapping):
        raise TypeError(f"RunSpec.from_job_settings() takes a dict (got a {type(settings).__name__})")
    _check_arguments(run_name, parameters)
    problems: list[Problem] = []
    base = "$"
    if "settings" in settings and "tasks" not in settings:  # a jobs/get response
        base = "$.settings"
        if settings.get("has_more") is True:
            problems.append(
                Problem(
                    "$.has_more",
                    "job-settings-paged",
                    "this jobs/get answer holds only the first 100 tasks or job clusters; read every page "
                    "(jobs/get with page_token) and join them before converting",
                )
            )
        inner = settings["settings"]
        if not isinstance(inner, Mapping):
            raise SpecError(
                [Problem(base, "wrong-type", "the job's settings must be an object")], subject="the job settings"
            )
        settings = inner
    return _Converter(settings, base, bundle=False, problems=problems).convert(make, run_name, parameters)


def convert_bundle_job(
    resolved: Mapping[str, Any],
    job: str,
    make: Callable[[dict[str, Any]], M],
    *,
    run_name: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> Conversion[M]:
    """Convert job ``job`` of ``databricks bundle validate --output json`` output; see ``RunSpec.from_bundle``."""
    if not isinstance(resolved, Mapping):
        raise TypeError(f"RunSpec.from_bundle() takes a dict (got a {type(resolved).__name__})")
    if not isinstance(job, str):
        raise TypeError(f"RunSpec.from_bundle(): 'job' must be str (got a {type(job).__name__})")
    _check_arguments(run_name, parameters)
    resources = resolved.get("resources")
    jobs = resources.get("jobs") if isinstance(resources, Mapping) else None
    if not isinstance(jobs, Mapping) or not isinstance(jobs.get(job), Mapping):
        names = sorted(jobs) if isinstance(jobs, Mapping) else []
        guess = closest(job, names)
        hint = f"did you mean {guess!r}? " if guess else ""
        known = ", ".join(repr(n) for n in names) or "none (is this 'databricks bundle validate -o json' output?)"
        raise SpecError(
            [Problem("$.resources.jobs", "unknown-job", f"the bundle has no job {job!r}; {hint}jobs: {known}")],
            subject="the bundle",
        )
    base = jpath("$.resources.jobs", job)
    return _Converter(jobs[job], base, bundle=True, problems=[]).convert(make, run_name, parameters)


def _check_arguments(run_name: Any, parameters: Any) -> None:
    if run_name is not None and not isinstance(run_name, str):
        raise TypeError(f"'run_name' must be str (got a {type(run_name).__name__})")
    if parameters is None:
        return
    if not isinstance(parameters, Mapping):
        raise TypeError(f"'parameters' must be a dict of str to str (got a {type(parameters).__name__})")
    for name, value in parameters.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"'parameters' must map str to str (got {name!r}: {value!r})")


class _Converter:
    """One conversion of job settings: the problems and warnings found, and where paths point."""

    def __init__(self, settings: Mapping[str, Any], base: str, *, bundle: bool, problems: list[Problem]) -> None:
        self.settings = settings
        self.base = base
        self.bundle = bundle
        self.problems = problems
        self.warnings: list[Problem] = []
        # Where a path of the run body points in the job: a run field renamed, a cluster copied.
        self.renamed: dict[str, str] = {}
        self.cluster_paths: dict[str, str] = {}

    def at(self, path: str) -> str:
        """A path in the job settings (``$`` is the settings) as a path in the input."""
        return self.base + path[1:]

    def problem(self, path: str, code: str, message: str, fix: Fix | None = None) -> None:
        self.problems.append(Problem(self.at(path), code, message, fix=fix))

    def warn(self, path: str, code: str, message: str, fix: Fix | None = None) -> None:
        self.warnings.append(Problem(self.at(path), code, message, fix=fix))

    # -- the whole conversion ------------------------------------------------------------------------

    def convert(
        self, make: Callable[[dict[str, Any]], M], run_name: str | None, parameters: Mapping[str, str] | None
    ) -> Conversion[M]:
        if not self._check_keys():
            raise SpecError(self.problems, subject=self._subject())
        try:
            body, used = self._build(run_name, parameters)
        except RecursionError:  # settings that contain themselves
            self.problem("$", "too-deep", "the settings nest too deeply to convert (do they contain themselves?)")
            raise SpecError(_unique(self.problems), subject=self._subject()) from None
        return self._finish(make, body, used)

    def _build(
        self, run_name: str | None, parameters: Mapping[str, str] | None
    ) -> tuple[dict[str, Any], dict[str, list[int]]]:
        """The runs/submit body of the job (not yet checked), and which tasks use which job cluster."""
        settings = self.settings
        body: dict[str, Any] = {}
        name = run_name if run_name is not None else settings.get("name")
        if name is not None:
            body["run_name"] = name
            if run_name is None:
                self.renamed["$.run_name"] = "$.name"
        params = JobParameters.read(settings.get("parameters"), parameters, self.problem)
        for field in CARRIED_FIELDS:  # (the tasks are converted below)
            if settings.get(field) is not None and field != "tasks":
                body[field] = params.substitute(settings[field], jpath("$", field))
        if self.bundle and settings.get("permissions") is not None:
            self._permissions(body)
        for field, instead in JOB_ONLY_FIELDS.items():
            if settings.get(field) is not None:
                self.warn(
                    jpath("$", field),
                    "job-field-dropped",
                    f"a one-time run has no {field!r}, so it is dropped: {instead}",
                )
        clusters = self._job_clusters(params)
        used: dict[str, list[int]] = {key: [] for key in clusters}
        tasks = settings.get("tasks")
        pushed: list[Any] = []
        if isinstance(tasks, list):
            body["tasks"] = []
            for i, task in enumerate(tasks):
                converted, got_parameters = self._task(task, f"$.tasks[{i}]", i, clusters, used, params)
                body["tasks"].append(converted)
                if got_parameters:
                    pushed.append(converted.get("task_key"))
        self._cluster_warnings(clusters, used, body.get("tasks"))
        self._drop_unused_environments(body)
        if params.defined:
            self.warn("$.parameters", "job-parameters-inlined", *params.warning(pushed))
        if _may_hold_references(body):
            self._unresolved(body, "$")
        return body, used

    def _check_keys(self) -> bool:
        """Check the settings' own keys; False when they are not job settings this can convert at all."""
        single = [key for key in _single_task_fields() if key in self.settings]
        if single and "tasks" not in self.settings:
            self.problem(
                "$",
                "single-task-format",
                f"these settings use the single-task format of Jobs API 2.0 ({', '.join(single)} at the top, no "
                f"tasks); read the job with API 2.1 or later (GET /api/2.2/jobs/get), which returns it as tasks",
            )
            return False
        # The settings load strictly as JobSettings (CreateJob's access_control_list is checked with the run).
        skip = {"access_control_list", *(_BUNDLE_FIELDS + _BUNDLE_STATE if self.bundle else ())}
        try:
            JobSettings.from_dict({k: v for k, v in self.settings.items() if k not in skip})
        except SpecError as exc:
            # from_job_settings has no strict=False: a field it does not know is to be removed
            for p in exc.problems:
                if p.fix is not None and p.fix.way == "lenient":
                    self.problem(p.path, p.code, p.message.removesuffix(p.fix.said), Fix("remove"))
                else:
                    self.problems.append(p.at(self.at(p.path)))
        for key in self.settings:  # a field newer than this converter is dropped, never silently
            if key in schema_fields("JobSettings") and key not in (*CARRIED_FIELDS, *JOB_ONLY_FIELDS, *_HANDLED):
                self.warn(
                    jpath("$", key), "job-field-dropped", f"{key!r} is not part of a one-time run; it is not sent"
                )
        return True

    def _subject(self) -> str:
        return "the job settings" if not self.bundle else f"bundle job at {self.base}"

    def _permissions(self, body: dict[str, Any]) -> None:
        """A bundle's ``permissions`` ({level, user_name | group_name | service_principal_name}) as an ACL."""
        permissions = self.settings["permissions"]
        if "access_control_list" in body:
            self.problem(
                "$.permissions",
                "conflicting-fields",
                "the job sets both 'permissions' and 'access_control_list'; keep one",
            )
            return
        if not isinstance(permissions, list):
            self.problem("$.permissions", "wrong-type", "expected an array of permissions")
            return
        acl: list[Any] = []
        for i, entry in enumerate(permissions):
            if isinstance(entry, Mapping) and "level" in entry:
                acl.append({("permission_level" if k == "level" else k): v for k, v in entry.items()})
            else:
                acl.append(entry)  # the run body's checks say what is wrong with it
            if isinstance(entry, Mapping):
                self.renamed[f"$.access_control_list[{i}].permission_level"] = f"$.permissions[{i}].level"
        self.renamed["$.access_control_list"] = "$.permissions"
        body["access_control_list"] = acl

    def _unresolved(self, value: Any, path: str) -> None:
        """A ``${...}`` left in a bundle job: the bundle was not fully resolved, so the value is not known."""
        if isinstance(value, str):
            found = _BUNDLE_REFERENCE.findall(value)
            if found:
                self.problem(
                    self._job_path(path),
                    "unresolved-reference",
                    f"{', '.join(dict.fromkeys(found))}: bundle substitutions never resolved, so the value is not "
                    f"known (resource ids only after 'databricks bundle deploy'); put the value in their place",
                )
        elif isinstance(value, Mapping):
            for k, v in value.items():
                self._unresolved(v, jpath(path, str(k)))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._unresolved(v, f"{path}[{i}]")

    # -- job clusters --------------------------------------------------------------------------------

    def _job_clusters(self, params: JobParameters) -> dict[str, tuple[int, Any]]:
        """The job clusters by key: (index in job_clusters, its new_cluster with parameter values put in)."""
        entries = self.settings.get("job_clusters")
        out: dict[str, tuple[int, Any]] = {}
        if entries is None:
            return out
        if not isinstance(entries, list):
            return out  # (loading the settings reported the wrong types and missing keys)
        for i, entry in enumerate(entries):
            path = f"$.job_clusters[{i}]"
            key = entry.get("job_cluster_key") if isinstance(entry, Mapping) else None
            if not isinstance(key, str):
                continue
            if key in out:
                self.problem(
                    jpath(path, "job_cluster_key"),
                    "duplicate-job-cluster",
                    f"job_clusters[{out[key][0]}] already has the key {key!r}; which one a task means is not known",
                )
                continue
            cluster = params.substitute(entry.get("new_cluster"), jpath(path, "new_cluster"))
            if not isinstance(cluster, Mapping):
                self.problem(
                    path,
                    "job-cluster-not-convertible",
                    f"job cluster {key!r} has no new_cluster to copy into its tasks (a one-time run starts a "
                    f"cluster per task from a new_cluster, or uses existing_cluster_id or serverless)",
                )
            out[key] = (i, cluster)
        return out

    def _attach_cluster(
        self,
        task: dict[str, Any],
        path: str,
        index: int,
        clusters: dict[str, tuple[int, Any]],
        used: dict[str, list[int]],
    ) -> None:
        """Replace the task's ``job_cluster_key`` with a copy of that job cluster's ``new_cluster``."""
        if "job_cluster_key" not in task:
            return
        key = task.pop("job_cluster_key")
        if key is None:
            return
        key_path = jpath(path, "job_cluster_key")
        if not isinstance(key, str):
            self.problem(key_path, "wrong-type", f"expected a string, got {type(key).__name__}")
            return
        found = clusters.get(key)
        if found is None:
            guess = closest(key, clusters)
            hint = f"did you mean {guess!r}? " if guess else ""
            declared = ", ".join(repr(k) for k in clusters) or "none"
            self.problem(
                key_path,
                "unknown-job-cluster",
                f"the task names job cluster {key!r}, which job_clusters does not define; {hint}defined: {declared}",
            )
            return
        if task.get("new_cluster") is not None or task.get("existing_cluster_id") is not None:
            self.problem(
                path, "multiple-compute", f"the task names job cluster {key!r} and also sets its own cluster; keep one"
            )
            return
        position, cluster = found
        if not isinstance(cluster, Mapping):
            return  # reported with the job cluster
        task["new_cluster"] = cluster
        self.cluster_paths[jpath(path, "new_cluster")] = f"$.job_clusters[{position}].new_cluster"
        if not used[key] or used[key][-1] != index:  # (a for_each task and its repeated task count once)
            used[key].append(index)

    def _drop_unused_environments(self, body: dict[str, Any]) -> None:
        """An environment no task uses is dropped with a warning: runs/submit refuses it, a job keeps it."""
        environments = body.get("environments")
        if not isinstance(environments, list):
            return
        used: set[Any] = set()
        for task in body.get("tasks") or []:
            for one in (task, (task.get("for_each_task") or {}).get("task")) if isinstance(task, Mapping) else ():
                if isinstance(one, Mapping) and one.get("environment_key") is not None:
                    used.add(one.get("environment_key"))
        kept = []
        for position, environment in enumerate(environments):
            key = environment.get("environment_key") if isinstance(environment, Mapping) else None
            if key is None or key in used:
                kept.append(environment)
                continue
            self.warn(
                f"$.environments[{position}]",
                "job-field-dropped",
                f"environment {key!r} is used by no task; a one-time run cannot declare an environment no task "
                "uses, so it is dropped",
            )
        if kept:
            body["environments"] = kept
        else:
            del body["environments"]

    def _cluster_warnings(self, clusters: dict[str, tuple[int, Any]], used: dict[str, list[int]], tasks: Any) -> None:
        for key, (position, _) in clusters.items():
            indexes = used.get(key, [])
            path = f"$.job_clusters[{position}]"
            keys = ", ".join(repr(_task_key(tasks, i)) for i in indexes[:5])
            more = f" and {len(indexes) - 5} more" if len(indexes) > 5 else ""
            if not indexes:
                self.warn(
                    path,
                    "job-field-dropped",
                    f"job cluster {key!r} is named by no task; a one-time run has no shared clusters, so it is dropped",
                )
            elif len(indexes) > 1:
                self.warn(
                    path,
                    "cluster-per-task",
                    f"job cluster {key!r} is copied into {len(indexes)} tasks ({keys}{more}); runs/submit starts a "
                    f"separate cluster for each of them instead of sharing one",
                )
            elif _in_for_each(tasks, indexes[0]):
                self.warn(
                    path,
                    "cluster-per-task",
                    f"job cluster {key!r} is copied into the task that for_each task {keys} repeats; runs/submit "
                    f"starts a separate cluster for each iteration instead of sharing one",
                )

    # -- tasks ---------------------------------------------------------------------------------------

    def _task(
        self,
        task: Any,
        path: str,
        index: int,
        clusters: dict[str, tuple[int, Any]],
        used: dict[str, list[int]],
        params: JobParameters,
    ) -> tuple[Any, bool]:
        """The task as a runs/submit task, and whether the job's parameters were pushed down into it."""
        if not isinstance(task, Mapping):
            return task, False  # the run body's checks report it
        # Copies of what changes here: the task, and a for_each's loop and repeated task.
        out: dict[str, Any] = dict(params.substitute(task, path))
        self._attach_cluster(out, path, index, clusters, used)
        pushed = params.push_down(out)
        loop = out.get("for_each_task")
        if isinstance(loop, Mapping) and isinstance(loop.get("task"), Mapping):
            inner = dict(loop["task"])
            out["for_each_task"] = {**loop, "task": inner}
            self._attach_cluster(inner, f"{path}.for_each_task.task", index, clusters, used)
            pushed = params.push_down(inner) or pushed
        return out, pushed

    # -- checking the run ----------------------------------------------------------------------------

    def _job_path(self, run_path: str) -> str:
        """Where a path of the run body points in the job settings (``$`` is the settings)."""
        copied = _CLUSTER_PATH.match(run_path)
        if copied and copied.group(0) in self.cluster_paths:  # inside a cluster copied from job_clusters
            return self.cluster_paths[copied.group(0)] + run_path[copied.end() :]
        for prefix, target in self.renamed.items():
            if run_path == prefix or run_path.startswith((prefix + ".", prefix + "[")):
                return target + run_path[len(prefix) :]
        return run_path

    def _rebase(self, problem: Problem) -> Problem:
        return problem.at(self.at(self._job_path(problem.path)))

    def _finish(
        self, make: Callable[[dict[str, Any]], M], body: dict[str, Any], used: dict[str, list[int]]
    ) -> Conversion[M]:
        subject = self._subject()
        try:
            spec = make(body)
        except SpecError as exc:
            found = _unique([*self.problems, *map(self._rebase, exc.problems)])
            warnings = [*self.warnings, *map(self._rebase, exc.warnings)]
            raise SpecError(found, subject=subject, warnings=warnings) from None
        if self.problems:
            raise SpecError(_unique(self.problems), subject=subject, warnings=[*self.warnings, *spec.warnings])
        conversion = tuple(self.warnings)
        _attach(spec, (*conversion, *map(self._rebase, spec.warnings)))
        tasks = body.get("tasks") or []
        names = {
            tasks[i]["task_key"]: key
            for key, indexes in used.items()
            for i in indexes
            if isinstance(tasks[i], Mapping) and isinstance(tasks[i].get("task_key"), str)
        }
        return spec, conversion, names


def _attach(spec: Made, warnings: tuple[Problem, ...]) -> None:
    """Give the run the warnings of its conversion, with its own."""
    object.__setattr__(spec, "_warnings", warnings)


def _unique(problems: list[Problem]) -> list[Problem]:
    """
    Each problem once: the settings and the run they became are both checked, and a job cluster is copied
    into several tasks, so one mistake can be found several times at one path. A value that is an
    unresolved bundle reference is not also of the wrong type.
    """
    seen: set[tuple[str, str]] = set()
    unresolved = {p.path for p in problems if p.code == "unresolved-reference"}
    out = []
    for p in problems:
        if (p.path, p.code) in seen or (p.code == "wrong-type" and p.path in unresolved):
            continue
        seen.add((p.path, p.code))
        out.append(p)
    return out


def _may_hold_references(body: dict[str, Any]) -> bool:
    """Whether a ``${`` is anywhere in the body (walking it for paths is only worth it then)."""
    try:
        return "${" in json.dumps(body, default=str)
    except (ValueError, RecursionError):  # a cycle or absurd nesting: loading the run reports it
        return False


def _task_key(tasks: Any, index: int) -> Any:
    try:
        return tasks[index].get("task_key")
    except (AttributeError, IndexError, TypeError):
        return None


def _in_for_each(tasks: Any, index: int) -> bool:
    try:
        return isinstance(tasks[index].get("for_each_task"), Mapping)
    except (AttributeError, IndexError, TypeError):
        return False
