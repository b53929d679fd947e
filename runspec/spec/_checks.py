"""
Whole-run checks: everything about a run that one value alone cannot tell.

Each rule is a small function named after what it checks. Rules read spec objects (never dicts), tolerate
missing fields (a body loaded with problems is still checked as far as it goes), and report through a
``Report`` with the JSON path of the offending value. Codes are stable and documented in
``docs/problems.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from runspec._frozen import FrozenMap
from runspec.errors import Problem
from runspec.spec._base import SpecObject, jpath
from runspec.spec._library import Egg
from runspec.spec._objects import (
    AutoScale,
    AwsAttributes,
    AzureAttributes,
    ClusterLogConf,
    DbtTask,
    Environment,
    ForEachTask,
    GcpAttributes,
    GitSource,
    InitScriptInfo,
    JobAccessControlRequest,
    JobEmailNotifications,
    JobEnvironmentVariables,
    JobRunAs,
    JobsHealthRule,
    NewCluster,
    NotebookTask,
    PipelineTask,
    PythonWheelTask,
    RunJobTask,
    SparkJarTask,
    SqlTask,
    SqlTaskSubscription,
    SubmitTask,
    SubscriptionSubscriber,
    Task,
    TaskEmailNotifications,
    WebhookNotifications,
)
from runspec.spec._schema import closest
from runspec.spec.limits import (
    DURATION_TARGETS,
    MAX_BODY_BYTES,
    MAX_CUSTOM_TAGS,
    MAX_DESCRIPTION,
    MAX_RUN_NAME_BYTES,
    MAX_SSH_KEYS,
    MAX_TASK_KEY,
    MAX_TASKS,
    MAX_TOKEN,
    MAX_WEBHOOKS_PER_EVENT,
)
from runspec.spec.task_types import TASK_TYPES, task_types

if TYPE_CHECKING:  # pragma: no cover
    from runspec.spec.run_spec import RunSpec

__all__ = ["MAX_BODY_BYTES", "TASK_TYPES", "Report", "check_run", "task_types"]

# ---- facts about the API -----------------------------------------------------------------------

TASK_KEY_RE = re.compile(r"[A-Za-z0-9_\-]+")  # used with fullmatch: "$" would let a final newline through
ENV_VAR_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # used with fullmatch


def _num(value: Any) -> float | None:
    """A number field's value as a number (bodies may carry numeric strings), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _json_size(value: Any) -> int:
    return len(json.dumps(_plain(value), separators=(",", ":")).encode("utf-8"))


def _plain(value: Any) -> Any:
    if isinstance(value, FrozenMap):
        return dict(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _quote_keys(keys: Iterable[str], limit: int = 8) -> str:
    keys = list(keys)
    shown = ", ".join(repr(k) for k in keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


# ---- reporting -----------------------------------------------------------------------------------


class Report:
    """Collects errors and warnings in the order they are found."""

    __slots__ = ("errors", "warnings")

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, code: str, message: str) -> None:
        self.errors.append(Problem(path, code, message))

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(Problem(path, code, message))


# ---- per-object rules: run once for every object of a type, wherever it appears ----------------

ObjectRule = Callable[[Any, str, Report], None]
_OBJECT_RULES: dict[type, list[ObjectRule]] = {}


def _rule(*types: type) -> Callable[[ObjectRule], ObjectRule]:
    def register(fn: ObjectRule) -> ObjectRule:
        for t in types:
            _OBJECT_RULES.setdefault(t, []).append(fn)
        return fn

    return register


def _exactly_one(obj: SpecObject, names: Sequence[str], path: str, r: Report, code: str, what: str) -> None:
    present = [n for n in names if n in obj.__dict__]
    if len(present) == 1:
        return
    if present:
        r.error(path, code, f"{what} takes exactly one of {', '.join(names)}; this one sets {', '.join(present)}")
    else:
        r.error(path, code, f"{what} needs exactly one of {', '.join(names)}; this one sets none")


@_rule(GitSource)
def _git_reference(git: GitSource, path: str, r: Report) -> None:
    _exactly_one(git, ("git_branch", "git_tag", "git_commit"), path, r, "git-reference", "git_source")
    if git.git_snapshot is not None:
        r.warn(
            jpath(path, "git_snapshot"),
            "read-only-field",
            "git_snapshot is filled in by the workspace on runs; it is ignored in a request",
        )
    if git.job_source is not None:
        r.warn(jpath(path, "job_source"), "ignored-field", "job_source applies to saved jobs, not to one-time runs")


@_rule(ClusterLogConf)
def _log_destination(conf: ClusterLogConf, path: str, r: Report) -> None:
    _exactly_one(conf, ("dbfs", "s3", "volumes"), path, r, "storage-kind", "cluster_log_conf")


@_rule(InitScriptInfo)
def _init_script_kind(script: InitScriptInfo, path: str, r: Report) -> None:
    _exactly_one(
        script,
        ("workspace", "volumes", "s3", "abfss", "gcs", "file", "dbfs"),
        path,
        r,
        "storage-kind",
        "an init script",
    )
    if script.dbfs is not None:
        r.warn(jpath(path, "dbfs"), "deprecated", "init scripts on DBFS are deprecated; use workspace or volumes")


@_rule(JobAccessControlRequest)
def _acl_principal(entry: JobAccessControlRequest, path: str, r: Report) -> None:
    _exactly_one(
        entry,
        ("user_name", "group_name", "service_principal_name"),
        path,
        r,
        "acl-principal",
        "an access control entry",
    )
    if entry.permission_level is None:
        r.error(
            path,
            "missing-field",
            "an access control entry needs a permission_level (CAN_MANAGE, CAN_MANAGE_RUN, CAN_VIEW or IS_OWNER)",
        )


@_rule(JobRunAs)
def _run_as_principal(run_as: JobRunAs, path: str, r: Report) -> None:
    _exactly_one(run_as, ("user_name", "service_principal_name", "group_name"), path, r, "run-as-principal", "run_as")


@_rule(SqlTaskSubscription, SubscriptionSubscriber)
def _subscriber(sub: SpecObject, path: str, r: Report) -> None:
    _exactly_one(sub, ("user_name", "destination_id"), path, r, "subscriber-kind", "a subscriber")


@_rule(AutoScale)
def _autoscale_bounds(scale: AutoScale, path: str, r: Report) -> None:
    lo, hi = _num(scale.min_workers), _num(scale.max_workers)
    if lo is not None and lo < 0:
        r.error(jpath(path, "min_workers"), "out-of-range", f"min_workers must be 0 or more (got {scale.min_workers})")
    if hi is None:
        r.error(path, "missing-field", "autoscale needs max_workers")
    elif lo is not None and hi <= lo:
        r.error(
            jpath(path, "max_workers"),
            "out-of-range",
            f"max_workers must be greater than min_workers (got {scale.max_workers} <= {scale.min_workers})",
        )


@_rule(NewCluster)
def _cluster_shape(cluster: NewCluster, path: str, r: Report) -> None:
    if cluster.num_workers is not None and cluster.autoscale is not None:
        r.error(path, "cluster-size-conflict", "set num_workers or autoscale, not both")
    workers = _num(cluster.num_workers)
    if workers is not None and workers < 0:
        r.error(
            jpath(path, "num_workers"), "out-of-range", f"num_workers must be 0 or more (got {cluster.num_workers})"
        )
    tags = cluster.custom_tags or {}
    if len(tags) > MAX_CUSTOM_TAGS:
        r.error(
            jpath(path, "custom_tags"),
            "too-many-tags",
            f"a cluster takes at most {MAX_CUSTOM_TAGS} custom tags (got {len(tags)})",
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= 127:
            r.error(jpath(jpath(path, "custom_tags"), key), "invalid-tag", "tag keys have 1 to 127 characters")
        if len(value) > 255:
            r.error(jpath(jpath(path, "custom_tags"), key), "invalid-tag", "tag values have at most 255 characters")
    keys = cluster.ssh_public_keys or ()
    if len(keys) > MAX_SSH_KEYS:
        r.error(
            jpath(path, "ssh_public_keys"),
            "too-many-entries",
            f"at most {MAX_SSH_KEYS} SSH public keys (got {len(keys)})",
        )
    if cluster.kind is None:
        for flag in ("is_single_node", "use_ml_runtime"):
            if flag in cluster.__dict__:
                r.error(jpath(path, flag), "needs-kind", f"{flag} only applies with kind='CLASSIC_PREVIEW'")
    if cluster.autotermination_minutes is not None:
        r.warn(
            jpath(path, "autotermination_minutes"),
            "ignored-field",
            "job clusters end with their task; autotermination_minutes does not apply to them",
        )
    if cluster.spark_version is None and cluster.policy_id is None:
        r.warn(
            path,
            "missing-spark-version",
            "no spark_version and no policy_id; the workspace needs a runtime version from one of them",
        )


@_rule(AwsAttributes)
def _aws(attrs: AwsAttributes, path: str, r: Report) -> None:
    pct = _num(attrs.spot_bid_price_percent)
    if pct is not None and not 0 < pct <= 10000:
        r.error(
            jpath(path, "spot_bid_price_percent"), "out-of-range", "spot_bid_price_percent must be between 1 and 10000"
        )
    count = _num(attrs.ebs_volume_count)
    if count is not None and not 0 <= count <= 10:
        r.error(jpath(path, "ebs_volume_count"), "out-of-range", "ebs_volume_count must be between 0 and 10")
    first = _num(attrs.first_on_demand)
    if first is not None and first < 0:
        r.error(jpath(path, "first_on_demand"), "out-of-range", "first_on_demand must be 0 or more")


@_rule(AzureAttributes)
def _azure(attrs: AzureAttributes, path: str, r: Report) -> None:
    price = _num(attrs.spot_bid_max_price)
    if price is not None and price != -1 and price <= 0:
        r.error(
            jpath(path, "spot_bid_max_price"),
            "out-of-range",
            "spot_bid_max_price is -1 (pay up to on-demand) or above 0",
        )


@_rule(GcpAttributes)
def _gcp(attrs: GcpAttributes, path: str, r: Report) -> None:
    if attrs.use_preemptible_executors is not None:
        r.warn(
            jpath(path, "use_preemptible_executors"),
            "deprecated",
            "use_preemptible_executors is deprecated; use availability",
        )


@_rule(WebhookNotifications)
def _webhooks(hooks: WebhookNotifications, path: str, r: Report) -> None:
    for event, ids in hooks.__dict__.items():
        if isinstance(ids, tuple) and len(ids) > MAX_WEBHOOKS_PER_EVENT:
            r.error(
                jpath(path, event),
                "too-many-entries",
                f"at most {MAX_WEBHOOKS_PER_EVENT} destinations per event (got {len(ids)})",
            )


@_rule(JobEmailNotifications, TaskEmailNotifications)
def _email(emails: SpecObject, path: str, r: Report) -> None:
    if "no_alert_for_skipped_runs" in emails.__dict__:
        r.warn(
            jpath(path, "no_alert_for_skipped_runs"),
            "deprecated",
            "email_notifications.no_alert_for_skipped_runs is deprecated; use notification_settings",
        )


@_rule(JobsHealthRule)
def _health(rule: JobsHealthRule, path: str, r: Report) -> None:
    value = _num(rule.value)
    if value is not None and value < 0:
        r.error(jpath(path, "value"), "out-of-range", f"a health threshold must be 0 or more (got {rule.value})")


@_rule(Environment)
def _environment_spec(env: Environment, path: str, r: Report) -> None:
    if env.environment_version is None and env.base_environment is None and env.client is None:
        r.error(
            path,
            "environment-version-missing",
            "an environment spec needs environment_version (for example '4') or base_environment",
        )
    if env.client is not None:
        r.warn(jpath(path, "client"), "deprecated", "'client' is deprecated; use environment_version")


@_rule(JobEnvironmentVariables)
def _env_vars(entry: JobEnvironmentVariables, path: str, r: Report) -> None:
    spec = entry.spec
    if spec is None:
        return
    variables = spec.variables or {}
    sub = jpath(path, "spec")
    if len(variables) > 20:
        r.error(jpath(sub, "variables"), "too-many-entries", f"at most 20 variables per entry (got {len(variables)})")
    for name, value in variables.items():
        if not (ENV_VAR_NAME_RE.fullmatch(name) and len(name) <= 256):
            r.error(
                jpath(jpath(sub, "variables"), name),
                "invalid-value",
                "variable names match [A-Za-z_][A-Za-z0-9_]* and have at most 256 characters",
            )
        if len(value) > 512:
            r.error(jpath(jpath(sub, "variables"), name), "too-long", "variable values have at most 512 characters")
    if len(spec.files or ()) > 5:
        r.error(
            jpath(sub, "files"), "too-many-entries", f"at most 5 .env files per entry (got {len(spec.files or ())})"
        )


@_rule(NotebookTask)
def _notebook(task: NotebookTask, path: str, r: Report) -> None:
    params = task.base_parameters
    if params is None:
        return
    # Cheap estimate first; the exact JSON size only when the estimate comes near the limit. (This
    # runs for every notebook task made, so it reads the FrozenMap's dict directly.)
    estimate = 0
    for k, v in (params._d if type(params) is FrozenMap else params).items():
        estimate += len(k) + len(v)
    if estimate > 512 * 1024 and _json_size(params) > 1024 * 1024:
        r.error(jpath(path, "base_parameters"), "payload-too-large", "base_parameters must be at most 1 MB as JSON")


@_rule(SparkJarTask)
def _spark_jar(task: SparkJarTask, path: str, r: Report) -> None:
    if task.jar_uri is not None:
        r.warn(jpath(path, "jar_uri"), "deprecated", "jar_uri is deprecated; list the JAR in the task's libraries")
    if task.run_as_repl is not None:
        r.warn(jpath(path, "run_as_repl"), "deprecated", "run_as_repl is deprecated")


@_rule(PythonWheelTask)
def _wheel(task: PythonWheelTask, path: str, r: Report) -> None:
    if task.parameters is not None and task.named_parameters is not None:
        r.error(path, "wheel-parameters-conflict", "a python_wheel_task takes parameters or named_parameters, not both")


@_rule(SqlTask)
def _sql(task: SqlTask, path: str, r: Report) -> None:
    _exactly_one(task, ("query", "file", "dashboard", "alert"), path, r, "sql-task-form", "a sql_task")
    if task.alert is not None and task.parameters is not None:
        r.error(jpath(path, "parameters"), "invalid-value", "parameters do not apply to a SQL alert task")


@_rule(DbtTask)
def _dbt(task: DbtTask, path: str, r: Report) -> None:
    commands = task.commands or ()
    if not 1 <= len(commands) <= 10:
        r.error(jpath(path, "commands"), "out-of-range", f"a dbt_task takes 1 to 10 commands (got {len(commands)})")
    for i, command in enumerate(commands):
        if not command.strip().startswith("dbt"):
            r.error(
                f"{jpath(path, 'commands')}[{i}]", "invalid-value", f"dbt commands start with 'dbt' (got {command!r})"
            )
    if task.catalog is not None and task.warehouse_id is None:
        r.error(jpath(path, "catalog"), "invalid-value", "catalog needs warehouse_id")
    if task.profiles_directory is not None and task.warehouse_id is not None:
        r.error(
            jpath(path, "profiles_directory"), "invalid-value", "profiles_directory only applies without warehouse_id"
        )


@_rule(RunJobTask)
def _run_job(task: RunJobTask, path: str, r: Report) -> None:
    for name in (
        "jar_params",
        "notebook_params",
        "python_params",
        "python_named_params",
        "spark_submit_params",
        "sql_params",
        "dbt_commands",
    ):
        value = task.__dict__.get(name)
        if value is None:
            continue
        r.warn(jpath(path, name), "deprecated", f"{name} is deprecated; pass job_parameters")
        if _json_size(value) > 10_000:
            r.error(jpath(path, name), "payload-too-large", f"{name} must be at most 10,000 bytes as JSON")
    for i, param in enumerate(task.python_params or ()):
        if not param.isascii():
            r.error(f"{jpath(path, 'python_params')}[{i}]", "invalid-value", "python_params must be ASCII")


@_rule(PipelineTask)
def _pipeline(task: PipelineTask, path: str, r: Report) -> None:
    if task.parameters and sum(len(k) + len(v) for k, v in task.parameters.items()) > 10_000:
        r.error(
            jpath(path, "parameters"), "payload-too-large", "pipeline parameters must total at most 10,000 characters"
        )


@_rule(ForEachTask)
def _for_each(task: ForEachTask, path: str, r: Report) -> None:
    inputs = task.inputs
    if isinstance(inputs, str) and "{{" not in inputs:
        try:
            parsed = json.loads(inputs)
        except (ValueError, RecursionError):
            parsed = None
        if not isinstance(parsed, list):
            r.error(
                jpath(path, "inputs"),
                "invalid-for-each-inputs",
                "inputs must be a JSON array as a string (for example '[1, 2, 3]') or a {{...}} reference to one",
            )
    concurrency = _num(task.concurrency)
    if concurrency is not None and concurrency < 1:
        r.error(jpath(path, "concurrency"), "out-of-range", f"concurrency must be 1 or more (got {task.concurrency})")
    inner = task.task
    if inner is not None and inner.for_each_task is not None:
        r.error(
            jpath(jpath(path, "task"), "for_each_task"),
            "nested-for-each",
            "a for_each task cannot repeat another for_each task",
        )


@_rule(Egg)
def _egg(lib: Egg, path: str, r: Report) -> None:
    r.warn(
        path,
        "deprecated",
        "egg libraries are deprecated and not supported on Databricks Runtime 14 and newer; use a wheel",
    )


def _check_enums(obj: SpecObject, path: str, r: Report) -> None:
    d = obj.__dict__
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


# What a walk does with each class, computed once per class: (checks to run, fields that can hold objects).
_WALK_PLAN: dict[type, tuple[tuple[ObjectRule, ...] | None, frozenset[str]]] = {}


def _plan(cls: type[SpecObject]) -> tuple[tuple[ObjectRule, ...] | None, frozenset[str]]:
    plan = _WALK_PLAN.get(cls)
    if plan is None:
        nested = frozenset(f.attr for f in cls._fields.values() if "object" in _kinds(f.info.desc))
        rules = tuple(rule for t in cls.__mro__ for rule in _OBJECT_RULES.get(t, ()))
        checked = (_check_enums, *rules) if cls._enum_fields else rules
        plan = (checked or None, nested)
        _WALK_PLAN[cls] = plan
    return plan


def _kinds(desc: tuple[Any, ...]) -> set[str]:
    out = {desc[0]}
    if desc[0] in ("array", "map"):
        out |= _kinds(desc[1])
    return out


def local_rules(cls: type[SpecObject]) -> tuple[ObjectRule, ...]:
    """The per-object rules of ``cls`` (enums apart): run once on each object when it is made."""
    return tuple(rule for t in cls.__mro__ for rule in _OBJECT_RULES.get(t, ()))


def _walk(obj: SpecObject, path: str, r: Report, seen: set[int]) -> None:
    """
    Run the per-object rules on ``obj`` and everything inside it, each object once.

    Only objects flagged when they were made (``_f``: something inside has a finding) are visited: a
    clean subtree has nothing to report, so skipping it changes neither what is found nor its order.
    """
    if not obj._f:
        return
    checks, nested = _WALK_PLAN.get(type(obj)) or _plan(type(obj))
    if checks is not None:
        key = id(obj)
        if key in seen:
            return
        seen.add(key)
        for check in checks:
            check(obj, path, r)
    if not nested:
        return
    for name, value in obj.__dict__.items():
        if name not in nested:
            continue
        if type(value) is tuple:
            for i, item in enumerate(value):
                if item._f:
                    _walk(item, f"{jpath(path, name)}[{i}]", r, seen)
        elif isinstance(value, SpecObject) and value._f:
            _walk(value, jpath(path, name), r, seen)


# ---- run-level rules ---------------------------------------------------------------------------


def check_run(spec: RunSpec) -> Report:
    """Run every check on ``spec`` and return what was found."""
    r = Report()
    _walk(spec, "$", r, set())
    _top_level(spec, r)
    tasks = spec.tasks or ()
    keys = _task_keys(tasks, r)
    environments = _environments(spec, r)
    used_envs: set[str] = set()
    has_git_source = spec.git_source is not None
    for i, task in enumerate(tasks):
        _one_task(task, f"$.tasks[{i}]", tasks, keys, environments, used_envs, has_git_source, r)
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


def _top_level(spec: RunSpec, r: Report) -> None:
    tasks = spec.tasks
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
    if len(spec.environment_variables or ()) > 10:
        r.error("$.environment_variables", "too-many-entries", "at most 10 environment_variables entries")
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
        _task_key_shape(key, path, r)
        if key in keys:
            r.error(
                path,
                "duplicate-task-key",
                f"task key {key!r} is already used by $.tasks[{keys[key]}]; task keys must be unique",
            )
        else:
            keys[key] = i
    return keys


def _task_key_shape(key: str, path: str, r: Report) -> None:
    if not key or len(key) > MAX_TASK_KEY or not TASK_KEY_RE.fullmatch(key):
        r.error(
            path,
            "invalid-task-key",
            f"task key {key!r} must have 1 to {MAX_TASK_KEY} characters, each a letter, digit, '_' or '-'",
        )


def _environments(spec: RunSpec, r: Report) -> dict[str, int]:
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


def _one_task(
    task: SubmitTask,
    path: str,
    tasks: Sequence[SubmitTask],
    keys: dict[str, int],
    environments: dict[str, int],
    used_envs: set[str],
    has_git_source: bool,
    r: Report,
) -> None:
    # Each rule is called only when the task has a field it reads (most tasks of a large run have few).
    d = task.__dict__
    types = _task_type(task, path, r)
    description = d.get("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        r.error(jpath(path, "description"), "too-long", f"a task description has at most {MAX_DESCRIPTION} characters")
    if "depends_on" in d:
        _dependencies(task, path, tasks, keys, r)
    if not _RETRY_FIELDS.isdisjoint(d):
        _retries(task, path, r)
    _compute(task, types, path, environments, used_envs, r)
    _git_use(task, types, path, has_git_source, r)
    if task.for_each_task is None:
        return
    inner = task.for_each_task.task
    if inner is not None:
        inner_path = f"{path}.for_each_task.task"
        if inner.task_key is not None:
            _task_key_shape(inner.task_key, jpath(inner_path, "task_key"), r)
        inner_types = _task_type(inner, inner_path, r)
        if inner.depends_on:
            r.error(
                jpath(inner_path, "depends_on"),
                "invalid-value",
                "the task inside a for_each task cannot depend on other tasks",
            )
        _retries(inner, inner_path, r)
        _compute(inner, inner_types, inner_path, environments, used_envs, r)
        _git_use(inner, inner_types, inner_path, has_git_source, r)


def _task_type(task: SubmitTask | Task, path: str, r: Report) -> list[str]:
    table = TASK_TYPES
    fields = table.keys()
    types = [k for k in task.__dict__ if k in fields]
    if len(types) == 1 and not table[types[0]].deprecated:
        return types  # the usual case: nothing to say
    if not types:
        r.error(
            path,
            "no-task-type",
            "the task has no type: set one of notebook_task, spark_python_task, python_wheel_task, sql_task, ... ",
        )
    elif len(types) > 1:
        r.error(path, "multiple-task-types", f"a task has exactly one type; this one has {', '.join(types)}")
    for t in types:
        if table[t].deprecated:
            r.warn(jpath(path, t), "deprecated", f"{t} is deprecated by Databricks")
    return types


def _dependencies(task: SubmitTask, path: str, tasks: Sequence[SubmitTask], keys: dict[str, int], r: Report) -> None:
    deps = task.depends_on
    if not deps:
        return
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
            upstream = tasks[upstream_index]
            if upstream.condition_task is None:
                r.error(
                    jpath(dep_path, "outcome"),
                    "outcome-not-condition",
                    f"outcome only applies to a dependency on a condition task, and {key!r} is not one; remove outcome",
                )


_RETRY_FIELDS = frozenset({"max_retries", "min_retry_interval_millis", "timeout_seconds"})


def _retries(task: SubmitTask | Task, path: str, r: Report) -> None:
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


def _compute(
    task: SubmitTask | Task,
    types: list[str],
    path: str,
    environments: dict[str, int],
    used_envs: set[str],
    r: Report,
) -> None:
    d = task.__dict__
    has_new = "new_cluster" in d
    has_existing = "existing_cluster_id" in d
    env_key = d.get("environment_key")
    if has_new and has_existing:
        r.error(path, "multiple-compute", "a task runs on new_cluster or existing_cluster_id, not both")
    if env_key is not None:
        if env_key in environments:
            used_envs.add(env_key)
        else:
            guess = closest(env_key, environments)
            hint = f"; did you mean {guess!r}?" if guess else ""
            declared = _quote_keys(environments) if environments else "none"
            r.error(
                jpath(path, "environment_key"),
                "unknown-environment",
                f"environment {env_key!r} is not declared in environments (declared: {declared}){hint}",
            )
    if len(types) != 1:
        return
    kind = types[0]
    entry = TASK_TYPES[kind]
    on_cluster = has_new or has_existing
    if entry.compute == "none":
        for name in ("new_cluster", "existing_cluster_id", "libraries"):
            if name in d:
                r.error(jpath(path, name), "compute-not-allowed", f"a {kind} does not run on a cluster; remove {name}")
        return
    if kind == "notebook_task" and task.notebook_task is not None and task.notebook_task.warehouse_id is not None:
        if on_cluster:
            r.error(
                path,
                "compute-not-allowed",
                "a notebook task with warehouse_id runs on the SQL warehouse; remove the cluster",
            )
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
    if kind == "spark_submit_task" and not has_new:
        r.warn(path, "spark-submit-needs-new-cluster", "spark_submit_task runs only on a new job cluster")


def _git_use(task: SubmitTask | Task, types: list[str], path: str, has_git_source: bool, r: Report) -> None:
    if has_git_source:
        return
    d = task.__dict__
    for kind in types:
        entry = TASK_TYPES[kind]
        if entry.source_path is not None and entry.source(d[kind]) == "GIT":
            r.error(
                ".".join((path, kind, *entry.source_path)),
                "git-source-missing",
                "source is 'GIT' but the run has no git_source; add one with Run.git(...) or set source='WORKSPACE'",
            )


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
