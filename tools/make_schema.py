"""
Regenerate runspec/spec/schema/schema.json from the committed field lists of the Jobs API.

Usage (from the repository root)::

    python tools/make_schema.py                   # reads tools/api/, writes runspec/spec/schema/schema.json
    python tools/make_schema.py --out /tmp/schema.json

The sources are ``tools/api/runs_submit_fields.json`` (the runs/submit body) and
``tools/api/jobs_create_fields.json`` (the jobs/create body and job settings, made by
tools/extract_sdk_jobs.py), each pinned by sha256 in ``tools/api/sources.json``. The output keeps names,
wire types, required flags, deprecated flags (a note's "[Deprecated]" launch stage) and enum values only;
descriptions become docstrings (tools/gen_spec.py). Fields that the API no longer accepts are kept with a
"rejected" reason so that a body carrying them gets a clear problem.

The job side adds only what runs/submit does not have. A type both lists describe is one type, defined by
the runs/submit list, so runs/submit bodies load exactly as they did; where the job list describes such a
type differently (a newer SDK), this script says so on stderr, for the next refresh of the runs/submit list.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from api_source import JOBS_CREATE, RUNS_SUBMIT, Fields, describe, load

OUT = Path(__file__).resolve().parent.parent / "runspec" / "spec" / "schema" / "schema.json"

# Fields present in older SDKs or in the jobs/create schema that runs/submit refuses.
SHARED_CLUSTERS = (
    "runs/submit does not accept shared job clusters (the workspace answers 'Shared job cluster"
    " feature is not supported in runs/submit API.'); give each task a new_cluster, or use"
    " Run.cluster(name, NewCluster(...)), which copies the cluster into every task that uses it"
)
REJECTED = {
    ("RunsSubmitRequest", "job_clusters"): SHARED_CLUSTERS,
    ("SubmitTask", "job_cluster_key"): SHARED_CLUSTERS,
    ("Task", "job_cluster_key"): SHARED_CLUSTERS,
    ("RunsSubmitRequest", "tags"): (
        "'tags' is no longer part of the runs/submit body; put cluster tags in new_cluster.custom_tags"
    ),
    ("SubmitTask", "agentic_task"): "'agentic_task' was a private preview and is no longer accepted",
    ("SubmitTask", "genie_task"): "'genie_task' was a private preview and is no longer accepted",
}
# A job's task may name a shared job cluster, which runs/submit refuses in its nested for_each task
# (``Task``). In a job the task type is ``JobTask`` (and the for_each that holds one ``JobForEachTask``):
# the same fields, with these rejections lifted.
JOB_VARIANTS = {"Task": "JobTask", "ForEachTask": "JobForEachTask"}
JOB_ACCEPTS = {("Task", "job_cluster_key")}
# The top-level types of the job side.
JOB_ROOTS = ("CreateJob", "JobSettings")

# Types the field list names but does not define: protobuf well-known types, sent as strings.
OPAQUE = {"Duration": "string", "Timestamp": "string"}


def clean_enum(values: list[str]) -> list[str]:
    return [re.sub(r"\s*\(.*\)$", "", v).strip() for v in values]


def field_entry(f: dict[str, Any], reason: str | None, rename: dict[str, str] | None = None) -> dict[str, Any]:
    """The schema entry of one field of a field list."""
    entry: dict[str, Any] = {}
    if reason:
        entry["type"] = "any"
        entry["rejected"] = reason
    else:
        wire = f["type"]
        enum_name = re.search(r"string\(enum (\w+)\)", wire)
        if enum_name:
            entry["enum_name"] = enum_name.group(1)
        wire = re.sub(r"string\(enum \w+\)", "string", wire)
        for opaque, repl in OPAQUE.items():
            wire = re.sub(rf"\b{opaque}\b", repl, wire)
        for old, new in (rename or {}).items():
            wire = re.sub(rf"\b{old}\b", new, wire)
        if wire == "array<object>":
            wire = "array<any>"
        entry["type"] = wire
    if f.get("required"):
        entry["required"] = True
    # The launch stage "[Deprecated]" of the note: the task-type table reads it (runspec/spec/task_types.py).
    if "Deprecated" in describe(f.get("note", ""))[0] and not reason:
        entry["deprecated"] = True
    if f.get("enum"):
        entry["enum"] = clean_enum(f["enum"])
    return dict(sorted(entry.items()))


def by_name(raw: Fields) -> dict[str, list[dict[str, Any]]]:
    return {type_name.split("(")[0]: fields for type_name, fields in raw.items()}


def build(raw: Fields, jobs: Fields | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """The schema: type name -> field name -> {type, required, deprecated, enum, enum_name, rejected}."""
    runs = by_name(raw)
    types: dict[str, dict[str, dict[str, Any]]] = {}
    for name, fields in runs.items():
        types[name] = {f["name"]: field_entry(f, REJECTED.get((name, f["name"]))) for f in fields}
    if jobs is not None:
        job_types = by_name(jobs)
        for name, fields in job_types.items():
            if name in JOB_VARIANTS:
                # The runs/submit definition, with the job's rejections lifted and its task types renamed.
                lifted = {f for t, f in JOB_ACCEPTS if t == name}
                types[JOB_VARIANTS[name]] = {
                    f["name"]: field_entry(
                        f, None if f["name"] in lifted else REJECTED.get((name, f["name"])), JOB_VARIANTS
                    )
                    for f in runs[name]
                }
            elif name not in runs:
                types[name] = {f["name"]: field_entry(f, None, JOB_VARIANTS) for f in fields}
    # Types sorted by name; fields keep the API's order (it decides positional arguments).
    return {name: types[name] for name in sorted(types)}


def differences(raw: Fields, jobs: Fields) -> list[str]:
    """Where the job list describes a shared type differently from the runs/submit list."""
    runs, job_types = by_name(raw), by_name(jobs)
    out = []
    for name in sorted(set(runs) & set(job_types)):
        mine = {f["name"]: f["type"] for f in runs[name]}
        theirs = {f["name"]: f["type"] for f in job_types[name]}
        for field in sorted(set(theirs) - set(mine)):
            out.append(f"{name}.{field}: only in {JOBS_CREATE.name} ({theirs[field]})")
        for field in sorted(set(mine) & set(theirs)):
            if mine[field] != theirs[field]:
                out.append(f"{name}.{field}: {mine[field]} here, {theirs[field]} in {JOBS_CREATE.name}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write schema.json")
    args = parser.parse_args(argv)
    raw, jobs = load(RUNS_SUBMIT), load(JOBS_CREATE)
    schema = build(raw, jobs)
    for line in differences(raw, jobs):
        print(f"note: {line}; the runs/submit list defines this type", file=sys.stderr)
    args.out.write_bytes((json.dumps(schema, indent=1) + "\n").encode("utf-8"))
    print(f"{args.out}: {len(schema)} types, {sum(len(v) for v in schema.values())} fields", file=sys.stderr)


if __name__ == "__main__":
    main()
