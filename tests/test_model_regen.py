"""The generated model (schema.json, _objects.py) is what the tools make from the committed API description."""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
SPEC = ROOT / "runspec" / "spec"
#: Where each generated file is committed: the model's classes, and the schema they are made from.
COMMITTED = {
    "schema.json": SPEC / "schema" / "schema.json",
    "_objects.py": SPEC / "model" / "_objects.py",
    "_job_objects.py": SPEC / "model" / "_job_objects.py",
    "_inits.py": SPEC / "model" / "_inits.py",
    "_run_inits.py": SPEC / "model" / "_run_inits.py",
    "_schema_data.py": SPEC / "schema" / "_schema_data.py",
    "_class_checks.py": SPEC / "checks" / "_class_checks.py",
}
REFRESH = "python tools/make_schema.py && python tools/gen_spec.py"


def tool(name: str) -> ModuleType:
    """Import a module of tools/ (not a package: its scripts import each other by file name)."""
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    spec = importlib.util.spec_from_file_location(f"_tools_{name}", TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(script: str, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, str(TOOLS / script), *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model")
    run_tool("make_schema.py", "--out", str(out / "schema.json"))
    run_tool(
        "gen_spec.py",
        "--schema",
        str(out / "schema.json"),
        "--out",
        str(out / "_objects.py"),
        "--jobs-out",
        str(out / "_job_objects.py"),
        "--inits-out",
        str(out / "_inits.py"),
        "--run-inits-out",
        str(out / "_run_inits.py"),
        "--schema-out",
        str(out / "_schema_data.py"),
        "--checks-out",
        str(out / "_class_checks.py"),
    )
    return out


GENERATED = ["_objects.py", "_job_objects.py", "_inits.py", "_run_inits.py", "_schema_data.py", "_class_checks.py"]


@pytest.mark.parametrize("name", ["schema.json", *GENERATED])
def test_committed_model_is_what_the_tools_make(regenerated: Path, name: str) -> None:
    made = (regenerated / name).read_bytes()
    committed = COMMITTED[name].read_bytes()
    if made != committed:
        made_lines = made.decode().splitlines()
        committed_lines = committed.decode().splitlines()
        first = next(
            (i for i, (a, b) in enumerate(zip(made_lines, committed_lines, strict=False)) if a != b),
            min(len(made_lines), len(committed_lines)),
        )
        pytest.fail(
            f"{COMMITTED[name].relative_to(ROOT)} differs from what the tools make from tools/api/ "
            f"(first at line {first + 1}).\n"
            f"Edit the generator, not the generated file, then run: {REFRESH}"
        )


@pytest.mark.parametrize("name", GENERATED)
def test_generated_code_passes_the_linters_as_generated(regenerated: Path, name: str) -> None:
    if shutil.which("ruff") is None and importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is part of the test extra; install it to check the generated code")
    ruff = [sys.executable, "-m", "ruff"] if importlib.util.find_spec("ruff") else ["ruff"]
    target = str(regenerated / name)
    config = ["--config", str(ROOT / "ruff.toml")]
    for command in (["check", "--no-cache", *config, target], ["format", "--check", "--no-cache", *config, target]):
        result = subprocess.run([*ruff, *command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"ruff {command[0]} on the generated code:\n{result.stdout}{result.stderr}"


def test_source_is_pinned() -> None:
    pins = json.loads((TOOLS / "api" / "sources.json").read_text(encoding="utf-8"))
    for name, pin in pins.items():
        digest = hashlib.sha256((TOOLS / "api" / name).read_bytes()).hexdigest()
        assert digest == pin["sha256"], f"tools/api/{name} changed: record its new sha256 in tools/api/sources.json"
        assert pin["pinned"] and pin["made_from"], f"tools/api/sources.json: say when and from what {name} was made"


def test_a_changed_source_is_refused_until_pinned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api_source = tool("api_source")
    changed = tmp_path / "runs_submit_fields.json"
    changed.write_bytes(api_source.RUNS_SUBMIT.read_bytes().replace(b'"task_key"', b'"task_name"', 1))
    with pytest.raises(SystemExit, match=r"sha256 .* but tools/api/sources.json pins"):
        api_source.load(changed)
    unlisted = tmp_path / "pipelines_fields.json"
    unlisted.write_text("{}")
    with pytest.raises(SystemExit, match="not listed"):
        api_source.load(unlisted)


def field_docstrings(path: Path) -> dict[tuple[str, str], str | None]:
    """(class, field) -> the string literal right after the field's annotation, or None."""
    out: dict[tuple[str, str], str | None] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id != "_":
                after = body[i + 1] if i + 1 < len(body) else None
                doc = None
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                    doc = str(after.value.value)
                out[(node.name, stmt.target.id)] = doc
    return out


def test_every_field_has_its_api_description_as_docstring() -> None:
    docs = {**field_docstrings(COMMITTED["_objects.py"]), **field_docstrings(COMMITTED["_job_objects.py"])}
    missing = [key for key, doc in docs.items() if not doc]
    assert missing == []
    assert docs[("NotebookTask", "notebook_path")] == (
        "The path of the notebook to be run in the Databricks workspace or remote repository."
    )
    assert docs[("NewCluster", "num_workers")] == "Number of worker nodes that this cluster should have."
    # A launch stage stays; the field list's bookkeeping ("in SDK since v0.83.0", "per CLI schema") goes.
    assert docs[("SubmitTask", "compute")] == "[Beta] Task level compute configuration."
    # Job-side fields take the SDK's docstrings; a job's task the notes of the runs/submit Task.
    assert (
        docs[("JobSettings", "max_concurrent_runs")]
        == "An optional maximum allowed number of concurrent runs of the job."
    )
    assert docs[("JobTask", "task_key")] == docs[("Task", "task_key")] == "A unique name for the task."
    for key, doc in docs.items():
        assert doc is not None
        assert "SDK" not in doc and "CLI schema" not in doc, (key, doc)
        assert doc.isascii(), (key, doc)


@pytest.mark.parametrize("module", ["runspec.spec.model._objects", "runspec.spec.model._job_objects"])
def test_every_class_has_a_one_line_docstring(module: str) -> None:
    objects = importlib.import_module(module)
    for name in objects.__all__:
        doc = getattr(objects, name).__doc__
        assert doc and "\n" not in doc.strip(), name


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (
            "An optional name for the run. The default value is `Untitled`. (in SDK since v0.0.1, 2022-12-17)",
            ("", "An optional name for the run."),
        ),
        (
            "[Public Preview] The task runs a workload. (in SDK since v0.119.0, 2026-06-24)",
            ("[Public Preview] ", "The task runs a workload."),
        ),
        ("(in SDK since v0.2.0, 2023-07-18)", ("", "")),
        ("name of the group Set exactly one of user_name/group_name.", ("", "Name of the group.")),
        (
            "The user specified id. If not specified, none. (in SDK since v0.35.0, 2024-10-17) "
            "[Public Preview per CLI schema for jobs]",
            ("", "The user specified id."),
        ),
        (
            'Destination needs to be provided. e.g. `{ "dbfs" : {} }` Exactly one destination.',
            ("", "Destination needs to be provided."),
        ),
        (
            "The Spark version of the cluster, e.g. `3.3.x-scala2.11`. A list is available.",
            ("", "The Spark version of the cluster, e.g. `3.3.x-scala2.11`."),
        ),
        (
            "Runs a `clean rooms <https://docs.databricks.com/clean-rooms/index.html>`__ notebook",
            ("", "Runs a clean rooms notebook."),
        ),
        ("Checks the state \u2019quoted\u2019 \u2014 well.", ("", "Checks the state 'quoted' - well.")),
    ],
)
def test_notes_become_one_line_descriptions(note: str, expected: tuple[str, str]) -> None:
    assert tool("api_source").describe(note) == expected


def test_each_class_field_table_says_what_the_schema_says() -> None:
    """The literal table gen_spec.py writes into each class reads as the schema's fields: types, enums, rejections."""
    import runspec.spec.jobs  # noqa: F401 - registers the job-side classes
    from runspec.spec.objects._convert import REGISTRY
    from runspec.spec.schema._schema import schema_fields

    tabled = {wire: cls for wire, cls in REGISTRY.items() if cls.__dict__.get("_table") is not None}
    assert {
        "NotebookTask",
        "SubmitTask",
        "ClusterSpec",
        "RunsSubmitRequest",
        "PythonPyPiLibrary",
        "JobSettings",
    } <= set(tabled)
    for wire, cls in tabled.items():
        ours, theirs = cls._schema, schema_fields(wire)
        assert list(ours) == list(theirs), wire
        for name, info in ours.items():
            want = theirs[name]
            got = (info.desc, info.required, info.enum, type(info.enum), info.rejected)
            assert got == (want.desc, want.required, want.enum, type(want.enum), want.rejected), f"{wire}.{name}"
