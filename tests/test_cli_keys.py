"""
Crash-safe runs from the shell: ``runspec submit SPEC --key KEY [--attempt N]`` reaches the same run from
any process (a re-run after ``kill -9`` attaches to it and follows it), and ``runspec repair RUN_ID``.

Keys run against the emulator; repair against the scripted workspace of the client tests (both real
HTTP servers on 127.0.0.1). ``Cli`` asserts no output holds a traceback or the token.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from runspec.client.keys import key_token
from runspec.testing import Emulator, Outcome
from tests import test_cli
from tests.support import FakeWorkspace, Recorded, Reply, failed_run_json, run_json, task_json
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


def _failed_run(ws: FakeWorkspace, run_id: int) -> None:
    ws.runs[run_id] = failed_run_json(run_id, run_name="nightly")


def _succeeded_later(ws: FakeWorkspace, run_id: int) -> None:
    ws.timeline(
        run_id,
        run_json(run_id, "RUNNING", run_name="nightly", tasks=[task_json("load", 14, "RUNNING", attempt_number=2)]),
        run_json(
            run_id,
            "TERMINATED",
            code="SUCCESS",
            kind="SUCCESS",
            run_name="nightly",
            tasks=[
                task_json("ingest", 11, "TERMINATED", code="SUCCESS", kind="SUCCESS"),
                task_json("load", 14, "TERMINATED", code="SUCCESS", kind="SUCCESS", attempt_number=2),
            ],
        ),
    )


def _on_ws(ws: FakeWorkspace) -> dict[str, str]:
    return {"DATABRICKS_HOST": ws.url, "DATABRICKS_TOKEN": TOKEN}


def test_repair_reruns_failed_tasks_and_a_second_repair_names_the_first(cli: Cli, ws: FakeWorkspace) -> None:
    _failed_run(ws, 77)
    result = cli("repair", "77", env=_on_ws(ws))
    assert result.returncode == 0, result.stderr
    first = ws.repair_ids[77][0]
    assert result.stdout.startswith(
        f"repair {first} of run 77: re-running every failed task and the tasks that depend on them\n"
    )
    assert "  follow it:  runspec wait 77" in result.stdout
    assert ws.repairs[-1] == {"run_id": 77, "rerun_dependent_tasks": True, "rerun_all_failed_tasks": True}

    # It failed again: repair one task (retried before, so it appears twice in the run), only that task.
    _failed_run(ws, 77)
    ws.runs[77]["repair_history"] = [{"type": "ORIGINAL", "id": 77}, {"type": "REPAIR", "id": first}]
    data = _json(cli("repair", "77", "--task", "load", "--task", "load", "--no-dependents", "--json", env=_on_ws(ws)))
    assert ws.repairs[-1] == {
        "run_id": 77,
        "rerun_dependent_tasks": False,
        "rerun_tasks": ["load"],
        "latest_repair_id": first,
    }
    assert (data["status"], data["exit_code"], data["tasks"]) == ("repair_requested", 0, ["load"])
    assert data["repair_id"] == ws.repair_ids[77][1]


def test_repair_wait_follows_the_repaired_run_to_its_end(cli: Cli, ws: FakeWorkspace) -> None:
    _failed_run(ws, 78)
    ws.script("POST", "runs/repair", lambda record: _repair_then_succeed(ws, record))
    result = cli("repair", "78", "--wait", "--poll-interval", "0.1", env=_on_ws(ws))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"load\s+TERMINATED SUCCESS \(attempt 3\)", result.stdout), result.stdout
    assert re.search(r"^run 78 succeeded in ", result.stdout, re.MULTILINE)


def _repair_then_succeed(ws: FakeWorkspace, record: Recorded) -> Reply:
    _succeeded_later(ws, 78)
    return Reply(200, {"repair_id": 9100})


def test_repair_wait_exits_1_when_the_run_fails_again(cli: Cli, ws: FakeWorkspace) -> None:
    _failed_run(ws, 79)
    data = _json(cli("repair", "79", "--wait", "--json", env=_on_ws(ws)))
    # The scripted workspace leaves the run as it was: failed.
    assert (data["status"], data["exit_code"]) == ("failed", 1)
    assert data["repair_id"] == ws.repair_ids[79][0]
    assert [t["key"] for t in data["failed_tasks"]] == ["load"]


def test_repair_refusals(cli: Cli, ws: FakeWorkspace) -> None:
    ws.runs[80] = run_json(80, "RUNNING", tasks=[task_json("a", 1)])
    result = cli("repair", "80", env=_on_ws(ws))
    assert result.returncode == 3
    assert "run 80 is still RUNNING; a run can be repaired once it has finished" in _one_line_error(result)

    _failed_run(ws, 81)
    result = cli("repair", "81", "--task", "nope", env=_on_ws(ws))
    assert result.returncode == 2
    assert "run 81 has no task 'nope'" in _one_line_error(result)
    assert ws.calls("runs/repair") == []

    ws.refuse_submit_repairs = True
    result = cli("repair", "81", env=_on_ws(ws))
    assert result.returncode == 3
    line = _one_line_error(result)
    assert "the workspace does not repair one-time runs" in line
    assert "runspec submit SPEC --key KEY --attempt N+1" in line
    data = json.loads(cli("repair", "81", "--json", env=_on_ws(ws)).stdout)
    assert (data["status"], data["exit_code"], data["error"]["type"]) == ("error", 3, "BadRequest")
