"""
Crash-safe runs from the shell: ``runspec submit SPEC --key KEY [--attempt N]`` reaches the same run from
any process (a re-run after ``kill -9`` attaches to it and follows it), and ``runspec repair RUN_ID``.

Keys run against the module's emulator over HTTP on 127.0.0.1; repair against an emulator answering
in-process through the transport seam. ``Cli`` asserts no output holds a traceback or the token.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runspec import submit
from runspec.client.keys import key_token
from runspec.testing import Emulator, Outcome
from tests import test_cli
from tests.support import call, forget, in_process
from tests.test_cli import SUBPROCESS_TIMEOUT, TOKEN, Cli, _json, _on, _one_line_error, _write, small_body

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# The fixtures of tests/test_cli.py: one emulator per module, a clean HOME per test.
emu = test_cli.emu
home = test_cli.home
cli = test_cli.cli


def _key(name: str) -> str:
    return f"cli-tests/{name}/{time.time_ns()}"


# ---------------------------------------------------------------------------------------------------
# --key


@pytest.mark.process
def test_kill_9_then_the_same_command_attaches_and_follows_the_run(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("key_slow", Outcome.success(seconds=8, result="done at last"))
    spec = _write(tmp_path / "run.json", small_body("key_slow", name="crash-safe"))
    key = _key("kill9")
    command = ["submit", spec, "--key", key, "--wait", "--poll-interval", "0.2"]
    before = set(emu.run_ids())
    with cli.popen(*command, env=_on(emu)) as first:
        assert first.stdout is not None
        line = first.stdout.readline()
        match = re.match(r"submitted run (\d+) \(key '([^']+)', idempotency token (rskey1-\w+)\)", line)
        assert match, line
        run_id = int(match.group(1))
        assert match.group(3) == key_token(key)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=SUBPROCESS_TIMEOUT)
    assert first.returncode == -signal.SIGKILL
    assert emu.run(run_id)["state"]["life_cycle_state"] in ("PENDING", "RUNNING", "QUEUED")

    second = cli(*command, env=_on(emu))
    assert second.returncode == 0, second.stdout + second.stderr
    assert second.stdout.startswith(f"attached to run {run_id}: key {key!r} already names it")
    assert "done at last" in second.stdout
    assert re.search(rf"^run {run_id} succeeded in ", second.stdout, re.MULTILINE)
    assert set(emu.run_ids()) - before == {run_id}, "exactly one run for the key"
    assert emu.run(run_id)["state"]["result_state"] == "SUCCESS"


def test_a_failed_run_under_a_key_stays_failed(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("key_bad", Outcome.fail("ValueError: bad input"))
    spec = _write(tmp_path / "run.json", small_body("key_bad", name="keyed-failure"))
    key = _key("failed")
    first = cli("submit", spec, "--key", key, "--wait", "--poll-interval", "0.1", env=_on(emu))
    assert first.returncode == 1
    again = cli("submit", spec, "--key", key, "--wait", "--json", env=_on(emu))
    assert again.returncode == 1  # no silent success: the key's run failed
    data = _json(again)
    assert (data["status"], data["reattached"], data["key"], data["attempt"]) == ("failed", True, key, 1)
    assert data["failed_tasks"][0]["key"] == "key_bad"

    # A deliberate re-run: --attempt 2 is a new run under the same key.
    emu.script("key_bad", Outcome.success())
    rerun = cli("submit", spec, "--key", key, "--attempt", "2", "--wait", "--json", env=_on(emu))
    assert rerun.returncode == 0, rerun.stderr
    assert _json(rerun)["run_id"] != data["run_id"]
    assert _json(rerun)["idempotency_token"] == key_token(key, 2)


def test_a_key_with_a_changed_spec_is_refused_without_a_second_run(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    key = _key("conflict")
    first = _write(tmp_path / "first.json", small_body("kc_one", name="orders"))
    result = cli("submit", first, "--key", key, "--json", env=_on(emu))
    assert result.returncode == 0, result.stderr
    run_id = _json(result)["run_id"]
    runs_before = set(emu.run_ids())

    changed = _write(tmp_path / "changed.json", small_body("kc_one", "kc_two", name="orders"))
    result = cli("submit", changed, "--key", key, env=_on(emu))
    assert result.returncode == 3
    line = _one_line_error(result)
    assert f"key {key!r} already names run {run_id}" in line
    assert "tasks only in this spec: kc_two" in line
    assert "--attempt 2" in line and "attempt=" not in line
    assert "may exist" not in line
    assert set(emu.run_ids()) == runs_before, "no second run"
    data = _json(cli("submit", changed, "--key", key, "--json", env=_on(emu)))
    assert (data["status"], data["exit_code"], data["error"]["type"]) == ("error", 3, "KeyConflict")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--attempt", "2"], "--attempt needs --key"),
        (["--key", "k", "--idempotency-token", "t"], "give --key or --idempotency-token, not both"),
        (["--key", ""], "the key is empty"),
        (["--key", "k", "--attempt", "0"], "attempts count from 1"),
    ],
)
def test_key_usage_mistakes_exit_2(cli: Cli, emu: Emulator, tmp_path: Path, args: list[str], message: str) -> None:
    spec = _write(tmp_path / "run.json", small_body("ku_a"))
    before = len(emu.requests_to("runs/submit"))
    result = cli("submit", spec, *args, env=_on(emu))
    assert result.returncode == 2
    assert message in result.stderr
    assert len(emu.requests_to("runs/submit")) == before


# ---------------------------------------------------------------------------------------------------
# repair


NIGHTLY = {
    "run_name": "nightly",
    "tasks": [
        {"task_key": "ingest", "notebook_task": {"notebook_path": "/ingest"}},
        {
            "task_key": "load",
            "depends_on": [{"task_key": "ingest"}],
            "notebook_task": {"notebook_path": "/load"},
            "max_retries": 1,
        },
    ],
}


def _failed_run(host: str, emulator: Emulator, *load: Outcome) -> int:
    """A finished run where ``load`` failed on its first attempt and its retry; then ``load`` does ``load``."""
    emulator.script("load", [Outcome.fail("locked"), Outcome.fail("locked again"), *load])
    run_id = submit(NIGHTLY, host, TOKEN).run_id
    assert emulator.run(run_id)["state"]["result_state"] == "FAILED"
    return run_id


def _repair_ids(emulator: Emulator, run_id: int) -> list[int]:
    history = call(emulator, "GET", "runs/get", run_id=run_id, include_history=True)["repair_history"]
    return [h["id"] for h in history if h["type"] == "REPAIR"]


def _repairs(emulator: Emulator) -> list[Any]:
    return [r.body for r in emulator.requests_to("runs/repair")]


def _on_ws(host: str) -> dict[str, str]:
    return {"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": TOKEN}


def test_repair_reruns_failed_tasks_and_a_second_repair_names_the_first(
    cli: Cli, host: str, emulator: Emulator
) -> None:
    run = _failed_run(host, emulator)
    result = cli("repair", str(run), env=_on_ws(host))
    assert result.returncode == 0, result.stderr
    (first,) = _repair_ids(emulator, run)
    assert result.stdout.startswith(
        f"repair {first} of run {run}: re-running every failed task and the tasks that depend on them\n"
    )
    assert f"  follow it:  runspec wait {run}" in result.stdout
    assert _repairs(emulator)[-1] == {"run_id": run, "rerun_dependent_tasks": True, "rerun_all_failed_tasks": True}

    # It failed again: repair one task (retried before, so it appears twice in the run), only that task.
    assert emulator.run(run)["state"]["result_state"] == "FAILED"
    args = ("repair", str(run), "--task", "load", "--task", "load", "--no-dependents", "--json")
    data = _json(cli(*args, env=_on_ws(host)))
    assert _repairs(emulator)[-1] == {
        "run_id": run,
        "rerun_dependent_tasks": False,
        "rerun_tasks": ["load"],
        "latest_repair_id": first,
    }
    assert (data["status"], data["exit_code"], data["tasks"]) == ("repair_requested", 0, ["load"])
    assert data["repair_id"] == _repair_ids(emulator, run)[1]


def test_repair_wait_follows_the_repaired_run_to_its_end(cli: Cli, host: str, emulator: Emulator) -> None:
    run = _failed_run(host, emulator, Outcome.success())
    result = cli("repair", str(run), "--wait", "--poll-interval", "0.1", env=_on_ws(host))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"load\s+TERMINATED SUCCESS \(attempt 3\)", result.stdout), result.stdout
    assert re.search(rf"^run {run} succeeded in ", result.stdout, re.MULTILINE)


def test_repair_wait_exits_1_when_the_run_fails_again(cli: Cli, host: str, emulator: Emulator) -> None:
    run = _failed_run(host, emulator)
    data = _json(cli("repair", str(run), "--wait", "--json", env=_on_ws(host)))
    # load fails on every attempt: the repaired run fails again.
    assert (data["status"], data["exit_code"]) == ("failed", 1)
    assert [data["repair_id"]] == _repair_ids(emulator, run)
    assert [t["key"] for t in data["failed_tasks"]] == ["load"]


def test_repair_refusals(cli: Cli, host: str, emulator: Emulator) -> None:
    emulator.script("load", Outcome.hang())
    active = submit(NIGHTLY, host, TOKEN)
    result = cli("repair", str(active.run_id), env=_on_ws(host))
    assert result.returncode == 3
    assert f"run {active.run_id} is still RUNNING; a run can be repaired once it has finished" in _one_line_error(
        result
    )

    run = _failed_run(host, emulator)
    result = cli("repair", str(run), "--task", "nope", env=_on_ws(host))
    assert result.returncode == 2
    assert f"run {run} has no task 'nope'" in _one_line_error(result)
    assert emulator.requests_to("runs/repair") == []

    refusing = Emulator(token=TOKEN, repair_one_time_runs=False)  # a workspace that does not repair them
    elsewhere = in_process(refusing.transport())
    try:
        run = _failed_run(elsewhere, refusing)
        result = cli("repair", str(run), env=_on_ws(elsewhere))
        assert result.returncode == 3
        line = _one_line_error(result)
        assert "the workspace does not repair one-time runs" in line
        assert "runspec submit SPEC --key KEY --attempt N+1" in line
        data = json.loads(cli("repair", str(run), "--json", env=_on_ws(elsewhere)).stdout)
        assert (data["status"], data["exit_code"], data["error"]["type"]) == ("error", 3, "BadRequest")
    finally:
        forget(elsewhere)
