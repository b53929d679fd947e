"""
The process of one task run: runs the task's own code with the ``dbutils`` stand-in, then writes what
happened (exit value, task values, error and traceback) as JSON for the emulator.

Started as ``python _child.py`` with ``RUNSPEC_LOCAL_TASK`` naming the task's JSON file. It loads its
sibling modules by path, so a task does not pay for importing runspec (the user's code still can:
``from runspec.testing.dbutils import dbutils`` finds the stand-in already loaded).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import linecache
import os
import re
import runpy
import sys
import traceback
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

_HERE = Path(__file__).resolve().parent
_OWN_FILES = {str(Path(__file__).resolve()), runpy.__file__, "<frozen runpy>"}


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_dbutils_module = _load("runspec.testing.dbutils", _HERE.parent / "dbutils.py")
_notebook = _load("runspec.testing._local._notebook", _HERE / "_notebook.py")
_code = _load("runspec.testing._local._code", _HERE / "_code.py")


class Unsupported(Exception):
    """A cell or task the emulator cannot run locally."""


class _NoSpark:
    """``spark`` without pyspark: says so on first use."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            "spark is not available: the runspec emulator runs code with local Python, and pyspark is not "
            "installed (pip install pyspark gives notebooks a local SparkSession)"
        )

    def __repr__(self) -> str:
        return "<spark: not available (pyspark is not installed)>"


class _LazySpark:
    """A local ``SparkSession``, started on first use."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._session: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._session is None:
            from pyspark.sql import SparkSession  # type: ignore[import-not-found]

            self._session = SparkSession.builder.master("local[*]").appName(self._name).getOrCreate()
        return getattr(self._session, attr)


def _spark(task: dict[str, Any]) -> Any:
    return _LazySpark(str(task.get("task_key"))) if importlib.util.find_spec("pyspark") else _NoSpark()


def _display(value: Any = None, *args: Any, **kwargs: Any) -> None:
    show = getattr(value, "show", None)
    if callable(show) and type(value).__module__.startswith("pyspark"):
        show()
    else:
        print(value)


def _warn(message: str) -> None:
    print(f"runspec emulator: {message}", file=sys.stderr, flush=True)


# -- notebooks --------------------------------------------------------------------------------------


def _run_notebook(file: Path, namespace: dict[str, Any], task: dict[str, Any], depth: int = 0) -> None:
    if depth > 20:
        raise Unsupported(f"%run nests more than 20 notebooks deep (at {file})")
    for cell in _notebook.read_cells(file):
        where = f"{file.name}, cell {cell.number}"
        if cell.kind == "python":
            name = str(file) if file.suffix == ".py" else f"{file} (cell {cell.number})"
            if file.suffix != ".py":
                lines = cell.source.splitlines(keepends=True)
                linecache.cache[name] = (len(cell.source), None, lines, name)
            exec(compile(cell.source, name, "exec"), namespace)
        elif cell.kind == "run":
            _run_notebook(_run_target(file, cell.source, task), namespace, task, depth + 1)
        elif cell.kind == "md":
            continue
        elif cell.kind in ("pip", "conda"):
            _warn(
                f"{where}: %{cell.kind} skipped; install the packages into the Python environment that runs the "
                "emulator instead"
            )
        elif cell.kind == "sh":
            import subprocess

            sys.stdout.flush()
            sys.stderr.flush()
            done = subprocess.run(["/bin/sh", "-c", cell.source], check=False)
            if done.returncode != 0:
                raise RuntimeError(f"{where}: the %sh cell exited with code {done.returncode}")
        else:
            raise Unsupported(
                f"{where} is a %{cell.kind} cell: the runspec emulator runs Python cells only (no cluster, no SQL "
                "warehouse); run SQL through spark.sql(...) with pyspark installed, or script this task's outcome"
            )


def _run_target(file: Path, target: str, task: dict[str, Any]) -> Path:
    target = target.strip().strip("\"'")
    if target.startswith(("./", "../")):
        base = (file.parent / target).resolve()
        for option in (base, base.with_name(base.name + ".py"), base.with_name(base.name + ".ipynb")):
            if option.is_file():
                return option
        raise FileNotFoundError(f"%run {target}: no notebook at {base}.py or {base}.ipynb (relative to {file})")
    code = task.get("code") or {}
    located = _code.LocalCode(code.get("root", "."), paths=code.get("paths")).locate(target, notebook=True)
    if located.file is None:
        raise FileNotFoundError(f"%run {target}: {located.hint()}")
    return located.file  # type: ignore[no-any-return]


# -- python files and wheels ------------------------------------------------------------------------


def _run_file(file: Path, argv: list[str]) -> None:
    sys.argv = [str(file), *argv]
    sys.path.insert(0, str(file.parent))
    runpy.run_path(str(file), run_name="__main__")


def _run_wheel(task: dict[str, Any]) -> None:
    package, entry = str(task["package"]), str(task["entry_point"])
    sys.path.insert(0, os.getcwd())  # a package in the code's root is importable, as an installed one is
    for wheel in reversed(task.get("wheels") or []):
        sys.path.insert(0, wheel)
    sys.argv = [package, *task.get("argv", [])]
    import importlib.metadata  # only wheels need it (it takes a tenth of a second to import)

    wanted = re.sub(r"[-_.]+", "-", package).lower()
    for dist in importlib.metadata.distributions():
        if re.sub(r"[-_.]+", "-", dist.metadata["Name"] or "").lower() != wanted:
            continue
        for point in dist.entry_points:
            if point.name == entry:
                point.load()()
                return
    module = importlib.import_module(package.replace("-", "_"))
    function = getattr(module, entry, None)
    if not callable(function):
        raise Unsupported(
            f"python_wheel_task: package {package!r} has no entry point {entry!r} (in its metadata or as "
            f"{package}.{entry}); install it into the emulator's environment or list its wheel in the task's libraries"
        )
    function()


# -- the task ---------------------------------------------------------------------------------------


def _trace(exc: BaseException) -> str:
    """The traceback of ``exc`` without the frames of this runner."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in _OWN_FILES:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _describe(exc: BaseException) -> str:
    text = str(exc)
    said = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] == "pyspark":
        said += (
            ": the runspec emulator runs tasks with local Python, where pyspark is not installed (pip install "
            "pyspark there for a local Spark), or script this task's outcome"
        )
    return said


def main() -> int:
    with open(os.environ[_dbutils_module.TASK_FILE_ENV], encoding="utf-8") as handle:
        task: dict[str, Any] = json.load(handle)
    dbutils = _dbutils_module.dbutils
    result: dict[str, Any] = {"status": "success", "exit": None}
    try:
        kind = task["kind"]
        if kind == "notebook":
            namespace: dict[str, Any] = {
                "__name__": "__main__",
                "dbutils": dbutils,
                "spark": _spark(task),
                "display": _display,
                "displayHTML": print,
            }
            file = Path(task["file"])
            sys.argv = [str(file)]
            sys.path.insert(0, str(file.parent))
            _run_notebook(file, namespace, task)
        elif kind == "python":
            _run_file(Path(task["file"]), list(task.get("argv", [])))
        else:
            _run_wheel(task)
    except _dbutils_module.NotebookExit as done:
        result["exit"] = done.value
    except SystemExit as exc:
        if exc.code not in (None, 0):
            result.update(status="failed", error=f"SystemExit: {exc.code}", trace=_trace(exc))
    except BaseException as exc:
        trace = _trace(exc)
        sys.stdout.flush()
        print(trace, file=sys.stderr, end="", flush=True)
        result.update(status="failed", error=_describe(exc), trace=trace)
    result["values"] = dbutils.jobs.taskValues.values
    sys.stdout.flush()
    sys.stderr.flush()
    with open(task["result_file"], "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0 if result["status"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
