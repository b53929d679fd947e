"""
Regenerate runspec/spec/schema.json from the field list of the Jobs API runs/submit body.

Usage: python tools/make_schema.py PATH/TO/runs_submit_fields.json

The output keeps names, wire types, required flags and enum values only. Fields that the API no longer
accepts are kept with a "rejected" reason so that a body carrying them gets a clear problem.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

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


def main(src: str) -> None:
    raw = json.loads(Path(src).read_text())
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
    ordered = {name: {f: dict(sorted(e.items())) for f, e in types[name].items()} for name in sorted(types)}
    OUT.write_text(json.dumps(ordered, indent=1) + "\n")
    print(f"{OUT}: {len(types)} types, {sum(len(v) for v in types.values())} fields")


if __name__ == "__main__":
    main(sys.argv[1])
