"""
Regenerate runspec/spec/_objects.py: one frozen spec class per object type of the runs/submit body.

Usage (from the repository root, after tools/make_schema.py when the schema changes)::

    python tools/gen_spec.py                      # writes runspec/spec/_objects.py
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
import json
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from api_source import RUNS_SUBMIT, describe, load

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "runspec" / "spec" / "schema.json"
OUT = ROOT / "runspec" / "spec" / "_objects.py"
LINE = 120  # ruff.toml line-length

# Written by hand elsewhere: the top level (RunSpec, runspec/spec/run_spec.py) and the library kinds
# (PyPI, Maven, ..., runspec/spec/_library.py), whose request form nests under the kind's key.
HAND_WRITTEN = {"RunsSubmitRequest", "Library", "PythonPyPiLibrary", "MavenLibrary", "RCranLibrary"}
# The SDK's compute.ClusterSpec is the object users know as new_cluster.
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


def class_docs(schema: dict[str, Any], types: list[str], notes: dict[tuple[str, str], str]) -> dict[str, str]:
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
        out[t] = SUMMARIES.get(cname) or shared or f"The ``{t}`` object of the request body."
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


def render(schema: dict[str, Any], notes: dict[tuple[str, str], str]) -> str:
    """The text of _objects.py for ``schema``, with field docstrings from ``notes``."""
    types = [t for t in reachable(schema, "RunsSubmitRequest") if t not in HAND_WRITTEN]
    enums: dict[str, list[str]] = {}
    for t in [*types, "RunsSubmitRequest"]:
        for spec in schema[t].values():
            if spec.get("enum_name"):
                enums.setdefault(spec["enum_name"], [v for v in spec["enum"] if v not in LITERAL_SKIP])

    docs = class_docs(schema, types, notes)
    body: list[str] = []
    names = []
    for t in sorted(types, key=class_name):
        fields = {k: v for k, v in schema[t].items() if not v.get("rejected")}
        positional = POSITIONAL.get(t) or [k for k, v in fields.items() if v.get("required")]
        required_kw = [k for k, v in fields.items() if v.get("required") and k not in positional]
        rest = [k for k in fields if k not in positional and k not in required_kw]
        cname = class_name(t)
        names.append(cname)
        body += ["", ""]
        body.append(f'class {cname}(SpecObject, wire="{t}"):')
        body += quoted_doc(docs[t], "    ")
        body.append("")
        for k in positional:
            ann = annotation(fields[k]["type"], fields[k])
            body.append(f"    {k}: {ann}" if fields[k].get("required") else f"    {k}: {ann} | None = None")
            doc = field_doc(t, k, fields[k], notes)
            if doc:
                body += quoted_doc(doc, "    ")
        if required_kw or rest:
            body.append("    _: KW_ONLY")
        for k in required_kw:
            body.append(f"    {k}: {annotation(fields[k]['type'], fields[k])}")
            doc = field_doc(t, k, fields[k], notes)
            if doc:
                body += quoted_doc(doc, "    ")
        for k in rest:
            body.append(f"    {k}: {annotation(fields[k]['type'], fields[k])} | None = None")
            doc = field_doc(t, k, fields[k], notes)
            if doc:
                body += quoted_doc(doc, "    ")

    # Hand edits folded in here (the committed file had them, the old generator did not): ``Any`` is
    # imported only when a field uses it (ruff F401), and ``TypeAlias`` comes from ``typing``, which has it
    # since Python 3.10, the oldest runspec supports (ruff UP035 with target-version py310).
    uses_any = any(re.search(r"\bAny\b", line) for line in body if not line.lstrip().startswith('"""'))
    head = [
        '"""',
        "Spec classes for the object types of the runs/submit body.",
        "",
        "Generated by tools/gen_spec.py from schema.json and the API description in tools/api/: edit the",
        "generator, not this file (docs/api-model.md says how to refresh it).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from collections.abc import Mapping, Sequence",
        f"from typing import TYPE_CHECKING{', Any' if uses_any else ''}",
        "",
        "from runspec.spec._base import SpecObject",
        "from runspec.spec._library import Library",
        "",
        "if TYPE_CHECKING:  # pragma: no cover - the aliases below exist for type checkers only",
        "    from dataclasses import KW_ONLY",
        "    from typing import Literal, TypeAlias",
        "",
    ]
    for name in sorted(enums):
        head += alias_lines(name, sorted(enums[name]))
    tail = ["", "", "__all__ = [", *[f'    "{n}",' for n in sorted(names)], "]"]
    lines = head + body + tail
    too_long = [line for line in lines if len(line) > LINE]
    if too_long:
        raise SystemExit(f"gen_spec.py cannot format these lines within {LINE} characters: {too_long}")
    return "\n".join(lines) + "\n"


def api_notes() -> dict[tuple[str, str], str]:
    """(type, field) -> the field's note in the committed API description."""
    notes: dict[tuple[str, str], str] = {}
    for type_name, fields in load(RUNS_SUBMIT).items():
        for f in fields:
            notes[(type_name.split("(")[0], f["name"])] = f.get("note", "")
    return notes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH, help="schema.json to read")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write _objects.py")
    args = parser.parse_args(argv)
    schema = json.loads(args.schema.read_text(encoding="utf-8"))
    text = render(schema, api_notes())
    args.out.write_bytes(text.encode("utf-8"))
    print(f"{args.out}: {text.count(chr(10) + 'class ')} classes", file=sys.stderr)


if __name__ == "__main__":
    main()
