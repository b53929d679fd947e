"""
Extract the jobs/create body (``CreateJob``) and the job settings (``JobSettings``) from the databricks-sdk.

Usage (from the repository root, with databricks-sdk installed; the SDK is read, never imported)::

    python tools/extract_sdk_jobs.py                  # writes tools/api/jobs_create_fields.json
    python tools/extract_sdk_jobs.py --sdk DIR --out PATH

The SDK's dataclasses are generated from the OpenAPI description the server documents, so they are the
wire format. This reads ``databricks/sdk/service/jobs.py`` and ``compute.py`` with ``ast``: ``JobSettings``
and every type it reaches, and ``CreateJob`` from the parameters of ``JobsAPI.create`` (the SDK has no
dataclass for it). The output has the form of ``runs_submit_fields.json``: type name -> fields with
``name``, ``type``, ``required``, ``enum`` and ``note`` (the field's docstring). Names drop the module
prefix; ``compute.ClusterSpec`` is ``ClusterSpec`` and ``jobs.ClusterSpec`` would be ``RunClusterSpec``, as
in the runs/submit description. It prints the SDK version and the sha256 of the files read: record them in
``tools/api/sources.json``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tools" / "api" / "jobs_create_fields.json"

ROOTS = ("CreateJob", "JobSettings")
# jobs.ClusterSpec (a run's cluster) is not compute.ClusterSpec (new_cluster); the runs/submit description
# names them the same way.
RENAMES = {("jobs", "ClusterSpec"): "RunClusterSpec"}
SCALARS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "Any": "any", "dict": "any"}


class Module:
    """The dataclasses and enums of one SDK service module."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.classes = {node.name: node for node in self.tree.body if isinstance(node, ast.ClassDef)}

    def is_enum(self, cls: str) -> bool:
        node = self.classes.get(cls)
        return node is not None and any(isinstance(b, ast.Name) and b.id == "Enum" for b in node.bases)

    def enum_values(self, cls: str) -> list[str]:
        values = []
        for stmt in self.classes[cls].body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                values.append(str(stmt.value.value))
        return values


def type_name(module: str, cls: str) -> str:
    return RENAMES.get((module, cls), cls)


def docstring_after(body: list[ast.stmt], i: int) -> str:
    after = body[i + 1] if i + 1 < len(body) else None
    if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
        return re.sub(r"\s+", " ", after.value.value).strip()
    return ""


def wire_keys(cls: ast.ClassDef) -> dict[str, str]:
    """attribute -> JSON key, read from ``as_dict`` (``body["global"] = self.global_``)."""
    keys: dict[str, str] = {}
    for fn in cls.body:
        if isinstance(fn, ast.FunctionDef) and fn.name == "as_dict":
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Assign)
                    and isinstance(node.targets[0], ast.Subscript)
                    and isinstance(node.targets[0].slice, ast.Constant)
                ):
                    for sub in ast.walk(node.value):
                        if (
                            isinstance(sub, ast.Attribute)
                            and isinstance(sub.value, ast.Name)
                            and sub.value.id == "self"
                        ):
                            keys[sub.attr] = str(node.targets[0].slice.value)
                            break
    return keys


class Extractor:
    def __init__(self, jobs: Module, compute: Module) -> None:
        self.modules = {"jobs": jobs, "compute": compute}
        self.types: dict[str, list[dict[str, Any]]] = {}
        self.queue: list[tuple[str, str]] = []

    def wire(self, ann: ast.expr, module: str) -> tuple[str, str | None, list[str] | None]:
        """(wire type, enum name, enum values) of an annotation."""
        if isinstance(ann, ast.Subscript) and isinstance(ann.value, ast.Name):
            outer = ann.value.id
            if outer == "Optional":
                return self.wire(ann.slice, module)
            if outer == "List":
                inner, enum_name, values = self.wire(ann.slice, module)
                return f"array<{inner}>", enum_name, values
            if outer == "Dict":
                assert isinstance(ann.slice, ast.Tuple)
                inner, enum_name, values = self.wire(ann.slice.elts[1], module)
                return f"map<string,{inner}>", enum_name, values
        if isinstance(ann, ast.Name) and ann.id in SCALARS:
            return SCALARS[ann.id], None, None
        if isinstance(ann, ast.Name):
            target_module, cls = module, ann.id
        elif isinstance(ann, ast.Attribute) and isinstance(ann.value, ast.Name):
            target_module, cls = ann.value.id, ann.attr
        else:
            raise SystemExit(f"extract_sdk_jobs.py: cannot read the annotation {ast.unparse(ann)}")
        if target_module not in self.modules or cls not in self.modules[target_module].classes:
            return cls, None, None  # Duration, Timestamp: opaque (make_schema.py sends them as strings)
        if self.modules[target_module].is_enum(cls):
            name = type_name(target_module, cls)
            return f"string(enum {name})", name, self.modules[target_module].enum_values(cls)
        self.queue.append((target_module, cls))
        return type_name(target_module, cls), None, None

    def field(self, name: str, ann: ast.expr, module: str, required: bool, note: str) -> dict[str, Any]:
        wire, _, values = self.wire(ann, module)
        entry: dict[str, Any] = {"name": name, "type": wire, "required": required}
        if values is not None:
            entry["enum"] = values
        entry["note"] = note
        return entry

    def dataclass(self, module: str, cls: str) -> None:
        name = type_name(module, cls)
        if name in self.types:
            return
        node = self.modules[module].classes[cls]
        self.types[name] = []  # placeholder: a type that holds itself is read once
        keys = wire_keys(node)
        fields = []
        for i, stmt in enumerate(node.body):
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                attr = stmt.target.id
                note = docstring_after(node.body, i)
                fields.append(self.field(keys.get(attr, attr), stmt.annotation, module, stmt.value is None, note))
        self.types[name] = fields

    def create_job(self) -> None:
        """CreateJob: the keyword parameters of JobsAPI.create, with the notes of the same JobSettings fields."""
        api = self.modules["jobs"].classes["JobsAPI"]
        create = next(f for f in api.body if isinstance(f, ast.FunctionDef) and f.name == "create")
        docs = ast.get_docstring(create) or ""
        settings = {f["name"]: f["note"] for f in self.types["JobSettings"]}
        fields = []
        for arg, default in zip(create.args.kwonlyargs, create.args.kw_defaults, strict=True):
            assert arg.annotation is not None
            note = settings.get(arg.arg) or param_doc(docs, arg.arg)
            fields.append(self.field(arg.arg, arg.annotation, "jobs", default is None, note))
        self.types["CreateJob"] = fields

    def run(self) -> dict[str, list[dict[str, Any]]]:
        self.dataclass("jobs", "JobSettings")
        self.create_job()
        while self.queue:
            self.dataclass(*self.queue.pop(0))
        return {name: self.types[name] for name in [*ROOTS, *sorted(set(self.types) - set(ROOTS))]}


def param_doc(docs: str, name: str) -> str:
    """The text of ``:param name: type`` in a method docstring."""
    m = re.search(rf":param {name}: [^\n]*\n((?:\s{{2,}}[^\n]*\n?)*)", docs)
    return re.sub(r"\s+", " ", m.group(1)).strip() if m else ""


def sdk_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("databricks.sdk")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("databricks-sdk is not installed (pip install databricks-sdk); or pass --sdk DIR")
    return Path(next(iter(spec.submodule_search_locations)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--sdk", type=Path, help="the databricks/sdk directory (default: the installed one)")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the field list")
    args = parser.parse_args(argv)
    sdk = args.sdk or sdk_dir()
    version = re.search(r'__version__ = "([^"]+)"', (sdk / "version.py").read_text(encoding="utf-8"))
    jobs = Module("jobs", sdk / "service" / "jobs.py")
    compute = Module("compute", sdk / "service" / "compute.py")
    types = Extractor(jobs, compute).run()
    args.out.write_bytes((json.dumps(types, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    print(f"{args.out}: {len(types)} types, {sum(len(v) for v in types.values())} fields", file=sys.stderr)
    print(f"databricks-sdk {version.group(1) if version else '?'}", file=sys.stderr)
    for m in (jobs, compute):
        digest = hashlib.sha256(m.path.read_bytes()).hexdigest()
        print(f"  databricks/sdk/service/{m.path.name} sha256 {digest}", file=sys.stderr)


if __name__ == "__main__":
    main()
