"""
Per-object rules: each runs once on every object of its class, wherever the object appears in a run.

Add one with ``@object_rule(SomeClass)`` (see ``runspec.spec.checks._checks``).
"""

from __future__ import annotations

import json
from typing import Any

from runspec.spec.checks._rules import ENV_VAR_NAME_RE, Report, _exactly_one, _json_size, _num, object_rule
from runspec.spec.limits import (
    MAX_CUSTOM_TAGS,
    MAX_ENV_FILES,
    MAX_ENV_VARIABLE_NAME,
    MAX_ENV_VARIABLE_VALUE,
    MAX_ENV_VARIABLES,
    MAX_SSH_KEYS,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_WEBHOOKS_PER_EVENT,
)
from runspec.spec.model._library import Egg
from runspec.spec.model._objects import (
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
    SubscriptionSubscriber,
    TaskEmailNotifications,
    WebhookNotifications,
)
from runspec.spec.objects import set_fields
from runspec.spec.objects._convert import jpath, plain_json
from runspec.spec.objects._object import SpecObject

__all__: list[str] = []


@object_rule(GitSource)
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


@object_rule(ClusterLogConf)
def _log_destination(conf: ClusterLogConf, path: str, r: Report) -> None:
    _exactly_one(conf, ("dbfs", "s3", "volumes"), path, r, "storage-kind", "cluster_log_conf")


@object_rule(InitScriptInfo)
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


@object_rule(JobAccessControlRequest)
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


@object_rule(JobRunAs)
def _run_as_principal(run_as: JobRunAs, path: str, r: Report) -> None:
    _exactly_one(run_as, ("user_name", "service_principal_name", "group_name"), path, r, "run-as-principal", "run_as")


@object_rule(SqlTaskSubscription, SubscriptionSubscriber)
def _subscriber(sub: SpecObject, path: str, r: Report) -> None:
    _exactly_one(sub, ("user_name", "destination_id"), path, r, "subscriber-kind", "a subscriber")


@object_rule(AutoScale)
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


# The fields that size a cluster: the service takes exactly one (virtual_cluster_size where it exists).
_SIZE_FIELDS = frozenset({"num_workers", "autoscale", "virtual_cluster_size"})


@object_rule(NewCluster)
def _cluster_shape(cluster: NewCluster, path: str, r: Report) -> None:
    # num_workers 0 reads as unset beside autoscale (the service's default for the field; Databricks'
    # bundle tooling writes both), so only a real worker count conflicts with autoscale.
    if cluster.num_workers not in (None, 0) and cluster.autoscale is not None:
        r.error(path, "cluster-size-conflict", "set num_workers or autoscale, not both")
    d = set_fields(cluster)
    if _SIZE_FIELDS.isdisjoint(d) and cluster.policy_id is None and cluster.is_single_node is not True:
        # A policy may fix the size, and is_single_node sets num_workers itself: nothing to say then.
        r.error(
            path,
            "missing-cluster-size",
            "a new_cluster needs num_workers (0 for a single node) or autoscale; the service refuses a "
            "cluster with neither unless its policy (policy_id) sets one",
        )
    workers = _num(cluster.num_workers)
    if workers is not None and workers < 0:
        r.error(
            jpath(path, "num_workers"), "out-of-range", f"num_workers must be 0 or more (got {cluster.num_workers})"
        )
    tags = d.get("custom_tags") or {}
    if len(tags) > MAX_CUSTOM_TAGS:
        r.error(
            jpath(path, "custom_tags"),
            "too-many-tags",
            f"a cluster takes at most {MAX_CUSTOM_TAGS} custom tags (got {len(tags)})",
        )
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_TAG_KEY:
            r.error(
                jpath(jpath(path, "custom_tags"), key), "invalid-tag", f"tag keys have 1 to {MAX_TAG_KEY} characters"
            )
        if len(value) > MAX_TAG_VALUE:
            r.error(
                jpath(jpath(path, "custom_tags"), key),
                "invalid-tag",
                f"tag values have at most {MAX_TAG_VALUE} characters",
            )
    for key, value in (d.get("spark_conf") or {}).items():
        if type(value) is not str:
            text = json.dumps(value)
            r.warn(
                jpath(jpath(path, "spark_conf"), key),
                "conf-not-string",
                f"{text} is not a string; the service reads it as the setting {text!r} (write it as a string)",
            )
    keys = cluster.ssh_public_keys or ()
    if len(keys) > MAX_SSH_KEYS:
        r.error(
            jpath(path, "ssh_public_keys"),
            "too-many-entries",
            f"at most {MAX_SSH_KEYS} SSH public keys (got {len(keys)})",
        )
    if cluster.kind is None:
        for flag in ("is_single_node", "use_ml_runtime"):
            if flag in set_fields(cluster):
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


@object_rule(AwsAttributes)
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


@object_rule(AzureAttributes)
def _azure(attrs: AzureAttributes, path: str, r: Report) -> None:
    price = _num(attrs.spot_bid_max_price)
    if price is not None and price != -1 and price <= 0:
        r.error(
            jpath(path, "spot_bid_max_price"),
            "out-of-range",
            "spot_bid_max_price is -1 (pay up to on-demand) or above 0",
        )


@object_rule(GcpAttributes)
def _gcp(attrs: GcpAttributes, path: str, r: Report) -> None:
    if attrs.use_preemptible_executors is not None:
        r.warn(
            jpath(path, "use_preemptible_executors"),
            "deprecated",
            "use_preemptible_executors is deprecated; use availability",
        )


@object_rule(WebhookNotifications)
def _webhooks(hooks: WebhookNotifications, path: str, r: Report) -> None:
    for event, ids in set_fields(hooks).items():
        if isinstance(ids, tuple) and len(ids) > MAX_WEBHOOKS_PER_EVENT:
            r.error(
                jpath(path, event),
                "too-many-entries",
                f"at most {MAX_WEBHOOKS_PER_EVENT} destinations per event (got {len(ids)})",
            )


@object_rule(JobEmailNotifications, TaskEmailNotifications)
def _email(emails: SpecObject, path: str, r: Report) -> None:
    if "no_alert_for_skipped_runs" in set_fields(emails):
        r.warn(
            jpath(path, "no_alert_for_skipped_runs"),
            "deprecated",
            "email_notifications.no_alert_for_skipped_runs is deprecated; use notification_settings",
        )


@object_rule(JobsHealthRule)
def _health(rule: JobsHealthRule, path: str, r: Report) -> None:
    value = _num(rule.value)
    if value is not None and value < 0:
        r.error(jpath(path, "value"), "out-of-range", f"a health threshold must be 0 or more (got {rule.value})")


@object_rule(Environment)
def _environment_spec(env: Environment, path: str, r: Report) -> None:
    if env.environment_version is None and env.base_environment is None and env.client is None:
        r.error(
            path,
            "environment-version-missing",
            "an environment spec needs environment_version (for example '4') or base_environment",
        )
    if env.client is not None:
        r.warn(jpath(path, "client"), "deprecated", "'client' is deprecated; use environment_version")


@object_rule(JobEnvironmentVariables)
def _env_vars(entry: JobEnvironmentVariables, path: str, r: Report) -> None:
    spec = entry.spec
    if spec is None:
        return
    variables = set_fields(spec).get("variables") or {}
    sub = jpath(path, "spec")
    if len(variables) > MAX_ENV_VARIABLES:
        r.error(
            jpath(sub, "variables"),
            "too-many-entries",
            f"at most {MAX_ENV_VARIABLES} variables per entry (got {len(variables)})",
        )
    for name, value in variables.items():
        if not (ENV_VAR_NAME_RE.fullmatch(name) and len(name) <= MAX_ENV_VARIABLE_NAME):
            r.error(
                jpath(jpath(sub, "variables"), name),
                "invalid-value",
                f"variable names match [A-Za-z_][A-Za-z0-9_]* and have at most {MAX_ENV_VARIABLE_NAME} characters",
            )
        if len(value) > MAX_ENV_VARIABLE_VALUE:
            r.error(
                jpath(jpath(sub, "variables"), name),
                "too-long",
                f"variable values have at most {MAX_ENV_VARIABLE_VALUE} characters",
            )
    if len(spec.files or ()) > MAX_ENV_FILES:
        r.error(
            jpath(sub, "files"),
            "too-many-entries",
            f"at most {MAX_ENV_FILES} .env files per entry (got {len(spec.files or ())})",
        )


_MAX_BASE_PARAMETERS = 1024 * 1024  # bytes of JSON


def _sent_size(value: Any) -> int:
    """The bytes of ``value`` as a body writes it: compact JSON, UTF-8, non-ASCII characters unescaped."""
    return len(json.dumps(plain_json(value), separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


@object_rule(NotebookTask)
def _notebook(task: NotebookTask, path: str, r: Report) -> None:
    params = task.__dict__.get("base_parameters")
    if params is None:
        return
    # Cheap bound first; the exact size (UTF-8 JSON, as the body is sent) only when the bound comes near
    # the limit. A character is at most 6 bytes of it (a control character escaped as \u00XX), and an
    # entry adds 6 for its quotes, colon and comma (counted as one character each).
    chars = len(params)
    for k in params:  # (a lookup per key costs less than items()' view and pairs)
        chars += len(k) + len(params[k])
    if chars * 6 + 2 > _MAX_BASE_PARAMETERS and _sent_size(params) > _MAX_BASE_PARAMETERS:
        r.error(jpath(path, "base_parameters"), "payload-too-large", "base_parameters must be at most 1 MB as JSON")


@object_rule(SparkJarTask)
def _spark_jar(task: SparkJarTask, path: str, r: Report) -> None:
    if task.jar_uri is not None:
        r.warn(jpath(path, "jar_uri"), "deprecated", "jar_uri is deprecated; list the JAR in the task's libraries")
    if task.run_as_repl is not None:
        r.warn(jpath(path, "run_as_repl"), "deprecated", "run_as_repl is deprecated")


@object_rule(PythonWheelTask)
def _wheel(task: PythonWheelTask, path: str, r: Report) -> None:
    if task.parameters is not None and task.named_parameters is not None:
        r.error(path, "wheel-parameters-conflict", "a python_wheel_task takes parameters or named_parameters, not both")


@object_rule(SqlTask)
def _sql(task: SqlTask, path: str, r: Report) -> None:
    _exactly_one(task, ("query", "file", "dashboard", "alert"), path, r, "sql-task-form", "a sql_task")
    if task.alert is not None and task.parameters is not None:
        r.error(jpath(path, "parameters"), "invalid-value", "parameters do not apply to a SQL alert task")


@object_rule(DbtTask)
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


@object_rule(RunJobTask)
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
        value = set_fields(task).get(name)
        if value is None:
            continue
        r.warn(jpath(path, name), "deprecated", f"{name} is deprecated; pass job_parameters")
        if _json_size(value) > 10_000:
            r.error(jpath(path, name), "payload-too-large", f"{name} must be at most 10,000 bytes as JSON")
    for i, param in enumerate(task.python_params or ()):
        if not param.isascii():
            r.error(f"{jpath(path, 'python_params')}[{i}]", "invalid-value", "python_params must be ASCII")


@object_rule(PipelineTask)
def _pipeline(task: PipelineTask, path: str, r: Report) -> None:
    if task.parameters and sum(len(k) + len(v) for k, v in task.parameters.items()) > 10_000:
        r.error(
            jpath(path, "parameters"), "payload-too-large", "pipeline parameters must total at most 10,000 characters"
        )


@object_rule(ForEachTask)
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


@object_rule(Egg)
def _egg(lib: Egg, path: str, r: Report) -> None:
    r.warn(
        path,
        "deprecated",
        "egg libraries are deprecated and not supported on Databricks Runtime 14 and newer; use a wheel",
    )
