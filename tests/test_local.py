"""The emulator runs a run's own code: processes, kills, truncation, redaction, missing files, the SDK."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest

from runspec.testing import DEFAULT_TOKEN, Emulator, LocalCode, ManualClock, Outcome, Request
from runspec.testing._local._notebook import read_cells
from runspec.testing.dbutils import DBUtils, NotebookExit
from tests.support import run_cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "local_etl"
AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def call(emulator: Emulator, method: str, endpoint: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    response = emulator.handle(Request(method, f"/api/2.2/jobs/{endpoint}", headers=AUTH, body=raw))
    return json.loads(response.body)


def task_of(emulator: Emulator, run_id: int, key: str) -> dict[str, Any]:
    return next(t for t in emulator.run(run_id)["tasks"] if t["task_key"] == key)


def gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if Path("/proc/self/status").exists():
        try:
            return "\nState:\tZ" in status.read_text()  # a zombie has ended; only its parent's wait() is left
        except FileNotFoundError:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _state(pid: int) -> str:
    """The ``State:`` line of a process, for a failure's message."""
    try:
        return next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State"))
    except (OSError, StopIteration):
        return "gone"


def python_task(key: str, file: str, **extra: Any) -> dict[str, Any]:
    return {"task_key": key, "spark_python_task": {"python_file": file}, "existing_cluster_id": "c", **extra}


def test_the_example_project_runs_through_runspec_and_reads_back() -> None:
    sys.path.insert(0, str(EXAMPLE))
    try:
        from examples.local_etl.test_pipeline import CODE, check_orders_run
    finally:
        sys.path.remove(str(EXAMPLE))
    with Emulator(code=CODE) as emulator:
        check_orders_run(emulator)


def test_cancel_and_timeout_kill_the_task_processes_and_what_they_started(tmp_path: Path) -> None:
    (tmp_path / "sleeper.py").write_text(
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "open(sys.argv[1], 'w').write(f'{os.getpid()} {child.pid}')\n"
        "time.sleep(60)\n"
    )
    body = {
        "run_name": "kills",
        "tasks": [
            {**python_task("slow", "/sleeper.py"), "timeout_seconds": 1},
            python_task("hangs", "/sleeper.py"),
        ],
    }
    body["tasks"][0]["spark_python_task"]["parameters"] = [str(tmp_path / "slow.pid")]
    body["tasks"][1]["spark_python_task"]["parameters"] = [str(tmp_path / "hangs.pid")]
    timed = {"run_name": "run-timeout", "timeout_seconds": 1, "tasks": [python_task("long", "/sleeper.py")]}
    timed["tasks"][0]["spark_python_task"]["parameters"] = [str(tmp_path / "long.pid")]
    with Emulator(code=LocalCode(tmp_path)) as emulator:
        run_id = call(emulator, "POST", "runs/submit", body)["run_id"]
        timed_id = call(emulator, "POST", "runs/submit", timed)["run_id"]
        deadline = time.monotonic() + 20
        while task_of(emulator, run_id, "slow")["state"].get("result_state") is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        slow = task_of(emulator, run_id, "slow")
        assert slow["state"]["result_state"] == "TIMEDOUT"
        assert "Timed out after 1 seconds" in slow["state"]["state_message"]
        while not (tmp_path / "hangs.pid").exists() or not (tmp_path / "hangs.pid").read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert task_of(emulator, run_id, "hangs")["state"]["life_cycle_state"] == "RUNNING"
        call(emulator, "POST", "runs/cancel", {"run_id": run_id})
        finished = emulator.wait(run_id, timeout=10)
        assert finished is not None
        assert finished["state"]["result_state"] == "CANCELED"
        assert task_of(emulator, run_id, "hangs")["state"]["result_state"] == "CANCELED"
        ended = emulator.wait(timed_id, timeout=10)
        assert ended is not None
        assert ended["state"]["result_state"] == "TIMEDOUT"
        assert task_of(emulator, timed_id, "long")["state"]["result_state"] == "TIMEDOUT"
        names = ("slow", "hangs", "long")
        pids = [int(p) for name in names for p in (tmp_path / f"{name}.pid").read_text().split()]
        # A killed process ends when the kernel next schedules it: on a loaded machine, a moment later.
        until = time.monotonic() + 10
        while not all(gone(pid) for pid in pids) and time.monotonic() < until:
            time.sleep(0.05)
        assert all(gone(pid) for pid in pids), {pid: _state(pid) for pid in pids}


def test_twenty_megabytes_of_logs_are_cut_and_secrets_never_show(tmp_path: Path) -> None:
    (tmp_path / "loud.py").write_text(
        "from runspec.testing.dbutils import dbutils\n"
        "secret = dbutils.secrets.get('prod', 'password')\n"
        "print('the password is', secret)\n"
        "for _ in range(20):\n"
        "    print('x' * (1024 * 1024))\n"
        "print('last line, password', secret)\n"
        "raise RuntimeError('login failed with ' + secret)\n"
    )
    (tmp_path / "tell.py").write_text(
        "# Databricks notebook source\n"
        "try:\n"
        "    spark.range(1)\n"
        "    note = 'spark'\n"
        "except RuntimeError as exc:\n"
        "    note = 'no spark' if 'pyspark is not installed' in str(exc) else repr(exc)\n"
        "dbutils.notebook.exit(note + ' pw=' + dbutils.secrets.get('prod', 'password'))\n"
    )
    (tmp_path / "huge.py").write_text("dbutils.notebook.exit('y' * (6 * 1024 * 1024))\n")  # a plain .py notebook
    code = LocalCode(tmp_path, secrets={"prod": {"password": "hunter2-s3cret"}})
    body = {
        "run_name": "loud",
        "tasks": [
            python_task("loud", "/loud.py"),
            {"task_key": "tell", "notebook_task": {"notebook_path": "/tell"}, "existing_cluster_id": "c"},
            {"task_key": "huge", "notebook_task": {"notebook_path": "/huge"}, "existing_cluster_id": "c"},
        ],
    }
    with Emulator(code=code) as emulator:
        run_id = call(emulator, "POST", "runs/submit", body)["run_id"]
        assert emulator.wait(run_id, timeout=30) is not None
        tracemalloc.start()
        loud = call(emulator, "GET", "runs/get-output", {"run_id": task_of(emulator, run_id, "loud")["run_id"]})
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        tell = call(emulator, "GET", "runs/get-output", {"run_id": task_of(emulator, run_id, "tell")["run_id"]})
        huge = call(emulator, "GET", "runs/get-output", {"run_id": task_of(emulator, run_id, "huge")["run_id"]})
        requests = repr(emulator.requests)
    assert loud["logs_truncated"] is True
    assert len(loud["logs"].encode()) <= 5 * 1024 * 1024
    assert "last line, password [REDACTED]" in loud["logs"]
    assert loud["error"] == "RuntimeError: login failed with [REDACTED]"
    assert "login failed with [REDACTED]" in loud["error_trace"]
    spark = "spark" if importlib.util.find_spec("pyspark") else "no spark"  # without pyspark: a clear error
    assert tell["notebook_output"] == {"result": f"{spark} pw=[REDACTED]", "truncated": False}
    assert huge["notebook_output"]["truncated"] is True
    assert huge["notebook_output"]["result"] == "y" * (5 * 1024 * 1024)
    everything = json.dumps([loud, tell]) + requests
    assert "hunter2" not in everything
    assert peak < 40 * 1024 * 1024  # the 20 MB went to a file; the answer holds the last 5 MB


def test_missing_files_sql_cells_scripts_and_other_task_types(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "etl").mkdir()
    (tmp_path / "etl" / "query.py").write_text(
        "# Databricks notebook source\nx = 1\n\n# COMMAND ----------\n\n# MAGIC %sql\n# MAGIC SELECT 1\n"
    )
    body = {
        "run_name": "edges",
        "tasks": [
            {
                "task_key": "missing",
                "notebook_task": {"notebook_path": "/Repos/etl/ingest"},
                "existing_cluster_id": "c",
            },
            {"task_key": "query", "notebook_task": {"notebook_path": "/etl/query"}, "existing_cluster_id": "c"},
            {
                "task_key": "mapped",
                "spark_python_task": {"python_file": "/Repos/lib/job.py"},
                "existing_cluster_id": "c",
            },
            {"task_key": "scripted", "notebook_task": {"notebook_path": "/nowhere"}, "existing_cluster_id": "c"},
            {"task_key": "sql", "sql_task": {"warehouse_id": "w", "query": {"query_id": "q"}}},
        ],
    }
    with Emulator(code=LocalCode(tmp_path, paths={"/Repos/lib": "lib"})) as emulator:
        emulator.script("scripted", Outcome.success(result="from the script"))
        run_id = call(emulator, "POST", "runs/submit", body)["run_id"]
        assert emulator.wait(run_id, timeout=30) is not None
        keys = ("missing", "mapped", "query", "scripted", "sql")
        states = {key: task_of(emulator, run_id, key)["state"] for key in keys}
        scripted = call(emulator, "GET", "runs/get-output", {"run_id": task_of(emulator, run_id, "scripted")["run_id"]})
    message = states["missing"]["state_message"]
    assert states["missing"]["result_state"] == "FAILED"
    # The mapping to add comes first, then every file looked for: a one-line summary keeps the advice.
    assert message.startswith(
        "Task missing: no local file for the notebook /Repos/etl/ingest: map its folder with --path /Repos/etl=DIR"
    )
    assert message.index("LocalCode(paths={'/Repos/etl': 'DIR'})") < message.index(str(tmp_path / "Repos"))
    assert str(tmp_path / "Repos" / "etl" / "ingest.py") in message
    assert states["mapped"]["state_message"] == (
        "Task mapped: no local file for the Python file /Repos/lib/job.py: the prefix /Repos/lib maps it: "
        f"change that mapping (--path /Repos/lib=DIR) or put the file at {tmp_path / 'lib' / 'job.py'}"
    )
    assert states["query"]["result_state"] == "FAILED"
    assert "query.py, cell 2 is a %sql cell" in states["query"]["state_message"]
    assert states["scripted"]["result_state"] == "SUCCESS"
    assert scripted["notebook_output"]["result"] == "from the script"
    assert states["sql"]["result_state"] == "SUCCESS"
    assert "sql_task tasks do not run locally" in caplog.text


def test_submit_local_runs_the_example_and_exits_as_a_real_run() -> None:
    """The command the example's docstring gives, run as written from the example's folder."""
    import examples.local_etl.pipeline as pipeline

    documented = [line.strip() for line in (pipeline.__doc__ or "").splitlines() if "runspec submit" in line]
    assert documented, "the example's docstring says how to run it"
    command = shlex.split(documented[0].split("(from this folder)")[0])
    assert command[:2] == ["runspec", "submit"], documented[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    result = run_cli(command[1:], env=env, cwd=EXAMPLE)
    assert result.returncode == 1, result.stdout + result.stderr  # the audit task fails, so the run does
    assert "running locally: the code under" in result.stdout
    assert re.search(r"excluded\s+quiet_day", result.stdout)
    assert re.search(r"succeeded\s+transform .* 3/3 iterations done", result.stdout)
    assert 'src/audit.py", line 6, in check' in result.stdout
    assert "ValueError: 535 orders is more than the audit allows" in result.stdout


def test_a_missing_file_keeps_the_mapping_to_add_in_every_line_the_command_prints() -> None:
    """Without --path the example's notebooks are not found: each line that names the failure says what to add."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    result = run_cli(["submit", "pipeline:run", "--local", "--wait"], env=env, cwd=EXAMPLE)
    assert result.returncode == 1, result.stdout + result.stderr
    advice = "--path /Workspace/Shared/orders=DIR"
    lines = result.stdout.splitlines()
    progress = [line for line in lines if re.match(r"\s+[\d.]+s\s+ingest\s+TERMINATED", line)]
    failed = [line for line in lines if line.startswith("  ingest: TERMINATED RESOURCE_NOT_FOUND")]
    verdict = [line for line in result.stderr.splitlines() if line.startswith("runspec: error:")]
    assert len(progress) == 1 and len(failed) == 1 and len(verdict) == 1, result.stdout + result.stderr
    for line in (*progress, *failed, *verdict):
        assert advice in line, line


def test_code_options_need_their_root(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    missing = run_cli(["emulator", "--code", str(tmp_path / "nowhere")], env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert f"the code folder {tmp_path / 'nowhere'} does not exist" in missing.stderr
    alone = run_cli(["emulator", "--path", "/Repos/x=src"], env=env, cwd=tmp_path)
    assert alone.returncode == 2
    assert "use them with --code ROOT" in alone.stderr
    bad = run_cli(["emulator", "--code", ".", "--path", "nothing"], env=env, cwd=tmp_path)
    assert bad.returncode == 2
    assert "expected PREFIX=DIR" in bad.stderr


def test_python_wheel_task_and_dynamic_references(tmp_path: Path) -> None:
    package = tmp_path / "orders_tool"
    package.mkdir()
    (package / "__init__.py").write_text("import sys\ndef main():\n    print('argv', sys.argv[1:])\n")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "greeter-0.1-py3-none-any.whl", "w") as wheel:
        wheel.writestr("greeter/__init__.py", "import sys\ndef hello():\n    print('hello', sys.argv[1:])\n")
        wheel.writestr("greeter-0.1.dist-info/METADATA", "Metadata-Version: 2.1\nName: greeter\nVersion: 0.1\n")
        wheel.writestr("greeter-0.1.dist-info/entry_points.txt", "[console_scripts]\ngreet = greeter:hello\n")
    (tmp_path / "flaky.py").write_text(
        "import os, sys\n"
        "marker = os.path.join(os.path.dirname(__file__), 'tried')\n"
        "if not os.path.exists(marker):\n"
        "    open(marker, 'w').close()\n"
        "    sys.exit(3)\n"
        "print('second time lucky')\n"
    )
    body = {
        "run_name": "wheel",
        "tasks": [
            {
                "task_key": "tool",
                "existing_cluster_id": "c",
                "python_wheel_task": {
                    "package_name": "orders_tool",
                    "entry_point": "main",
                    "named_parameters": {
                        "run": "{{job.run_id}}",
                        "task": "{{task.name}}",
                        "day": "{{job.start_time.iso_date}}",
                    },
                },
            },
            {**python_task("flaky", "/flaky.py"), "max_retries": 1},
            {
                "task_key": "greet",
                "existing_cluster_id": "c",
                "libraries": [{"whl": "dbfs:/wheels/greeter-0.1-py3-none-any.whl"}],
                "python_wheel_task": {"package_name": "greeter", "entry_point": "greet", "parameters": ["a", "b"]},
            },
        ],
    }
    with Emulator(code=LocalCode(tmp_path), clock=ManualClock()) as emulator:
        run_id = call(emulator, "POST", "runs/submit", body)["run_id"]
        finished = emulator.wait(run_id, timeout=30)  # a manual clock too waits for the code
        out = call(emulator, "GET", "runs/get-output", {"run_id": task_of(emulator, run_id, "tool")["run_id"]})
        flaky = [t for t in emulator.run(run_id)["tasks"] if t["task_key"] == "flaky"]
        second = call(emulator, "GET", "runs/get-output", {"run_id": flaky[-1]["run_id"]})
        greet = call(emulator, "GET", "runs/get-output", {"run_id": task_of(emulator, run_id, "greet")["run_id"]})
    assert finished is not None and finished["state"]["result_state"] == "SUCCESS"
    assert out["logs"] == f"argv ['--run={run_id}', '--task=tool', '--day=2026-01-01']\n"
    assert [t["state"]["result_state"] for t in flaky] == ["FAILED", "SUCCESS"]
    assert flaky[0]["state"]["state_message"] == "SystemExit: 3"
    assert second["logs"] == "second time lucky\n"
    assert greet["logs"] == "hello ['a', 'b']\n"  # the entry point of a local wheel's metadata


def test_notebook_cells_in_the_source_format_and_ipynb(tmp_path: Path) -> None:
    source = tmp_path / "n.py"
    source.write_text(
        "# Databricks notebook source\nx = 1\n\n# COMMAND ----------\n\n# MAGIC %run ./other\n\n"
        "# COMMAND ----------\n\n# MAGIC %md\n# MAGIC # Title\n\n# COMMAND ----------\n\n# MAGIC %pip install x\n"
    )
    cells = read_cells(source)
    assert [(c.kind, c.source.strip(), c.number) for c in cells] == [
        ("python", "x = 1", 1),
        ("run", "./other", 2),
        ("md", "# Title", 3),
        ("pip", "install x", 4),
    ]
    assert cells[0].source.count("\n") >= 1  # padded: tracebacks name the file's own line numbers
    notebook = tmp_path / "n.ipynb"
    notebook.write_text(
        json.dumps(
            {"cells": [{"cell_type": "markdown", "source": ["# T"]}, {"cell_type": "code", "source": ["y = 2"]}]}
        )
    )
    assert [(c.kind, c.source) for c in read_cells(notebook)] == [("python", "y = 2")]


def test_dbutils_stand_in(tmp_path: Path) -> None:
    task = {
        "widgets": {"day": "2026-12-06"},
        "tasks": ["ingest", "me"],
        "values": {"ingest": {"rows": 5}},
        "fs_root": str(tmp_path / "fs"),
        "code": {"secrets": {"s": {"k": "v"}}},
    }
    dbutils = DBUtils(task)
    dbutils.widgets.text("limit", "10")
    assert dbutils.widgets.get("day") == "2026-12-06"
    assert dbutils.widgets.getAll() == {"limit": "10", "day": "2026-12-06"}
    with pytest.raises(ValueError, match="InputWidgetNotDefined"):
        dbutils.widgets.get("nope")
    assert dbutils.jobs.taskValues.get("ingest", "rows") == 5
    assert dbutils.jobs.taskValues.get("ingest", "other", default=0) == 0
    with pytest.raises(ValueError, match="no task 'elsewhere'"):
        dbutils.jobs.taskValues.get("elsewhere", "rows")
    with pytest.raises(ValueError, match="48 KiB"):
        dbutils.jobs.taskValues.set("big", "x" * 50_000)
    with pytest.raises(NotebookExit):
        dbutils.notebook.exit(42)
    assert dbutils.fs.put("dbfs:/out/a.txt", "hello") is True
    assert dbutils.fs.head("/Volumes/../out/a.txt") == "hello"
    assert [f.name for f in dbutils.fs.ls("dbfs:/out")] == ["a.txt"]
    assert (tmp_path / "fs" / "out" / "a.txt").read_text() == "hello"
    with pytest.raises(PermissionError):
        dbutils.fs.put("dbfs:/../../escape.txt", "x")
    assert [s.name for s in dbutils.secrets.listScopes()] == ["s"]
    assert dbutils.secrets.getBytes("s", "k") == b"v"
    assert DBUtils().jobs.taskValues.get("ingest", "rows", debugValue=7) == 7  # outside a run


def test_runspec_emulator_code_serves_the_sdk(tmp_path: Path) -> None:
    """``runspec emulator --code`` as a user starts it; the official SDK reads what the code did."""
    sdk = pytest.importorskip("databricks.sdk")
    sys.path.insert(0, str(EXAMPLE))
    try:
        from examples.local_etl.pipeline import run
    finally:
        sys.path.remove(str(EXAMPLE))
    command = [
        sys.executable,
        "-m",
        "runspec",
        "emulator",
        "--code",
        str(EXAMPLE),
        "--path",
        "/Workspace/Shared/orders=src",
    ]
    server = subprocess.Popen(
        [*command, "--speed", "50"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A suite started in the background ignores SIGINT; the emulator is stopped with it, as from a terminal.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert url is not None, first
        w = sdk.WorkspaceClient(host=url.group(0), token="anything")
        submitted = w.api_client.do("POST", "/api/2.2/jobs/runs/submit", body=run.compile().to_dict())
        deadline = time.monotonic() + 30
        while (got := w.jobs.get_run(submitted["run_id"])).state.life_cycle_state.value != "TERMINATED":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        tasks = {t.task_key: t for t in got.tasks}
        assert tasks["big_day"].condition_task.outcome == "true"
        assert tasks["quiet_day"].state.result_state.value == "EXCLUDED"
        ingest = w.jobs.get_run_output(tasks["ingest"].run_id)
        assert ingest.notebook_output.result == "535 orders on 2026-12-06"
        audit = w.jobs.get_run_output(tasks["audit"].run_id)
        assert audit.error == "ValueError: 535 orders is more than the audit allows"
        assert 'src/audit.py", line 9, in <module>' in audit.error_trace
        assert "ValueError: 535 orders" in audit.logs
    finally:
        os.killpg(server.pid, signal.SIGINT)
        server.communicate(timeout=10)
