"""
What docs/local.md promises for a run's own code, case by case: ``%sh`` cells, ``%run`` of an absolute
workspace path (mapped with ``--path`` / ``LocalCode(paths=)``, or found under the root), and a task that
imports ``pyspark`` where it is not installed.
"""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from typing import Any

from runspec.cli import main
from runspec.testing import Emulator, LocalCode

HEADER = "# Databricks notebook source\n"
CELL = "\n# COMMAND ----------\n\n"


def notebook(*cells: str) -> str:
    return HEADER + CELL.join(cells)


def sh(*lines: str) -> str:
    return "# MAGIC %sh\n" + "".join(f"# MAGIC {line}\n" for line in lines)


def notebook_task(key: str, path: str) -> dict[str, Any]:
    return {"task_key": key, "notebook_task": {"notebook_path": path}, "existing_cluster_id": "c"}


def finished(emulator: Emulator, body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each task of the run (submitted to ``emulator`` and waited for) by key, with its output."""
    from runspec.testing import Request

    headers = {"Authorization": f"Bearer {emulator.token}"}
    sent = Request("POST", "/api/2.2/jobs/runs/submit", headers=headers, body=json.dumps(body).encode())
    answer = emulator.handle(sent)
    run = emulator.wait(json.loads(answer.body)["run_id"], timeout=60)
    assert run is not None
    tasks: dict[str, dict[str, Any]] = {}
    for task in run["tasks"]:
        got = emulator.handle(Request("GET", "/api/2.2/jobs/runs/get-output", {"run_id": str(task["run_id"])}, headers))
        tasks[task["task_key"]] = {**task, "output": json.loads(got.body)}
    return tasks


def test_sh_cells_run_in_the_notebooks_folder_and_a_failing_one_fails_the_task(tmp_path: Path) -> None:
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "shell.py").write_text(
        notebook(
            "open('order.txt', 'w').write('python ')\n",
            sh('printf "sh in $(basename "$PWD") " >> order.txt', "echo to stderr >&2"),
            "dbutils.notebook.exit(open('order.txt').read() + 'python again')\n",
        )
    )
    (tmp_path / "nb" / "failing.py").write_text(
        notebook("print('first')\n", sh("echo about to fail", "exit 3"), "open('never.txt', 'w').write('ran')\n")
    )
    body = {
        "run_name": "sh",
        "tasks": [notebook_task("shell", "/nb/shell"), notebook_task("failing", "/nb/failing")],
    }
    with Emulator(code=LocalCode(tmp_path)) as emulator:
        tasks = finished(emulator, body)
    assert tasks["shell"]["state"]["result_state"] == "SUCCESS"
    assert tasks["shell"]["output"]["notebook_output"]["result"] == "python sh in nb python again"
    assert tasks["failing"]["state"]["result_state"] == "FAILED"
    assert tasks["failing"]["output"]["error"] == "RuntimeError: failing.py, cell 2: the %sh cell exited with code 3"
    assert not (tmp_path / "nb" / "never.txt").exists()  # the cells after it did not run


def lib_and_notebook(root: Path, run_line: str) -> None:
    (root / "lib").mkdir(parents=True, exist_ok=True)
    (root / "lib" / "helpers.py").write_text(notebook("def tenfold(x):\n    return x * 10\n"))
    (root / "jobs").mkdir(exist_ok=True)
    (root / "jobs" / "main.py").write_text(
        notebook(f"# MAGIC %run {run_line}\n", "dbutils.notebook.exit(f'tenfold: {tenfold(4)}')\n")
    )


def test_an_absolute_run_path_is_mapped_by_path_on_the_command_line(tmp_path: Path) -> None:
    lib_and_notebook(tmp_path, "/Workspace/Shared/lib/helpers")
    # A workspace names /Shared/x and /Workspace/Shared/x both: a mapping written one way maps the other.
    (tmp_path / "jobs" / "alias.py").write_text(
        notebook("# MAGIC %run /Shared/lib/helpers\n", "dbutils.notebook.exit(f'alias: {tenfold(5)}')\n")
    )
    spec = tmp_path / "run.json"
    tasks = [
        notebook_task("main", "/Workspace/Shared/jobs/main"),
        notebook_task("alias", "/Workspace/Shared/jobs/alias"),
    ]
    spec.write_text(json.dumps({"run_name": "run", "tasks": tasks}))
    out, err = io.StringIO(), io.StringIO()
    argv = ["submit", str(spec), "--local", str(tmp_path), "--path", "/Workspace/Shared/lib=lib"]
    argv += ["--path", "/Shared/jobs=jobs", "--wait", "--poll-interval", "0.1"]
    code = main(argv, stdout=out, stderr=err, env={"HOME": str(tmp_path), "NO_COLOR": "1"})
    assert code == 0, out.getvalue() + err.getvalue()
    assert "outputs:\n  main   tenfold: 40\n  alias  alias: 50\n" in out.getvalue()


def test_an_absolute_run_path_is_found_under_the_root_or_says_which_mapping_to_add(tmp_path: Path) -> None:
    found, missing = tmp_path / "found", tmp_path / "missing"
    lib_and_notebook(found / "Shared", "/Workspace/Shared/lib/helpers")  # ROOT/Shared/lib/helpers.py
    lib_and_notebook(missing, "/Workspace/Shared/gone/helpers")
    body = {"run_name": "run", "tasks": [notebook_task("main", "/Shared/jobs/main")]}
    with Emulator(code=LocalCode(found)) as emulator:
        assert finished(emulator, body)["main"]["output"]["notebook_output"]["result"] == "tenfold: 40"
    body = {"run_name": "run", "tasks": [notebook_task("main", "/jobs/main")]}
    with Emulator(code=LocalCode(missing)) as emulator:
        failed = finished(emulator, body)["main"]
    assert failed["state"]["result_state"] == "FAILED"
    assert failed["output"]["error"].startswith(
        "FileNotFoundError: %run /Workspace/Shared/gone/helpers: map its folder with "
        "--path /Workspace/Shared/gone=DIR (LocalCode(paths={'/Workspace/Shared/gone': 'DIR'}))"
    )


def test_a_task_that_imports_pyspark_without_it_fails_saying_how_to_get_it(tmp_path: Path) -> None:
    (tmp_path / "job.py").write_text("from pyspark.sql import SparkSession\nprint('spark is here')\n")
    body = {
        "run_name": "spark",
        "tasks": [{"task_key": "job", "spark_python_task": {"python_file": "/job.py"}, "existing_cluster_id": "c"}],
    }
    with Emulator(code=LocalCode(tmp_path)) as emulator:
        task = finished(emulator, body)["job"]
    if importlib.util.find_spec("pyspark") is not None:  # installed: the import works, as docs/local.md says
        assert task["state"]["result_state"] == "SUCCESS"
        assert "spark is here" in task["output"]["logs"]
        return
    assert task["state"]["result_state"] == "FAILED"
    error = task["output"]["error"]
    assert error.startswith("ModuleNotFoundError: No module named 'pyspark'")
    assert "pip install pyspark" in error and "script this task's outcome" in error
    assert 'File "' + str(tmp_path / "job.py") + '", line 1' in task["output"]["error_trace"]
