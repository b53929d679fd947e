"""
Regenerate runspec/spec/_objects.py: one frozen spec class per object type of the runs/submit body.

Usage: python tools/gen_spec.py   (after tools/make_schema.py when the schema changes)

Class names are the API's type names, except where a friendlier name is the one users look for
(``ClusterSpec`` is ``NewCluster``). Required fields come first and may be given positionally; the
rest are keyword-only, except the few listed in ``POSITIONAL``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "runspec" / "spec" / "schema.json").read_text())
OUT = ROOT / "runspec" / "spec" / "_objects.py"

# Written by hand elsewhere: the top level (RunSpec) and the library kinds (PyPI, Maven, ...).
HAND_WRITTEN = {"RunsSubmitRequest", "Library", "PythonPyPiLibrary", "MavenLibrary", "RCranLibrary"}
RENAMES = {"ClusterSpec": "NewCluster"}

# Fields a caller may pass positionally, in this order (default: the required fields, schema order).
POSITIONAL = {
    "ConditionTask": ["left", "op", "right"],
    "ForEachTask": ["inputs", "task"],
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
}

LITERAL_SKIP = {"COST_OPTIMIZED"}  # documented, but not accepted by every workspace: keep out of hints


def class_name(type_name: str) -> str:
    return RENAMES.get(type_name, type_name)


def annotation(wire: str, field: dict[str, object]) -> str:
    if wire.startswith("array<"):
        return f"Sequence[{annotation(wire[6:-1], field)}]"
    if wire.startswith("map<string,"):
        return f"Mapping[str, {annotation(wire[11:-1], field)}]"
    if wire == "string":
        enum_name = field.get("enum_name")
        return str(enum_name) if enum_name else "str"
    if wire == "integer":
        return "int"
    if wire == "number":
        return "float"
    if wire == "boolean":
        return "bool"
    if wire == "any":
        return "Any"
    if wire == "Library":
        return "Library"
    return class_name(wire)


def request_types() -> list[str]:
    seen: list[str] = []
    stack = ["RunsSubmitRequest"]
    while stack:
        t = stack.pop(0)
        if t in seen or t not in SCHEMA:
            continue
        seen.append(t)
        for spec in SCHEMA[t].values():
            for name in re.findall(r"[A-Z][A-Za-z0-9]+", spec["type"]):
                if name in SCHEMA:
                    stack.append(name)
    return seen


def main() -> None:
    types = [t for t in request_types() if t not in HAND_WRITTEN]
    enums: dict[str, list[str]] = {}
    for t in [*types, "RunsSubmitRequest"]:
        for spec in SCHEMA[t].values():
            if spec.get("enum_name"):
                enums.setdefault(spec["enum_name"], [v for v in spec["enum"] if v not in LITERAL_SKIP])
    out = [
        '"""',
        "Spec classes for the object types of the runs/submit body.",
        "",
        "Generated by tools/gen_spec.py from schema.json: edit the generator, not this file.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping, Sequence",
        "from typing import TYPE_CHECKING, Any",
        "",
        "from runspec.spec._base import SpecObject",
        "from runspec.spec._library import Library",
        "",
        "if TYPE_CHECKING:  # pragma: no cover - the aliases below exist for type checkers only",
        "    from dataclasses import KW_ONLY",
        "    from typing import Literal",
        "",
        "    from typing_extensions import TypeAlias",
        "",
    ]
    for name in sorted(enums):
        values = ", ".join(json.dumps(v) for v in sorted(enums[name]))
        out.append(f"    {name}: TypeAlias = Literal[{values}]")
    out.append("")
    names = []
    for t in sorted(types, key=class_name):
        fields = {k: v for k, v in SCHEMA[t].items() if not v.get("rejected")}
        positional = POSITIONAL.get(t) or [k for k, v in fields.items() if v.get("required")]
        required_kw = [k for k, v in fields.items() if v.get("required") and k not in positional]
        rest = [k for k in fields if k not in positional and k not in required_kw]
        cname = class_name(t)
        names.append(cname)
        out.append("")
        out.append(f'class {cname}(SpecObject, wire="{t}"):')
        summary = SUMMARIES.get(cname, f"The ``{t}`` object of the request body.")
        out.append(f'    """{summary}"""')
        out.append("")
        for k in positional:
            ann = annotation(fields[k]["type"], fields[k])
            if fields[k].get("required"):
                out.append(f"    {k}: {ann}")
            else:
                out.append(f"    {k}: {ann} | None = None")
        if required_kw or rest:
            out.append("    _: KW_ONLY")
        for k in required_kw:
            out.append(f"    {k}: {annotation(fields[k]['type'], fields[k])}")
        for k in rest:
            out.append(f"    {k}: {annotation(fields[k]['type'], fields[k])} | None = None")
        out.append("")
    out.append("")
    out.append("__all__ = [")
    for n in sorted(names):
        out.append(f'    "{n}",')
    out.append("]")
    OUT.write_text("\n".join(out) + "\n")
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(OUT)], check=False)
    print(f"{OUT}: {len(names)} classes, {len(enums)} enum aliases")


if __name__ == "__main__":
    main()
