"""Spec classes' ``__init__``\\ s are ordinary source: tracebacks, signatures and keyword mistakes read as Python's."""

from __future__ import annotations

import ast
import inspect
import traceback
from pathlib import Path

import pytest

import runspec
import runspec.spec
from runspec import NotebookTask, PyPI, RunSpec, Whl
from runspec.spec import ForEachTask, NewCluster
from runspec.spec.model._library import Library
from runspec.spec.objects._object import SpecObject

PACKAGE = Path(runspec.__file__).resolve().parent


def spec_classes() -> list[type[SpecObject]]:
    names = [getattr(runspec.spec, n) for n in runspec.spec.__all__]
    return [c for c in names if isinstance(c, type) and issubclass(c, SpecObject)]


def test_a_traceback_through_a_generated_init_shows_its_code() -> None:
    with pytest.raises(TypeError, match="notebook_path") as err:
        NotebookTask(123)  # type: ignore[arg-type]
    frames = traceback.extract_tb(err.value.__traceback__)
    init = [f for f in frames if f.name == "__init__"]
    assert init, [f.filename for f in frames]
    assert Path(init[0].filename).name == "_objects.py"
    assert init[0].line and "notebook_path" in init[0].line
    assert init[0].line in "".join(traceback.format_exception(err.value))


def test_foreach_task_signature_shows_its_fields() -> None:
    params = inspect.signature(ForEachTask).parameters
    assert list(params) == ["inputs", "task", "concurrency", "extra"]
    assert params["inputs"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert params["concurrency"].kind is inspect.Parameter.KEYWORD_ONLY


def test_every_spec_class_signature_shows_its_fields_and_extra() -> None:
    classes = spec_classes()
    assert len(classes) > 90
    for cls in classes:
        if cls is Library:  # the base of the library kinds, not made itself
            continue
        params = inspect.signature(cls).parameters
        kinds = {p.kind for p in params.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, cls
        assert inspect.Parameter.VAR_POSITIONAL not in kinds, cls
        assert "_" not in params and "self" not in params, cls
        assert list(params)[-1] == "extra", cls
        assert set(params) - {"extra"} == set(cls._fields), cls
    assert list(inspect.signature(PyPI).parameters) == ["package", "repo", "extra"]
    assert list(inspect.signature(Whl).parameters) == ["path", "extra"]
    assert list(inspect.signature(RunSpec).parameters)[:3] == ["tasks", "run_name", "timeout_seconds"]


def test_new_cluster_misspelled_keyword_says_did_you_mean() -> None:
    with pytest.raises(
        TypeError,
        match=r"NewCluster\(\) got an unexpected keyword argument 'spark_verison'; "
        r"did you mean 'spark_version'\?",
    ):
        NewCluster(spark_verison="15.4.x-scala2.12")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"PyPI\(\) got an unexpected keyword argument 'rpo'; did you mean 'repo'"):
        PyPI("pandas", rpo="https://pypi.example.com")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"PyPI.__init__\(\) missing 1 required positional argument: 'package'"):
        PyPI(pakage="pandas")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="did you mean 'run_name'"):
        RunSpec(run_nme="x")  # type: ignore[call-arg]
    with pytest.raises(
        TypeError, match=r"RunSpec\(\) got an unexpected keyword argument 'job_clusters': runs/submit does not"
    ):
        RunSpec(job_clusters=[])  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'zzz'$"):
        NotebookTask("/n", zzz=1)  # type: ignore[call-arg]


def test_no_generated_source_is_compiled_at_run_time() -> None:
    """
    The model is plain committed Python: nothing under runspec/ calls exec, eval or compile, except the
    emulator's local execution, which runs the user's own notebook cells (runspec/testing/_local).
    """
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "_local":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"exec", "eval", "compile"}
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []


_NO_SCHEMA_READ = """
import sys

opened = []
sys.addaudithook(lambda event, args: opened.append(args[0]) if event == "open" else None)

from runspec import NotebookTask, PyPI, Run, RunSpec, submit
from runspec.spec import NewCluster
from runspec.spec.jobs import run_to_job
from runspec.testing import Emulator

spec = (
    Run("r")
    .cluster("c", NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1))
    .task(NotebookTask("/n"), key="a", libraries=[PyPI("pandas")])
    .compile()
)
RunSpec.from_json(spec.to_json())
run_to_job(spec)
with Emulator(token="t") as emu:
    handle = submit(spec, host=emu.url, token="t")
    emu.run(handle.run_id)
print([str(p) for p in opened if str(p).endswith("schema.json")])
"""


def test_no_schema_json_is_read_at_run_time() -> None:
    """Building, checking, loading, converting and emulating a run read the model from code, not schema.json."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    out = subprocess.run([sys.executable, "-c", _NO_SCHEMA_READ], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


_CLASSES_WITHOUT_SCHEMA = """
import sys

from runspec import NotebookTask, PyPI, RunSpec, SubmitTask
from runspec.spec import NewCluster

task = SubmitTask(
    task_key="a",
    notebook_task=NotebookTask("/n", source="GIT"),
    new_cluster=NewCluster(spark_version="15.4.x-scala2.12", num_workers=1),
    libraries=[PyPI("pandas")],
)
assert NotebookTask.from_dict({"notebook_path": "/n", "source": "WORKSPACE"}).source == "WORKSPACE"
assert [c._fields and c._schema for c in (NotebookTask, PyPI, RunSpec, SubmitTask, NewCluster)]
print("runspec.spec.schema._schema_data" in sys.modules)
"""


def test_spec_classes_take_their_field_tables_from_their_own_source() -> None:
    """Making, converting and loading objects of every kind sets their classes up without the schema data."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    out = subprocess.run(
        [sys.executable, "-c", _CLASSES_WITHOUT_SCHEMA], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
