"""
Regenerate runspec/spec/model/_objects.py: one frozen spec class per object type of the runs/submit body.

Usage (from the repository root, after tools/make_schema.py when the schema changes)::

    python tools/gen_spec.py                      # writes runspec/spec/model/_objects.py
    python tools/gen_spec.py --out /tmp/_objects.py --schema /tmp/schema.json

Class names are the API's type names, except where a friendlier name is the one users look for
(``ClusterSpec`` is ``NewCluster``). Required fields come first and may be given positionally; the
rest are keyword-only, except the few listed in ``POSITIONAL``. Each field's docstring is the first
sentence of its description in the committed API description (``tools/api/``).

The output is written already formatted as ``ruff format`` would write it (no formatter is run), so the
same inputs always give the same bytes; ``tests/test_model_regen.py`` checks both.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from api_source import JOBS_CREATE, RUNS_SUBMIT, describe, load

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "runspec" / "spec" / "schema" / "schema.json"
OUT = ROOT / "runspec" / "spec" / "model" / "_objects.py"
JOBS_OUT = ROOT / "runspec" / "spec" / "model" / "_job_objects.py"
INITS_OUT = ROOT / "runspec" / "spec" / "model" / "_inits.py"
RUN_INITS_OUT = ROOT / "runspec" / "spec" / "model" / "_run_inits.py"
SCHEMA_OUT = ROOT / "runspec" / "spec" / "schema" / "_schema_data.py"
CHECKS_OUT = ROOT / "runspec" / "spec" / "checks" / "_class_checks.py"
LINE = 120  # ruff.toml line-length

# Written by hand elsewhere: the top level (RunSpec, runspec/spec/run_spec.py) and the library kinds
# (PyPI, Maven, ..., runspec/spec/model/_library.py), whose request form nests under the kind's key.
HAND_WRITTEN = {"RunsSubmitRequest", "Library", "PythonPyPiLibrary", "MavenLibrary", "RCranLibrary"}
# The SDK's compute.ClusterSpec is the object users know as new_cluster.
RENAMES = {"ClusterSpec": "NewCluster"}
# The job side's task types (tools/make_schema.py): the fields of these runs/submit types, in a job.
JOB_VARIANTS = {"Task": "JobTask", "ForEachTask": "JobForEachTask"}

# Fields a caller may pass positionally, in this order (default: the required fields, schema order).
POSITIONAL = {
    "ConditionTask": ["left", "op", "right"],
    "ForEachTask": ["inputs", "task"],
    "JobForEachTask": ["inputs", "task"],
    "SparkJarTask": ["main_class_name"],
    "SparkSubmitTask": ["parameters"],
    "DashboardTask": ["dashboard_id"],
    "AutoScale": ["min_workers", "max_workers"],
    "TaskDependency": ["task_key", "outcome"],
    "JobEnvironment": ["environment_key", "spec"],
    "DockerImage": ["url"],
    "JobsHealthRule": ["metric", "op", "value"],
    "PythonWheelTask": ["package_name", "entry_point"],
    "SqlTask": ["warehouse_id"],
}

# One-line class docstrings. A class not listed here takes the description of the fields that hold it when
# they all say the same, or else "The ``Type`` object of the request body."
SUMMARIES = {
    "SubmitTask": "One task of a one-time run: its key, its type field, its compute and its options.",
    "Task": "The task a for_each task repeats (the jobs/create task shape; no shared job clusters).",
    "NewCluster": "A new job cluster started for one task (``new_cluster``); fields are the API's.",
    "NotebookTask": "Run a notebook (``notebook_task``).",
    "SparkJarTask": "Run a JAR's main class (``spark_jar_task``); the JAR itself goes in ``libraries``.",
    "SparkPythonTask": "Run a Python file (``spark_python_task``).",
    "SparkSubmitTask": "Run spark-submit with parameters (``spark_submit_task``; legacy).",
    "PythonWheelTask": "Run an entry point of a Python wheel (``python_wheel_task``).",
    "PipelineTask": "Update a Lakeflow declarative pipeline (``pipeline_task``).",
    "SqlTask": "Run a SQL query, file, dashboard or alert on a SQL warehouse (``sql_task``).",
    "DbtTask": "Run dbt commands (``dbt_task``).",
    "RunJobTask": "Trigger another job (``run_job_task``).",
    "ConditionTask": "Compare two values and branch on the outcome (``condition_task``).",
    "ForEachTask": "Run a task once for each element of ``inputs`` (``for_each_task``).",
    "DashboardTask": "Refresh and send an AI/BI dashboard (``dashboard_task``).",
    "CleanRoomsNotebookTask": "Run a notebook in a clean room (``clean_rooms_notebook_task``).",
    "TaskDependency": "An entry of ``depends_on``: the upstream task key and, after a condition task, its outcome.",
    "GitSource": "The remote repository tasks read their source from (``git_source``).",
    "JobEnvironment": "A serverless environment that tasks refer to by ``environment_key``.",
    "Environment": "The packages and version of a serverless environment.",
    "JobAccessControlRequest": "One access control entry: a user, group or service principal and a permission.",
    "JobRunAs": "The identity the run executes as: a user, service principal or group.",
    "JobEmailNotifications": "Email addresses notified on run events.",
    "TaskEmailNotifications": "Email addresses notified on events of one task.",
    "WebhookNotifications": "Notification destinations (by id) called on run events.",
    "Webhook": "A notification destination, by id.",
    "JobNotificationSettings": "Which run notifications to suppress.",
    "TaskNotificationSettings": "Which task notifications to suppress.",
    "JobsHealthRules": "Health rules of a run or task.",
    "JobsHealthRule": "A health rule: alert when ``metric`` is greater than ``value``.",
    "QueueSettings": "Whether the run waits in a queue when concurrency limits are reached.",
    "AutoScale": "Autoscaling bounds of a cluster.",
    "AwsAttributes": "Cluster settings specific to AWS.",
    "AzureAttributes": "Cluster settings specific to Azure.",
    "GcpAttributes": "Cluster settings specific to Google Cloud.",
    "ClusterLogConf": "Where cluster logs are delivered: exactly one of dbfs, s3 or volumes.",
    "InitScriptInfo": "One init script: exactly one storage kind (workspace, volumes, s3, abfss, gcs, file, dbfs).",
    "DockerImage": "A custom container image for the cluster.",
    "DockerBasicAuth": "Credentials for a container registry.",
    "WorkloadType": "Which kinds of workloads a cluster accepts.",
    "Compute": "Serverless GPU hardware for a task.",
    "DbfsStorageInfo": "A DBFS location (``destination``) for cluster logs or an init script.",
    "S3StorageInfo": "An S3 location for cluster logs or an init script, with its region or endpoint.",
    "VolumesStorageInfo": "A Unity Catalog volume path for cluster logs or an init script.",
    "WorkspaceStorageInfo": "A workspace file run as an init script.",
    "GcsStorageInfo": "A Google Cloud Storage file run as an init script.",
    "Adlsgen2Info": "An ADLS Gen2 (``abfss://``) file run as an init script.",
    "LocalFileInfo": "A file on the cluster's nodes run as an init script.",
    "QualifiedName": "A Unity Catalog table by catalog, schema and table name.",
    "PipelineParams": "Pipeline options for a job a ``run_job_task`` triggers.",
    "GitSnapshot": "The commit a run used (read-only: the API fills it in).",
    "SparseCheckout": "Path patterns of a sparse checkout of the repository.",
    "NodeTypeFlexibility": "Node types to fall back to when the requested one is unavailable.",
    "SqlTaskSubscription": "A user or notification destination that receives a SQL task's result.",
    "JobEnvironmentVariables": "Environment variables, by key, that tasks refer to by ``environment_variables_key``.",
    "DbtPlatformTask": "Run a dbt platform job (``dbt_platform_task``; private preview).",
    "GenAiComputeTask": "Run a training script on GPU compute (``gen_ai_compute_task``; private preview).",
    "PythonOperatorTaskParameter": "One named parameter of a Python operator task.",
    "AlertTask": "Evaluate a Databricks alert and notify its subscribers (``alert_task``).",
    "AlertTaskSubscriber": "A user or notification destination an alert task notifies.",
    # The job side (_job_objects.py).
    "CreateJob": "The body of a jobs/create request: a job's settings and who may see and run it.",
    "JobSettings": "The settings of a saved job: what jobs/create takes and jobs/get returns as ``settings``.",
    "JobTask": "One task of a saved job: a task's fields, and ``job_cluster_key`` to run on a shared job cluster.",
    "JobForEachTask": "Run a job's task once for each element of ``inputs`` (``for_each_task`` in a saved job).",
    "JobCluster": "A cluster the tasks of a saved job share by ``job_cluster_key`` (one-time runs have none).",
    "JobClusterServerlessCompute": "Serverless compute settings of a shared job cluster.",
    "CronSchedule": "When a saved job runs: a Quartz cron expression in a time zone.",
    "JobParameterDefinition": "A job-level parameter and its default value.",
    "TriggerSettings": "What starts a saved job: a file arrival, a table update, a finished job, a period or a model.",
    "TriggerConfiguration": "One of the triggers of a saved job (``triggers``).",
    "Continuous": "Keep one run of a saved job running at all times.",
    "JobDeployment": "Where a saved job is deployed from, such as a bundle.",
    "FileArrivalTriggerConfiguration": "Start a run when new files arrive at a storage location.",
    "TableUpdateTriggerConfiguration": "Start a run when tables are updated.",
    "PeriodicTriggerConfiguration": "Start a run every ``interval`` ``unit``.",
    "JobCompletionTriggerConfiguration": "Start a run after upstream jobs complete with a configured status.",
    "ModelTriggerConfiguration": "Start a run on a model registry event.",
    "MaintenanceWindow": "A weekly window in which platform maintenance may run for a continuous job.",
    "SqlConditionConfiguration": "A SQL query, run on a warehouse, whose result decides whether a run starts.",
}

# Field descriptions the API description does not give (its note is empty); everything else comes from it.
FIELD_DOCS = {
    ("Webhook", "id"): "The id of a notification destination.",
    ("LogAnalyticsInfo", "log_analytics_primary_key"): "The primary key of the Azure Log Analytics workspace.",
    ("LogAnalyticsInfo", "log_analytics_workspace_id"): "The id of the Azure Log Analytics workspace.",
}

# Documented, but not accepted by every workspace: kept out of the type hints (the schema still has it).
LITERAL_SKIP = {"COST_OPTIMIZED"}


def class_name(type_name: str) -> str:
    return RENAMES.get(type_name, type_name)


def annotation(wire: str, field: dict[str, Any]) -> str:
    if wire.startswith("array<"):
        return f"Sequence[{annotation(wire[6:-1], field)}]"
    if wire.startswith("map<string,"):
        return f"Mapping[str, {annotation(wire[11:-1], field)}]"
    if wire == "string":
        enum_name = field.get("enum_name")
        skipped = [json.dumps(v) for v in field.get("enum") or () if v in LITERAL_SKIP]
        if enum_name and skipped:
            return f"{enum_name} | Literal[{', '.join(skipped)}]"
        return str(enum_name) if enum_name else "str"
    if wire == "integer":
        return "int"
    if wire == "number":
        return "float"
    if wire == "boolean":
        return "bool"
    if wire == "any":
        return "Any"
    return class_name(wire)


def reachable(schema: dict[str, Any], root: str) -> list[str]:
    """The types a body of type ``root`` can hold, breadth first from ``root``."""
    seen: list[str] = []
    queue = [root]
    while queue:
        t = queue.pop(0)
        if t in seen or t not in schema:
            continue
        seen.append(t)
        for spec in schema[t].values():
            for name in re.findall(r"[A-Z][A-Za-z0-9]+", spec["type"]):
                if name in schema:
                    queue.append(name)
    return seen


# --------------------------------------------------------------------------------------------------
# Docstrings
# --------------------------------------------------------------------------------------------------


def field_doc(t: str, name: str, field: dict[str, Any], notes: dict[tuple[str, str], str]) -> str:
    """A field's one-line description: its launch stage and the first sentence of its API note.

    Where the API gives no description, say what the type says: the class summary of an object field,
    the values of an enum field. A plain field without a description gets no docstring.
    """
    stage, text = describe(notes.get((t, name), ""))
    text = text or FIELD_DOCS.get((t, name), "")
    if not text:
        wire = field["type"]
        inner = wire[6:-1] if wire.startswith("array<") else wire
        if field.get("enum"):
            values = [f"``{v}``" for v in field["enum"]]
            text = "One of " + (", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]) + "."
        elif inner[:1].isupper():
            summary = SUMMARIES.get(class_name(inner))
            text = summary or f"A ``{class_name(inner)}``{' list' if inner != wire else ''}."
    return (stage + text).strip()


def class_docs(
    schema: dict[str, Any], types: list[str], notes: dict[tuple[str, str], str], fallback: str
) -> dict[str, str]:
    """Each class's one-line docstring: its summary above, or what every field that holds it says."""
    said: dict[str, set[str]] = {}
    for t in types:
        for k, field in schema[t].items():
            if field.get("rejected"):
                continue
            for held in re.findall(r"[A-Z][A-Za-z0-9]+", field["type"]):
                said.setdefault(held, set()).add("".join(describe(notes.get((t, k), ""))))
    out = {}
    for t in types:
        cname = class_name(t)
        texts = said.get(t, set())
        shared = next(iter(texts)) if len(texts) == 1 else ""
        if shared.endswith("]") or len(shared) > LINE - 10:  # a launch stage alone, or more than one line
            shared = ""
        out[t] = SUMMARIES.get(cname) or shared or fallback.format(t)
    return out


def quoted_doc(text: str, indent: str) -> list[str]:
    """A triple-quoted string literal, wrapped to the line length (the formatter leaves its text alone)."""
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    width = LINE - len(indent) - 6  # room for the opening and closing quotes on one line
    lines = textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)
    lines[0] = '"""' + lines[0]
    lines[-1] = lines[-1] + '"""'
    return [indent + line for line in lines]


# --------------------------------------------------------------------------------------------------
# Code, written as ruff format writes it
# --------------------------------------------------------------------------------------------------


def alias_lines(name: str, values: list[str]) -> list[str]:
    """``Name: TypeAlias = Literal[...]`` at indent 4, split as the formatter splits a long subscript."""
    items = [json.dumps(v) for v in values]
    one = f"    {name}: TypeAlias = Literal[{', '.join(items)}]"
    if len(one) <= LINE:
        return [one]
    inner = "        " + ", ".join(items)
    if len(inner) <= LINE:
        return [f"    {name}: TypeAlias = Literal[", inner, "    ]"]
    return [f"    {name}: TypeAlias = Literal[", *[f"        {item}," for item in items], "    ]"]


def enum_values(schema: dict[str, Any], types: list[str]) -> dict[str, list[str]]:
    """Enum alias name -> its values, for the enum fields of ``types``."""
    enums: dict[str, list[str]] = {}
    for t in types:
        for spec in schema[t].values():
            if spec.get("enum_name"):
                enums.setdefault(spec["enum_name"], [v for v in spec["enum"] if v not in LITERAL_SKIP])
    return enums


def classes(schema: dict[str, Any], types: list[str], notes: dict[tuple[str, str], str], fallback: str) -> list[str]:
    """The class definitions of ``types``, sorted by class name."""
    docs = class_docs(schema, types, notes, fallback)
    body: list[str] = []
    for t in sorted(types, key=class_name):
        fields = {k: v for k, v in schema[t].items() if not v.get("rejected")}
        positional = POSITIONAL.get(t) or [k for k, v in fields.items() if v.get("required")]
        required_kw = [k for k, v in fields.items() if v.get("required") and k not in positional]
        rest = [k for k in fields if k not in positional and k not in required_kw]
        body += ["", ""]
        body.append(f'class {class_name(t)}(SpecObject, wire="{t}"):')
        body += quoted_doc(docs[t], "    ")
        body.append("")
        for k in positional:
            ann = annotation(fields[k]["type"], fields[k])
            body.append(f"    {k}: {ann}" + ("" if fields[k].get("required") else f" | None = {default(fields[k])}"))
            body += field_lines(t, k, fields[k], notes)
        if required_kw or rest:
            body.append("    _: KW_ONLY")
        for k in required_kw:
            body.append(f"    {k}: {annotation(fields[k]['type'], fields[k])}")
            body += field_lines(t, k, fields[k], notes)
        for k in rest:
            body.append(f"    {k}: {annotation(fields[k]['type'], fields[k])} | None = {default(fields[k])}")
            body += field_lines(t, k, fields[k], notes)
        body.append("")
        body += table_lines(schema[t], "_table", "    ")
        body.append("")
        body += init_lines(fields, positional, [*required_kw, *rest], "__init__", "    ")
    return body


def default(field: dict[str, Any]) -> str:
    """
    What an optional field reads as through the class: None, or for a map of str to str a ``MapField``, which
    reads the plain dict the object keeps as a ``FrozenMap`` (see runspec.spec.objects._classes.MapField).
    """
    return "map_field()" if field["type"] == "map<string,string>" else "None"


def desc_literal(wire: str) -> str:
    """A wire type as the descriptor runspec reads (``("array", ("object", "Webhook"))``), as source."""
    if wire.startswith("array<"):
        return f'("array", {desc_literal(wire[6:-1])})'
    if wire.startswith("map<string,"):
        return f'("map", {desc_literal(wire[11:-1])})'
    if wire in ("string", "integer", "number", "boolean", "any"):
        return f'("{wire}",)'
    return f'("object", "{wire}")'


def table_lines(fields: dict[str, Any], name: str, indent: str) -> list[str]:
    """
    A class's field table as literal data, every schema field (rejected ones too) in schema order: ``(name,
    descriptor, required, enum values or None, why it is rejected or None)``, one field a line.
    """
    lines = [
        f"{indent}#: The field table: (name, type descriptor, required, enum values, why the API refuses it).",
        f"{indent}# fmt: off",
        f"{indent}{name} = (",
    ]
    for k, f in fields.items():
        values = f.get("enum")
        enum = (
            "(" + ", ".join(literal(v) for v in values) + ("," if len(values) == 1 else "") + ")" if values else "None"
        )
        rejected = literal(f["rejected"]) if f.get("rejected") else "None"
        line = f'{indent}    ("{k}", {desc_literal(f["type"])}, {bool(f.get("required"))}, {enum}, {rejected}),'
        lines.append(line if len(line) <= LINE else f"{line}  {ONE_A_LINE}")
    return [*lines, f"{indent})", f"{indent}# fmt: on"]


# The mark of a table line longer than the line length (the formatter leaves a ``# fmt: off`` table alone).
ONE_A_LINE = "# noqa: E501 - one field a line"


# What the generated __init__s use: the object base and the helpers of runspec.spec.objects._object.
INIT_IMPORTS = [
    "from runspec.spec.objects._classes import map_field",
    "from runspec.spec.objects._object import SpecObject",
    "from runspec.spec.objects._object import convert as _convert",
    "from runspec.spec.objects._object import set_w as _set_w",
    "from runspec.spec.objects._object import unknown_keyword as _unknown",
    "from runspec.spec.objects._object import with_extra as _with_extra",
]

# Field names that are also Python builtins (``id``, ``format``): fine as parameters, but ruff asks.
BUILTINS = frozenset(dir(builtins))


def init_imports(body: list[str]) -> list[str]:
    """The lines of INIT_IMPORTS whose name the code of ``body`` uses."""
    used = code_names(body)
    return [line for line in INIT_IMPORTS if line.split()[-1] in used]


# The Python type a value of a wire type is kept as when it is exactly that type (no conversion call).
EXACT = {"string": "str", "integer": "int", "boolean": "bool"}


def init_lines(
    fields: dict[str, Any],
    positional: list[str],
    keyword: list[str],
    name: str,
    indent: str,
    tail: str = "",
    self_type: str = "",
    exact_objects: bool = True,
) -> list[str]:
    """
    The source of a spec class's ``__init__``: each argument given is checked (the value as it is when of
    its field's exact type, else the field's converter, which raises ``TypeError``), frozen and stored; an
    unexpected keyword gets the closest field's name. ``tail`` is the last line (default: store the
    request form).
    """
    i1, i2 = indent + "    ", indent + "        "
    params = [f"{i1}self: {self_type}," if self_type else f"{i1}self,"]
    for k in [*positional, "*", *keyword]:
        if k == "*":
            params.append(f"{i1}*,")
            continue
        ann = annotation(fields[k]["type"], fields[k])
        param = f"{i1}{k}: {ann}," if fields[k].get("required") else f"{i1}{k}: {ann} | None = None,"
        params.append(param + ("  # noqa: A002 - the API's name" if k in BUILTINS else ""))
    params += [f"{i1}extra: Mapping[str, Any] | None = None,", f"{i1}**unknown: Never,"]
    lines = [f"{indent}def {name}(", *params, f"{indent}) -> None:"]
    lines += [f"{i1}if unknown:", f"{i2}raise _unknown(self, unknown)", f"{i1}d = self.__dict__"]
    for k in [*positional, *keyword]:
        wire = fields[k]["type"]
        required = bool(fields[k].get("required"))
        at = i1 if required else i2
        if not required:
            lines.append(f"{i1}if {k} is not None:")
        exact = EXACT.get(wire) or (
            class_name(wire) if exact_objects and wire[:1].isupper() and wire != "Library" else None
        )
        if wire == "map<string,string>":
            if required:  # a required field reads as itself, never through a MapField
                raise SystemExit(f"gen_spec.py writes no required map field ({name}: {k})")
            lines += str_map_lines(k, at)
        else:
            if exact:
                lines.append(f"{at}if type({k}) is not {exact}:")
            lines += convert_lines(k, at + ("    " if exact else ""))
        lines.append(f'{at}d["{k}"] = {k}')
    lines.append(tail or f"{i1}_set_w(self, _with_extra(self, d, extra) if extra else d)")
    return lines


def convert_lines(k: str, indent: str) -> list[str]:
    """``k = _convert(self, "k", k)``, split as the formatter splits a call too long for one line."""
    one = f'{indent}{k} = _convert(self, "{k}", {k})' + ("  # noqa: A001" if k in BUILTINS else "")
    if len(one) <= LINE:
        return [one]
    return [f"{indent}{k} = _convert(", f'{indent}    self, "{k}", {k}', f"{indent})"]


def str_map_lines(k: str, indent: str) -> list[str]:
    """
    A mapping of str to str (parameters, tags): the usual ``dict`` of exact strings is copied as it is, tested
    in the ``__init__`` itself (no call); anything else goes to the field's converter, which copies it as
    plain strings or raises. The object keeps its own plain dict (see runspec.spec.objects._classes.MapField).
    (The loop looks each value up by its key: less than ``items()``' view and pairs cost.)
    """
    i1, i2, i3 = indent + "    ", indent + "        ", indent + "            "
    return [
        f"{indent}if type({k}) is dict:",
        f"{i1}for _k in {k}:",
        f"{i2}if type(_k) is not str or type({k}[_k]) is not str:",
        *convert_lines(k, i3),
        f"{i3}break",
        f"{i1}else:",
        f"{i2}{k} = {k}.copy()",
        f"{indent}else:",
        *convert_lines(k, i1),
    ]


def field_lines(t: str, k: str, field: dict[str, Any], notes: dict[tuple[str, str], str]) -> list[str]:
    doc = field_doc(t, k, field, notes)
    return quoted_doc(doc, "    ") if doc else []


def import_lines(module: str, names: list[str], indent: str = "") -> list[str]:
    """``from module import a, b``, split one name a line as the formatter does when it is too long."""
    one = f"{indent}from {module} import {', '.join(names)}"
    if len(one) <= LINE:
        return [one]
    return [f"{indent}from {module} import (", *[f"{indent}    {n}," for n in names], f"{indent})"]


def code_names(body: list[str]) -> set[str]:
    """The names the code of ``body`` uses (in annotations and bases; docstrings do not count)."""
    return {node.id for node in ast.walk(ast.parse("\n".join(body))) if isinstance(node, ast.Name)}


def finish(doc: list[str], imports: list[str], aliases: list[str], body: list[str], names: list[str]) -> str:
    lines = [
        '"""',
        *doc,
        "",
        "Generated by tools/gen_spec.py from schema.json and the API description in tools/api/: edit the",
        "generator, not this file (docs/api-model.md says how to refresh it).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *imports,
        *aliases,
        *body,
        "",
        "",
        "__all__ = [",
        *[f'    "{n}",' for n in sorted(names)],
        "]",
    ]
    too_long = [line for line in lines if len(line) > LINE and not line.endswith(ONE_A_LINE)]
    if too_long:
        raise SystemExit(f"gen_spec.py cannot format these lines within {LINE} characters: {too_long}")
    return "\n".join(lines) + "\n"


def run_types(schema: dict[str, Any]) -> list[str]:
    return [t for t in reachable(schema, "RunsSubmitRequest") if t not in HAND_WRITTEN]


def render(schema: dict[str, Any], notes: dict[tuple[str, str], str]) -> str:
    """The text of _objects.py for ``schema``, with field docstrings from ``notes``."""
    types = run_types(schema)
    enums = enum_values(schema, [*types, "RunsSubmitRequest"])
    body = classes(schema, types, notes, "The ``{}`` object of the request body.")
    # Hand edits folded in here (the committed file had them, the old generator did not): ``Any`` is
    # imported only when a field uses it (ruff F401), and ``TypeAlias`` comes from ``typing``, which has it
    # since Python 3.10, the oldest runspec supports (ruff UP035 with target-version py310).
    imports = [
        "from collections.abc import Mapping, Sequence",
        "from typing import TYPE_CHECKING, Any",
        "",
        "from runspec.spec.model._library import Library",
        *init_imports(body),
        "",
        "if TYPE_CHECKING:  # pragma: no cover - the aliases below exist for type checkers only",
        "    from dataclasses import KW_ONLY",
        "    from typing import Literal, TypeAlias",
        "",
        "    from typing_extensions import Never",
        "",
    ]
    aliases = [line for name in sorted(enums) for line in alias_lines(name, sorted(enums[name]))]
    return finish(
        ["Spec classes for the object types of the runs/submit body."],
        imports,
        aliases,
        body,
        [class_name(t) for t in types],
    )


def job_types(schema: dict[str, Any]) -> list[str]:
    """The types of the job side that runs/submit does not have (their classes go in _job_objects.py)."""
    shared = set(reachable(schema, "RunsSubmitRequest")) | HAND_WRITTEN
    seen = [*reachable(schema, "CreateJob"), *reachable(schema, "JobSettings")]
    return [t for t in dict.fromkeys(seen) if t not in shared]


def render_jobs(schema: dict[str, Any], notes: dict[tuple[str, str], str]) -> str:
    """The text of _job_objects.py: the classes of the jobs/create body that runs/submit does not share."""
    types = job_types(schema)
    run_side = run_types(schema)
    run_enums = enum_values(schema, [*run_side, "RunsSubmitRequest"])
    enums = {k: v for k, v in enum_values(schema, types).items() if k not in run_enums}
    body = classes(schema, types, notes, "The ``{}`` object of a job's settings.")
    used = code_names(body)
    shared_classes = sorted(class_name(t) for t in run_side if class_name(t) in used)
    shared_enums = sorted(n for n in run_enums if n in used)
    abc = [n for n in ("Mapping", "Sequence") if n in used]
    imports = [
        f"from collections.abc import {', '.join(abc)}",
        "from typing import TYPE_CHECKING, Any",
        "",
        *(["from runspec.spec.model._library import Library"] if "Library" in used else []),
        *import_lines("runspec.spec.model._objects", shared_classes),
        *init_imports(body),
        "",
        "if TYPE_CHECKING:  # pragma: no cover - the aliases below exist for type checkers only",
        "    from dataclasses import KW_ONLY",
        "    from typing import Literal, TypeAlias",
        "",
        "    from typing_extensions import Never",
        "",
        *([*import_lines("runspec.spec.model._objects", shared_enums, "    "), ""] if shared_enums else []),
    ]
    aliases = [line for name in sorted(enums) for line in alias_lines(name, sorted(enums[name]))]
    return finish(
        [
            "Spec classes for the job side of the Jobs API: the jobs/create body (``CreateJob``), a saved job's",
            "settings (``JobSettings``) and the object types only saved jobs have. Types a one-time run shares",
            "with a job are the classes of ``_objects.py``.",
            "",
            "``import runspec`` does not load this module. ``JobSettings.from_dict(settings)`` loads a job's",
            "settings as strictly as ``RunSpec.from_dict`` loads a runs/submit body.",
        ],
        imports,
        aliases,
        body,
        [class_name(t) for t in types],
    )


# The classes written by hand whose __init__ is generated here (into _inits.py): class -> (wire type or
# None for a bare path, positional fields, the init's last lines). The library kinds' request form nests
# under their kind's key; RunSpec runs every check when made.
_KEYED = "        _set_w(self, {type(self)._wire_key: _with_extra(self, d, extra) if extra else d})"
_PATH = "        _set_w(self, {type(self)._wire_key: path})"
HAND_INITS: dict[str, tuple[str | None, list[str], str]] = {
    "RunSpec": (
        "RunsSubmitRequest",
        [],
        ("        _set_w(self, _with_extra(self, d, extra) if extra else d)\n        self._finish((), ())"),
    ),
    "PyPI": ("PythonPyPiLibrary", ["package", "repo"], _KEYED),
    "Maven": ("MavenLibrary", ["coordinates", "repo", "exclusions"], _KEYED),
    "Cran": ("RCranLibrary", ["package", "repo"], _KEYED),
    "Jar": (None, ["path"], _PATH),
    "Whl": (None, ["path"], _PATH),
    "Egg": (None, ["path"], _PATH),
    "Requirements": (None, ["path"], _PATH),
}


# RunSpec's fields in the order its request form lists them (the order of RunSpec's annotations).
RUN_SPEC_ORDER = [
    "tasks",
    "run_name",
    "timeout_seconds",
    "idempotency_token",
    "access_control_list",
    "git_source",
    "environments",
    "email_notifications",
    "webhook_notifications",
    "notification_settings",
    "health",
    "queue",
    "run_as",
    "budget_policy_id",
    "usage_policy_id",
    "performance_target",
    "duration_target",
    "environment_variables",
]


# The SubmitTask fields Run.task names as keyword arguments, in its signature's order (a test ties the two).
NAMED_FIELDS = [
    "libraries",
    "run_if",
    "max_retries",
    "min_retry_interval_millis",
    "retry_on_timeout",
    "timeout_seconds",
    "description",
    "disabled",
    "environment_key",
    "existing_cluster_id",
    "new_cluster",
]


def add_named_lines(schema: dict[str, Any]) -> list[str]:
    """``add_named``: what ``Run.task`` does with its named SubmitTask fields, as a generated __init__ does."""
    fields = schema["SubmitTask"]
    lines = [
        "def add_named(",
        "    given: dict[str, Any],",
        *[f"    {k}: Any," for k in NAMED_FIELDS],
        ") -> None:",
        '    """Check and freeze each SubmitTask field ``Run.task`` names (``None``: not given) into ``given``."""',
    ]
    for k in NAMED_FIELDS:
        exact = EXACT.get(fields[k]["type"])
        lines.append(f"    if {k} is not None:")
        at = "            " if exact else "        "
        if exact:
            lines.append(f"        if type({k}) is not {exact}:")
        # SubmitTask's own converter of the field, read from its table: the converter a SubmitTask's
        # __init__ calls, without a helper call between (Run.task makes this step on every call).
        one = f'{at}{k} = SubmitTask._fields["{k}"].conv({k})'
        if len(one) <= LINE:
            lines.append(one)
        else:
            lines += [f'{at}{k} = SubmitTask._fields["{k}"].conv(', f"{at}    {k}", f"{at})"]
        lines.append(f'        given["{k}"] = {k}')
    return lines


def hand_init(schema: dict[str, Any], cname: str) -> list[str]:
    """The ``__init__`` of ``cname``, a class written by hand (``HAND_INITS``), as a module-level function."""
    wire, positional, tail = HAND_INITS[cname]
    if wire is None:
        fields: dict[str, Any] = {"path": {"type": "string", "required": True}}
    else:
        fields = {k: v for k, v in schema[wire].items() if not v.get("rejected")}
    order = [k for k in RUN_SPEC_ORDER if k in fields] if cname == "RunSpec" else list(fields)
    keyword = [k for k in order if k not in positional]
    # RunSpec's module imports this one: its init takes ``self`` as Any rather than import it back.
    self_type = "Any" if cname == "RunSpec" else "SpecObject"
    lines = init_lines(fields, positional, keyword, f"{snake(cname)}_init", "", tail, self_type)
    if wire is None:  # a bare path carries no extra fields: freeze_extra says so
        lines[-1:] = ["    if extra:", "        _with_extra(self, d, extra)", _PATH[4:]]
    else:
        lines[-1:] = [line[4:] for line in tail.split("\n")]
    return ["", "", *lines]


def render_inits(schema: dict[str, Any]) -> str:
    """The text of _inits.py: the ``__init__`` of each library kind (the classes are written by hand)."""
    kinds = [c for c in HAND_INITS if c != "RunSpec"]
    body = [line for c in kinds for line in hand_init(schema, c)]
    tables = [c for c in kinds if HAND_INITS[c][0] is not None]
    for c in tables:
        body += ["", "", *table_lines(schema[str(HAND_INITS[c][0])], f"{snake(c).upper()}_TABLE", "")]
    imports = [
        "from collections.abc import Mapping, Sequence",
        "from typing import TYPE_CHECKING, Any",
        "",
        *init_imports(body),
        "",
        "if TYPE_CHECKING:  # pragma: no cover - the names below exist for type checkers only",
        "    from typing_extensions import Never",
    ]
    return finish(
        [
            "The ``__init__`` of each library kind (``PyPI``, ``Whl``, ...), made as the generated classes' are:",
            "each class, written by hand in ``_library.py``, takes its function here as its ``__init__``.",
        ],
        imports,
        [],
        body,
        [*[f"{snake(c)}_init" for c in kinds], *[f"{snake(c).upper()}_TABLE" for c in tables]],
    )


def render_run_inits(schema: dict[str, Any]) -> str:
    """The text of _run_inits.py: ``RunSpec``'s ``__init__`` and what ``Run.task`` does with its named fields."""
    body = hand_init(schema, "RunSpec")
    body += ["", "", "#: RunSpec's fields, in the order its request form lists them.", "RUN_SPEC_FIELDS = ("]
    body += [f'    "{k}",' for k in RUN_SPEC_ORDER if k in schema["RunsSubmitRequest"]]
    body += [")", "", "#: The SubmitTask fields ``Run.task`` names, in its signature's order.", "NAMED_FIELDS = ("]
    body += [f'    "{k}",' for k in NAMED_FIELDS]
    body += [")", "", "", *add_named_lines(schema)]
    body += ["", "", *table_lines(schema["RunsSubmitRequest"], "RUN_SPEC_TABLE", "")]
    used = code_names(body)
    run_classes = sorted(class_name(t) for t in run_types(schema) if class_name(t) in used)
    imports = [
        "from collections.abc import Mapping, Sequence",
        "from typing import TYPE_CHECKING, Any",
        "",
        *import_lines("runspec.spec.model._objects", run_classes),
        *init_imports(body),
        "",
        "if TYPE_CHECKING:  # pragma: no cover - the names below exist for type checkers only",
        "    from typing import Literal",
        "",
        "    from typing_extensions import Never",
        "",
        "    from runspec.spec.model._objects import PerformanceTarget",
    ]
    return finish(
        [
            "``RunSpec``'s ``__init__`` (the class is written by hand in ``run_spec.py``), made as the generated",
            "classes' are, and ``add_named``: what ``Run.task`` does with the SubmitTask fields it names.",
        ],
        imports,
        [],
        body,
        ["NAMED_FIELDS", "RUN_SPEC_FIELDS", "RUN_SPEC_TABLE", "add_named", "run_spec_init"],
    )


def literal(value: Any) -> str:
    """``value`` (JSON data) as a Python literal, strings in double quotes."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def render_schema(schema: dict[str, Any]) -> str:
    """The text of _schema_data.py: schema.json as a Python literal, so nothing reads or parses it at run time."""
    lines = [
        '"""',
        "The shipped schema (``schema.json``) as Python data: every object type of the Jobs API bodies runspec",
        "knows, its fields with their wire types, required flags, enums and rejections. Read through",
        "``runspec.spec.schema._schema.schema()``.",
        "",
        "Generated by tools/gen_spec.py from schema.json: edit the generator, not this file (docs/api-model.md says",
        "how to refresh it). One field a line, as written: the formatter leaves the table alone.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
        "",
        "# fmt: off",
        "SCHEMA: dict[str, dict[str, dict[str, Any]]] = {",
    ]
    for t, fields in schema.items():
        lines.append(f"    {literal(t)}: {{")
        for k, v in fields.items():
            line = f"        {literal(k)}: {literal(v)},"
            lines.append(line if len(line) <= LINE else line + "  # noqa: E501 - one field a line")
        lines.append("    },")
    lines += ["}", "# fmt: on", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# The per-class checks (runspec/spec/checks/_class_checks.py)
# --------------------------------------------------------------------------------------------------

# The wire types whose objects a run holds beside the generated classes (the base ``Library`` is not one:
# a library is an object of one of its kinds).
CHECKED_HAND_WRITTEN = ["RunsSubmitRequest", "PythonPyPiLibrary", "MavenLibrary", "RCranLibrary"]
# The wire types whose values are checked against the API's 64-bit integers (when they hold an int).
INTEGERS = ("integer", "number")


def constant(name: str) -> str:
    """``RunIf`` -> ``_RUN_IF``: the name of an enum's values in the checks module."""
    return "_" + snake(name).upper()


def set_lines(name: str, values: list[str]) -> list[str]:
    """``_NAME = frozenset({None, ...})`` (None: an unset field), split as the formatter splits it."""
    items = ["None", *[json.dumps(v) for v in values]]
    one = f"{name} = frozenset({{{', '.join(items)}}})"
    if len(one) <= LINE:
        return [one]
    inner = "    {" + ", ".join(items) + "}"
    if len(inner) <= LINE:
        return [f"{name} = frozenset(", inner, ")"]
    return [f"{name} = frozenset(", "    {", *[f"        {item}," for item in items], "    }", ")"]


def condition_lines(indent: str, tests: list[str]) -> list[str]:
    """``if a or b:``, the tests split one a line when they do not fit on one."""
    one = f"{indent}if {' or '.join(tests)}:"
    if len(one) <= LINE:
        return [one]
    return [f"{indent}if (", f"{indent}    {tests[0]}", *[f"{indent}    or {t}" for t in tests[1:]], f"{indent}):"]


def class_check_lines(t: str, fields: dict[str, Any], enum_names: dict[tuple[str, str], str]) -> list[str]:
    """The maker of one class's check: its enum and integer tests inline, its rules, the objects inside it."""
    enums = [k for k, f in fields.items() if f.get("enum")]
    ints = [k for k, f in fields.items() if f["type"] in INTEGERS]
    objects = [k for k, f in fields.items() if object_type(f["type"])]
    name = snake(class_name(t))
    said = [*([", ".join(enums)] if enums else []), *([", ".join(ints)] if ints else [])]
    if objects:
        said.append(f"{len(objects)} object field{'s' if len(objects) > 1 else ''}")
    doc = f'    """``{class_name(t)}``: {"; ".join(said)}."""'
    if len(doc) > LINE:
        doc = f'    """``{class_name(t)}``: its enum and integer fields, the objects inside it."""'
    lines = [
        "",
        "",
        f"def {name}(rules: Rules, nested: Mapping[str, str], go: Go) -> Check:",
        doc,
        "",
        "    def check(obj: Any, path: str, r: Report, seen: set[int]) -> None:",
    ]
    i2, i3, i4 = "        ", "            ", "                "
    # An unset field reads as None. With several fields to read, each is looked up in the object's set
    # fields, read once; a lone one is read as an attribute.
    read = "d.get" if len(enums) + len(ints) + bool(objects) > 1 else ""
    if objects:  # looked at already (it had rules or a wrong value): nothing more to read
        lines += [f"{i2}if seen and id(obj) in seen:", f"{i2}    return"]
    if read:
        lines.append(f"{i2}d = obj.__dict__")

    def value(k: str) -> str:
        return f'd.get("{k}")' if read else f"obj.{k}"

    bad_enums = []
    for k in enums:
        values = constant(enum_names[(t, k)])
        if fields[k]["type"] == "string":
            bad_enums.append(f"{value(k)} not in {values}")
        else:  # a list of enum values, read first (the test alone fits a line)
            lines.append(f"{i2}{k} = {value(k)} or ()")
            bad_enums.append(f"not {values}.issuperset({k})")
    # An object is looked at once per run when it has rules or a wrong value: one with neither has
    # nothing to report, however often it is met. One that holds no objects is remembered only when
    # something was reported about it: the rules read the object alone, so looking at it again when
    # it is met again reports nothing again.
    bad_ints = [f"(type(v := {value(k)}) is int and not _MIN <= v <= _MAX)" for k in ints]
    lines += condition_lines(i2, ["rules", *bad_enums, *bad_ints])
    if objects:
        lines.append(f"{i3}seen.add(id(obj))")
    else:
        lines += [f"{i3}if seen and id(obj) in seen:", f"{i3}    return", f"{i3}told = r.told"]
    if bad_enums:
        lines += [*condition_lines(i3, bad_enums), f"{i4}check_enums(obj, path, r)"]
    for k in ints:
        lines += [
            f"{i3}v = {value(k)}",
            f"{i3}if type(v) is int and not _MIN <= v <= _MAX:",
            f'{i3}    out_of_range(r, path + ".{k}", v)',
        ]
    lines += [f"{i3}for rule in rules:", f"{i3}    rule(obj, path, r)"]
    if not objects:
        lines += [f"{i3}if r.told != told:", f"{i3}    seen.add(id(obj))"]
    if objects:
        lines += [
            f"{i2}if nested:",
            f"{i3}for name, v in {'d' if read else 'obj.__dict__'}.items():",
            f"{i3}    if name not in nested:",
            f"{i3}        continue",
            f"{i3}    if type(v) is tuple:  # items of one class, mostly: its check is looked up when it changes",
            f"{i3}        where = path + nested[name]",
            f"{i3}        t = f = None",
            f"{i3}        for at, item in zip(indexes(len(v)), v, strict=False):",
            f"{i3}            if type(item) is not t:",
            f"{i3}                t = type(item)",
            f"{i3}                f = go[t]",
            f"{i3}            if f is not None:",
            f"{i3}                f(item, where + at, r, seen)",
            f"{i3}    else:",
            f"{i3}        f = go[type(v)]",
            f"{i3}        if f is not None:",
            f"{i3}            f(v, path + nested[name], r, seen)",
        ]
    lines += ["", "    return check"]
    return lines


def object_type(wire: str) -> str | None:
    """The wire type of the objects a field of type ``wire`` holds (itself, or a list's items), or None."""
    inner = wire[6:-1] if wire.startswith("array<") else wire
    return inner if inner[:1].isupper() else None


def render_checks(schema: dict[str, Any]) -> str:
    """The text of _class_checks.py: for each class of the runs/submit body, the maker of its check."""
    types = [*run_types(schema), *CHECKED_HAND_WRITTEN]
    fields_of = {t: {k: v for k, v in schema[t].items() if not v.get("rejected")} for t in types}
    enum_names: dict[tuple[str, str], str] = {}
    values: dict[str, list[str]] = {}
    for t in types:
        for k, f in fields_of[t].items():
            if f.get("enum"):
                name = f.get("enum_name") or f"{t}{k.title().replace('_', '')}"
                enum_names[(t, k)] = name
                values.setdefault(name, sorted(f["enum"]))
    checked = [
        t
        for t in sorted(types, key=class_name)
        if any(f.get("enum") or f["type"] in INTEGERS or object_type(f["type"]) for f in fields_of[t].values())
    ]
    body: list[str] = []
    for name in sorted(values):
        body += set_lines(constant(name), values[name])
    for t in checked:
        body += class_check_lines(t, fields_of[t], enum_names)
    table = [
        "",
        "",
        "#: Wire type -> the maker of its check, its enum and integer fields, and its object fields (field ->",
        "#: the wire type of the objects it holds). A type not listed has none of them.",
        "CHECKS: dict[str, tuple[Maker, tuple[str, ...], dict[str, str]]] = {",
    ]
    for t in checked:
        f = fields_of[t]
        valued = [k for k, v in f.items() if v.get("enum") or v["type"] in INTEGERS]
        names = "(" + ", ".join(f'"{k}"' for k in valued) + ("," if len(valued) == 1 else "") + ")"
        objects = {k: object_type(v["type"]) for k, v in f.items() if object_type(v["type"])}
        entry = ", ".join(f'"{k}": "{w}"' for k, w in objects.items())
        one = f'    "{t}": ({snake(class_name(t))}, {names}, {{{entry}}}),'
        if len(one) <= LINE:
            table.append(one)
            continue
        table += [f'    "{t}": (', f"        {snake(class_name(t))},"]
        if len(f"        {names},") <= LINE:
            table.append(f"        {names},")
        else:
            table += ["        (", *[f'            "{k}",' for k in valued], "        ),"]
        if objects:
            table += ["        {", *[f'            "{k}": "{w}",' for k, w in objects.items()], "        },"]
        else:
            table.append("        {},")
        table.append("    ),")
    table.append("}")
    body += table
    imports = [
        "from collections.abc import Mapping",
        "from typing import Any",
        "",
        "from runspec.spec.checks._rules import Check, Go, Maker, Report, Rules, check_enums, indexes, out_of_range",
        "from runspec.spec.limits import INT64_MAX as _MAX",
        "from runspec.spec.limits import INT64_MIN as _MIN",
        "",
    ]
    return finish(
        [
            "The checks of each class of the runs/submit body, one function per class: each makes the class's check",
            "from the rules registered for it (``@object_rule``), the fields worth walking into and the checks of",
            "the other classes (``go``). A check tests its object's enum fields against their values and its",
            "integer fields against the API's 64 bits (inline; the problems are reported as ``check_enums`` and",
            "``out_of_range`` say), runs the rules, then checks the objects inside it. An object with rules or",
            "a wrong value is looked at once per run (``seen``: an object met again, such as a",
            "cluster copied into many tasks, is not reported again); one that holds no objects is remembered",
            "only when something was reported about it (looked at again, it has nothing to say again).",
            "``runspec.spec.checks._checks`` builds the checks of a run from ``CHECKS``.",
        ],
        imports,
        [],
        body,
        ["CHECKS"],
    )


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("py_p_i", "pypi")


def api_notes() -> dict[tuple[str, str], str]:
    """(type, field) -> the field's note in the committed API description.

    A type both field lists describe takes the notes of the runs/submit list, as its fields do
    (tools/make_schema.py); ``JobTask`` and ``JobForEachTask`` take those of ``Task`` and ``ForEachTask``.
    """
    notes: dict[tuple[str, str], str] = {}
    for source in (RUNS_SUBMIT, JOBS_CREATE):
        for type_name, fields in load(source).items():
            for f in fields:
                notes.setdefault((type_name.split("(")[0], f["name"]), f.get("note", ""))
    for (t, field), note in list(notes.items()):
        if t in JOB_VARIANTS:
            notes[(JOB_VARIANTS[t], field)] = note
    return notes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH, help="schema.json to read")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write _objects.py")
    parser.add_argument("--jobs-out", type=Path, default=JOBS_OUT, help="where to write _job_objects.py")
    parser.add_argument("--inits-out", type=Path, default=INITS_OUT, help="where to write _inits.py")
    parser.add_argument("--run-inits-out", type=Path, default=RUN_INITS_OUT, help="where to write _run_inits.py")
    parser.add_argument("--schema-out", type=Path, default=SCHEMA_OUT, help="where to write _schema_data.py")
    parser.add_argument("--checks-out", type=Path, default=CHECKS_OUT, help="where to write _class_checks.py")
    args = parser.parse_args(argv)
    schema = json.loads(args.schema.read_text(encoding="utf-8"))
    notes = api_notes()
    outputs = (
        (args.out, render(schema, notes)),
        (args.jobs_out, render_jobs(schema, notes)),
        (args.inits_out, render_inits(schema)),
        (args.run_inits_out, render_run_inits(schema)),
        (args.schema_out, render_schema(schema)),
        (args.checks_out, render_checks(schema)),
    )
    for path, text in outputs:
        path.write_bytes(text.encode("utf-8"))
        print(f"{path}: {text.count(chr(10) + 'class ')} classes, {text.count('def ')} functions", file=sys.stderr)


if __name__ == "__main__":
    main()
