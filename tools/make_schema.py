"""
Regenerate runspec/spec/schema.json from the committed field list of the Jobs API runs/submit body.

Usage (from the repository root)::

    python tools/make_schema.py                   # reads tools/api/, writes runspec/spec/schema.json
    python tools/make_schema.py --out /tmp/schema.json

The source is ``tools/api/runs_submit_fields.json``, pinned by sha256 in ``tools/api/sources.json``. The
output keeps names, wire types, required flags and enum values only (descriptions become docstrings in
``_objects.py``, see tools/gen_spec.py). Fields that the API no longer accepts are kept with a "rejected"
reason so that a body carrying them gets a clear problem.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from api_source import RUNS_SUBMIT, Fields, load

OUT = Path(__file__).resolve().parent.parent / "runspec" / "spec" / "schema.json"

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
# Types the field list names but does not define: protobuf well-known types, sent as strings.
OPAQUE = {"Duration": "string", "Timestamp": "string"}


def clean_enum(values: list[str]) -> list[str]:
    return [re.sub(r"\s*\(.*\)$", "", v).strip() for v in values]


def build(raw: Fields) -> dict[str, dict[str, dict[str, Any]]]:
    """The schema: type name -> field name -> {type, required, enum, enum_name, rejected}."""
    types: dict[str, dict[str, dict[str, object]]] = {}
    for type_name, fields in raw.items():
        name = type_name.split("(")[0]
        out: dict[str, dict[str, object]] = {}
        for f in fields:
            entry: dict[str, object] = {}
            reason = REJECTED.get((name, f["name"]))
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
                if wire == "array<object>":
                    wire = "array<any>"
                entry["type"] = wire
            if f.get("required"):
                entry["required"] = True
            if f.get("enum"):
                entry["enum"] = clean_enum(f["enum"])
            out[f["name"]] = entry
        types[name] = out
    # Types sorted by name; fields keep the API's order (it decides positional arguments).
    return {name: {f: dict(sorted(e.items())) for f, e in types[name].items()} for name in sorted(types)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to write schema.json")
    args = parser.parse_args(argv)
    schema = build(load(RUNS_SUBMIT))
    args.out.write_bytes((json.dumps(schema, indent=1) + "\n").encode("utf-8"))
    print(f"{args.out}: {len(schema)} types, {sum(len(v) for v in schema.values())} fields", file=sys.stderr)


if __name__ == "__main__":
    main()
