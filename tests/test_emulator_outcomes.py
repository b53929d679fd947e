"""
Outcomes written as JSON: ``load_outcomes`` and ``runspec emulator --script FILE`` (and ``--forbid``),
driving a failure, a retry that succeeds, a timeout and a condition's false branch from the shell.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from runspec.testing import Emulator, Outcome, load_outcomes

OUTCOMES: dict[str, Any] = {
    "ingest": {"result": "0 rows", "values": {"rows": 0}, "seconds": 2},
    "transform": {"error": "ZeroDivisionError: division by zero", "trace": "Traceback ...\nZeroDivisionError"},
    "load": [{"error": "connection reset"}, {"logs": "loaded 1200 rows\n"}],
    "stream": {"hang": True},
    "*": {"seconds": 1},
}


def test_load_outcomes_reads_every_kind() -> None:
    scripts = load_outcomes(OUTCOMES)
    assert scripts["ingest"] == Outcome.success(seconds=2, result="0 rows", values={"rows": 0})
    assert scripts["transform"] == Outcome.fail(
        "ZeroDivisionError: division by zero", trace="Traceback ...\nZeroDivisionError"
    )
    assert scripts["load"] == [Outcome.fail("connection reset"), Outcome.success(logs="loaded 1200 rows\n")]
    stream = scripts["stream"]
    assert isinstance(stream, Outcome) and stream.seconds == math.inf
    assert scripts["*"] == Outcome.success(seconds=1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be an object mapping task keys"),
        ({"a": "fail"}, "$.a must be an object"),
        ({"a": {"sconds": 1}}, "$.a has unknown key(s) sconds"),
        ({"a": [{"seconds": -1}]}, "$.a[0].seconds must be a number"),
        ({"a": {"trace": "x"}}, '$.a.trace describes a failure: add "error"'),
        ({"a": []}, "$.a is an empty list"),
        ({"a": {"values": [1]}}, "$.a.values must be an object"),
        ({"a": {"hang": "yes"}}, "$.a.hang must be true or false"),
    ],
)
def test_load_outcomes_says_what_is_wrong_and_where(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "outcomes.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r".*") as caught:
        load_outcomes(path)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_the_star_scripts_every_task_without_its_own() -> None:
    with Emulator(scripts=load_outcomes({"*": {"error": "boom"}, "ok": {}})) as emulator:
        body = {
            "run_name": "r",
            "tasks": [
                {"task_key": "ok", "notebook_task": {"notebook_path": "/ok"}},
                {"task_key": "other", "notebook_task": {"notebook_path": "/other"}},
            ],
        }
        headers = {"Authorization": f"Bearer {emulator.token}"}
        run_id = requests.post(f"{emulator.url}/api/2.2/jobs/runs/submit", json=body, headers=headers).json()["run_id"]
        run = emulator.run(run_id)
        assert {t["task_key"]: t["state"]["result_state"] for t in run["tasks"]} == {"ok": "SUCCESS", "other": "FAILED"}


# -- from the shell ------------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``runspec emulator --script outcomes.json --token t --forbid viewer --speed 50``; yields its URL."""
    script = tmp_path / "outcomes.json"
    script.write_text(json.dumps(OUTCOMES), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runspec",
            "emulator",
            "--script",
            str(script),
            "--token",
            "t",
            "--forbid",
            "viewer",
            "--speed",
            "50",
        ],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "runspec emulator: a Jobs API" in first, first + (process.stderr.read() if process.stderr else "")
        url = first.split(" on ", 1)[1].split(" ", 1)[0]
        outcomes_line = process.stdout.readline()
        assert outcomes_line.startswith("task outcomes from ") and "transform" in outcomes_line
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _submit_and_wait(url: str, body: dict[str, Any], token: str = "t") -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    run_id = requests.post(f"{url}/api/2.2/jobs/runs/submit", json=body, headers=headers, timeout=10).json()["run_id"]
    deadline = time.monotonic() + 30
    while True:
        run: dict[str, Any] = requests.get(
            f"{url}/api/2.2/jobs/runs/get", params={"run_id": run_id}, headers=headers, timeout=10
        ).json()
        if run["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.05)


def _task(key: str, *deps: str | tuple[str, str], **settings: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"task_key": key, "notebook_task": {"notebook_path": f"/{key}"}, **settings}
    if deps:
        out["depends_on"] = [
            {"task_key": d} if isinstance(d, str) else {"task_key": d[0], "outcome": d[1]} for d in deps
        ]
    return out


def test_the_shell_emulator_scripts_failure_retry_timeout_and_a_false_branch(served: str) -> None:
    url = served
    run = _submit_and_wait(
        url,
        {
            "run_name": "from-the-shell",
            "tasks": [
                _task("ingest"),
                {
                    "task_key": "has_rows",
                    "depends_on": [{"task_key": "ingest"}],
                    "condition_task": {"op": "GREATER_THAN", "left": "{{tasks.ingest.values.rows}}", "right": "0"},
                },
                _task("publish", ("has_rows", "true")),
                _task("report_empty", ("has_rows", "false")),
                _task("load", "ingest", max_retries=1),
                _task("transform", "ingest"),
                _task("stream", "ingest", timeout_seconds=5),
            ],
        },
    )
    by_key: dict[str, list[dict[str, Any]]] = {}
    for task in run["tasks"]:
        by_key.setdefault(task["task_key"], []).append(task)
    result = {key: tasks[-1]["state"].get("result_state") for key, tasks in by_key.items()}
    assert result == {
        "ingest": "SUCCESS",
        "has_rows": "SUCCESS",
        "publish": "EXCLUDED",
        "report_empty": "SUCCESS",
        "load": "SUCCESS",
        "transform": "FAILED",
        "stream": "TIMEDOUT",
    }
    assert by_key["has_rows"][0]["condition_task"]["outcome"] == "false"
    assert [t["state"]["result_state"] for t in by_key["load"]] == ["FAILED", "SUCCESS"]
    headers = {"Authorization": "Bearer t"}
    failed = requests.get(
        f"{url}/api/2.2/jobs/runs/get-output", params={"run_id": by_key["transform"][0]["run_id"]}, headers=headers
    ).json()
    assert failed["error"] == "ZeroDivisionError: division by zero"
    assert failed["error_trace"].endswith("ZeroDivisionError")
    assert run["state"]["result_state"] == "FAILED"


def test_the_shell_emulator_forbids_a_token(served: str) -> None:
    answer = requests.get(f"{served}/api/2.2/jobs/runs/list", headers={"Authorization": "Bearer viewer"}, timeout=10)
    assert answer.status_code == 403 and answer.json()["error_code"] == "PERMISSION_DENIED"
    allowed = requests.get(f"{served}/api/2.2/jobs/runs/list", headers={"Authorization": "Bearer t"}, timeout=10)
    assert allowed.status_code == 200


def test_a_bad_outcomes_file_exits_2_naming_the_problem(tmp_path: Path) -> None:
    script = tmp_path / "outcomes.json"
    script.write_text('{"transform": {"eror": "typo"}}', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "runspec", "emulator", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "$.transform has unknown key(s) eror" in done.stderr
