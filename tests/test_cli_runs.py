"""
Acting on a run by id from the shell (``runspec status|wait|cancel|outputs RUN_ID``), signals during
``submit --wait`` / ``wait``, and what ``--timeout`` tells the user to run next.

Each test runs ``python -m runspec`` as a subprocess against an emulator on 127.0.0.1 (``Cli`` asserts
no output holds a traceback or the token).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from runspec.client import RunHandle
from runspec.testing import Emulator, Fault, Outcome, TaskContext
from tests import test_cli
from tests.support import refused_port
from tests.test_cli import (
    PYTHON_TRACEBACK,
    SUBPROCESS_TIMEOUT,
    TOKEN,
    Cli,
    _json,
    _on,
    _one_line_error,
    _write,
    small_body,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# The fixtures of tests/test_cli.py: one emulator per module, a clean HOME per test.
emu = test_cli.emu
home = test_cli.home
cli = test_cli.cli


def _submit(emu: Emulator, *keys: str, name: str) -> int:
    """A run submitted from Python (the commands under test only get its id)."""
    from runspec import RunSpec, submit

    with submit(RunSpec.from_dict(small_body(*keys, name=name)), emu.url, TOKEN) as handle:
        return handle.run_id


def _finished(emu: Emulator, run_id: int) -> dict[str, Any]:
    final = emu.wait(run_id, timeout=20)
    assert final is not None, f"run {run_id} did not finish"
    return final


# ---------------------------------------------------------------------------------------------------
# status


def test_status_of_a_running_and_a_finished_run(cli: Cli, emu: Emulator) -> None:
    emu.script("st_slow", Outcome.success(seconds=3600))
    run_id = _submit(emu, "st_slow", name="status-running")
    result = cli("status", str(run_id), env=_on(emu))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"run {run_id} (status-running): ")
    assert re.search(r"(pending|running)\s+st_slow", result.stdout), result.stdout
    data = _json(cli("status", str(run_id), "--json", env=_on(emu)))
    assert data["status"] == "running"
    assert data["exit_code"] == 0
    assert data["run_id"] == run_id
    assert set(data["tasks"]) == {"st_slow"}
    assert "idempotency_token" not in data
    RunHandle.attach(run_id, emu.url, TOKEN).cancel()
    _finished(emu, run_id)

    result = cli("status", str(run_id), env=_on(emu))
    assert result.returncode == 1
    assert "TERMINATED USER_CANCELED" in result.stdout
    data = _json(cli("status", str(run_id), "--json", env=_on(emu)))
    assert (data["status"], data["exit_code"], data["state"]) == ("failed", 1, "TERMINATED USER_CANCELED")

    emu.script("st_ok", Outcome.success())
    done = _submit(emu, "st_ok", name="status-done")
    _finished(emu, done)
    data = _json(cli("status", str(done), "--json", env=_on(emu)))
    assert (data["status"], data["exit_code"]) == ("succeeded", 0)


def test_unknown_run_and_bad_run_id(cli: Cli, emu: Emulator) -> None:
    for command in ("status", "wait", "cancel", "outputs"):
        result = cli(command, "987654321", env=_on(emu))
        assert result.returncode == 3, (command, result.stderr)
        assert "987654321" in _one_line_error(result)
        data = _json(cli(command, "987654321", "--json", env=_on(emu)))
        assert data["status"] == "error"
        assert data["exit_code"] == 3
        result = cli(command, "abc", env=_on(emu))
        assert result.returncode == 2
        assert "a run id is a whole number" in result.stderr


def test_no_workspace_configured_is_exit_3(cli: Cli) -> None:
    for command in ("status", "wait", "cancel", "outputs"):
        result = cli(command, "1")
        assert result.returncode == 3, command
        assert "--host" in _one_line_error(result)


# ---------------------------------------------------------------------------------------------------
# wait


def test_wait_follows_a_run_to_success_with_its_outputs(cli: Cli, emu: Emulator) -> None:
    emu.script("w_first", Outcome.success(result="first says hi", seconds=0.4))
    emu.script("w_second", Outcome.success(result="second done", seconds=0.4))
    run_id = _submit(emu, "w_first", "w_second", name="waited")
    result = cli("wait", str(run_id), "--poll-interval", "0.1", env=_on(emu))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.startswith(f"waiting for run {run_id} to finish")
    assert re.search(r"w_second\s+TERMINATED SUCCESS", out)
    assert "waited (succeeded): 2 tasks" in out  # the picture, drawn from the run itself
    assert "first says hi" in out and "second done" in out
    assert re.search(rf"^run {run_id} succeeded in \d", out, re.MULTILINE)

    data = _json(cli("wait", str(run_id), "--json", env=_on(emu)))
    assert data["status"] == "succeeded"
    assert data["outputs"]["w_first"] == {"notebook_result": "first says hi"}


def test_wait_on_a_failed_run_exits_1_with_its_errors(cli: Cli, emu: Emulator) -> None:
    emu.script("wf_bad", Outcome.fail("ValueError: no rows", trace='File "job.py", line 3\nValueError: no rows'))
    run_id = _submit(emu, "wf_bad", "wf_after", name="waited-failed")
    result = cli("wait", str(run_id), "--poll-interval", "0.1", env=_on(emu))
    assert result.returncode == 1
    assert "failed tasks:" in result.stdout
    assert "wf_bad" in result.stdout and "ValueError: no rows" in result.stdout
    data = _json(cli("wait", str(run_id), "--json", env=_on(emu)))
    assert (data["status"], data["exit_code"]) == ("failed", 1)
    assert data["failed_tasks"][0]["key"] == "wf_bad"


def test_wait_timeout_prints_what_to_run_next(cli: Cli, emu: Emulator) -> None:
    emu.script("wt_slow", Outcome.success(seconds=3600))
    run_id = _submit(emu, "wt_slow", name="waited-too-long")
    result = cli("wait", str(run_id), "--timeout", "0.5", "--poll-interval", "0.1", "--host", emu.url, env=_on(emu))
    assert result.returncode == 1
    assert f"run {run_id} is still" in _one_line_error(result)
    assert f"  follow it:  runspec wait {run_id} --host {emu.url}" in result.stderr
    assert f"  cancel it:  runspec cancel {run_id} --host {emu.url}" in result.stderr
    assert "web" not in result.stderr and "from http" not in result.stderr
    RunHandle.attach(run_id, emu.url, TOKEN).cancel()


def test_submit_wait_timeout_prints_wait_and_cancel_commands(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("swt_slow", Outcome.success(seconds=3600))
    spec = _write(tmp_path / "run.json", small_body("swt_slow", name="submit-too-long"))
    result = cli("submit", spec, "--wait", "--timeout", "0.5", "--poll-interval", "0.1", env=_on(emu))
    assert result.returncode == 1
    run_id = int(re.search(r"submitted run (\d+)", result.stdout).group(1))  # type: ignore[union-attr]
    assert f"  follow it:  runspec wait {run_id}\n" in result.stderr
    assert f"  cancel it:  runspec cancel {run_id}\n" in result.stderr
    assert "cancel it from" not in result.stderr

    data = _json(cli("submit", spec, "--wait", "--timeout", "0.5", "--poll-interval", "0.1", "--json", env=_on(emu)))
    assert data["next"] == [f"runspec wait {data['run_id']}", f"runspec cancel {data['run_id']}"]

    # The printed commands work: cancel, then wait sees it end (cancelled: exit 1).
    result = cli("cancel", str(run_id), env=_on(emu))
    assert result.returncode == 0
    result = cli("wait", str(run_id), "--poll-interval", "0.1", env=_on(emu))
    assert result.returncode == 1
    assert "USER_CANCELED" in result.stdout
    RunHandle.attach(data["run_id"], emu.url, TOKEN).cancel()


def test_a_plain_submit_asks_nothing_first_and_a_given_token_is_checked_first(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    """A token runspec mints cannot have been used, so nothing is asked first; a given one may have been."""
    spec = _write(tmp_path / "run.json", small_body("one_request", name="one-request"))
    emu.clear_requests()
    result = cli("submit", spec, env=_on(emu))
    assert result.returncode == 0, result.stderr
    sent = [r.endpoint for r in emu.requests]
    assert sent[0] == "runs/submit" and "runs/list" not in sent, sent
    assert re.search(r"idempotency token runspec-[0-9a-f]{32}\)", result.stdout), result.stdout

    emu.clear_requests()
    token = f"given-{os.getpid()}"
    first = cli("submit", spec, "--idempotency-token", token, env=_on(emu))
    again = cli("submit", spec, "--idempotency-token", token, env=_on(emu))
    assert [r.endpoint for r in emu.requests].count("runs/list") == 2
    run_id = re.search(r"submitted run (\d+)", first.stdout).group(1)  # type: ignore[union-attr]
    assert f"returned the existing run {run_id}" in again.stdout


# ---------------------------------------------------------------------------------------------------
# cancel


def test_cancel_says_requested_then_already_finished(cli: Cli, emu: Emulator) -> None:
    emu.script("c_long", Outcome.hang())
    run_id = _submit(emu, "c_long", name="to-cancel")
    result = cli("cancel", str(run_id), env=_on(emu))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"asked the workspace to cancel run {run_id} (it was ")
    assert f"runspec wait {run_id}" in result.stdout
    assert [r.body for r in emu.requests_to("runs/cancel")].count({"run_id": run_id}) == 1
    final = _finished(emu, run_id)
    assert final["state"]["result_state"] == "CANCELED"

    result = cli("cancel", str(run_id), env=_on(emu))
    assert result.returncode == 0
    assert result.stdout.strip() == (f"run {run_id} had already finished (TERMINATED USER_CANCELED); nothing to cancel")
    assert [r.body for r in emu.requests_to("runs/cancel")].count({"run_id": run_id}) == 1  # none sent
    data = _json(cli("cancel", str(run_id), "--json", env=_on(emu)))
    assert (data["status"], data["cancel"], data["exit_code"]) == ("already_finished", "already_finished", 0)


def test_cancel_refused_by_the_workspace_is_exit_3(cli: Cli, emu: Emulator) -> None:
    emu.script("cr_long", Outcome.hang())
    run_id = _submit(emu, "cr_long", name="cancel-refused")
    refusal = emu.inject(Fault.error(403, "PERMISSION_DENIED", "You may not cancel this run."), "runs/cancel")
    try:
        result = cli("cancel", str(run_id), env=_on(emu))
    finally:
        refusal.remove()
    assert result.returncode == 3
    assert "403 PERMISSION_DENIED: You may not cancel this run." in _one_line_error(result)
    RunHandle.attach(run_id, emu.url, TOKEN).cancel()


# ---------------------------------------------------------------------------------------------------
# outputs


def test_outputs_of_a_run(cli: Cli, emu: Emulator) -> None:
    emu.script("o_nb", Outcome.success(result="42 rows"))
    emu.script("o_more", Outcome.success(result="line one\nline two"))
    run_id = _submit(emu, "o_nb", "o_more", name="outputs")
    _finished(emu, run_id)
    result = cli("outputs", str(run_id), env=_on(emu))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("outputs:\n")
    assert re.search(r"o_nb\s+42 rows", result.stdout)
    assert re.search(r"o_more\s+line one\n\s+line two\n", result.stdout), result.stdout
    data = _json(cli("outputs", str(run_id), "--json", env=_on(emu)))
    assert data["outputs"] == {
        "o_nb": {"notebook_result": "42 rows"},
        "o_more": {"notebook_result": "line one\nline two"},
    }
    assert (data["status"], data["exit_code"]) == ("succeeded", 0)


def test_outputs_of_a_failed_run_exit_1(cli: Cli, emu: Emulator) -> None:
    emu.script("of_bad", Outcome.fail("KeyError: 'x'"))
    run_id = _submit(emu, "of_bad", name="outputs-failed")
    _finished(emu, run_id)
    result = cli("outputs", str(run_id), env=_on(emu))
    assert result.returncode == 1
    assert "error: KeyError: 'x'" in result.stdout
    assert "outputs-failed" in _one_line_error(result)
    data = _json(cli("outputs", str(run_id), "--json", env=_on(emu)))
    assert data["exit_code"] == 1
    assert data["outputs"]["of_bad"]["error"] == "KeyError: 'x'"


# ---------------------------------------------------------------------------------------------------
# Signals


def _until_running(process: Any, key: str, stream_name: str = "stdout") -> tuple[int, list[str]]:
    stream = getattr(process, stream_name)
    seen: list[str] = []
    run_id = None
    for line in stream:
        seen.append(line)
        match = re.search(r"(?:submitted run|waiting for run) (\d+)", line)
        if match:
            run_id = int(match.group(1))
        if re.search(rf"{key}\s+RUNNING", line):
            break
    assert run_id is not None, "".join(seen)
    return run_id, seen


@pytest.mark.parametrize(("signum", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")])
@pytest.mark.process
def test_sigterm_and_sighup_during_submit_wait_cancel_the_run(
    cli: Cli, emu: Emulator, tmp_path: Path, signum: int, code: int, name: str
) -> None:
    key = f"sig_{name.lower()}"
    emu.script(key, Outcome.hang())
    spec = _write(tmp_path / "run.json", small_body(key, name=f"stopped-by-{name}"))
    with cli.popen("submit", spec, "--wait", "--poll-interval", "0.1", env=_on(emu)) as process:
        run_id, seen = _until_running(process, key)
        started = time.monotonic()
        process.send_signal(signum)
        rest, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    assert process.returncode == code, "".join(seen) + rest + err
    assert time.monotonic() - started < 15
    assert PYTHON_TRACEBACK not in err and TOKEN not in err + rest
    line = _one_line_error_text(err)
    assert line == f"runspec: error: stopped by {name}: asked the workspace to cancel run {run_id}"
    assert "the run goes on" not in err
    assert {"run_id": run_id} in [r.body for r in emu.requests_to("runs/cancel")]
    assert _finished(emu, run_id)["state"]["result_state"] == "CANCELED"


@pytest.mark.process
def test_sigterm_during_wait_cancels_the_run_json(cli: Cli, emu: Emulator) -> None:
    emu.script("sw_hang", Outcome.hang())
    run_id = _submit(emu, "sw_hang", name="wait-stopped")
    with cli.popen("wait", str(run_id), "--poll-interval", "0.1", "--json", env=_on(emu)) as process:
        _until_running(process, "sw_hang", "stderr")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    assert process.returncode == 143, out + err
    import json

    data = json.loads(out)
    assert (data["status"], data["exit_code"], data["cancel"]) == ("interrupted", 143, "requested")
    assert data["message"] == f"stopped by SIGTERM: asked the workspace to cancel run {run_id}"
    assert _finished(emu, run_id)["state"]["result_state"] == "CANCELED"


@pytest.mark.process
def test_cancel_that_fails_after_ctrl_c_says_so(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("cf_hang", Outcome.hang())
    spec = _write(tmp_path / "run.json", small_body("cf_hang", name="cancel-fails"))
    refuse = Fault.error(403, "PERMISSION_DENIED", "Cancelling is not allowed here.")
    refusal = emu.inject(refuse, "runs/cancel")
    try:
        with cli.popen("submit", spec, "--wait", "--poll-interval", "0.1", env=_on(emu)) as process:
            run_id, _ = _until_running(process, "cf_hang")
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    finally:
        refusal.remove()
    assert process.returncode == 130
    line = _one_line_error_text(err)
    assert line.startswith(f"runspec: error: interrupted: could not cancel run {run_id} (")
    assert "403 PERMISSION_DENIED: Cancelling is not allowed here." in line
    assert f"cancel it: runspec cancel {run_id}" in line
    assert "asked the workspace to cancel" not in err
    RunHandle.attach(run_id, emu.url, TOKEN).cancel()


@pytest.mark.process
def test_second_ctrl_c_while_cancelling_says_what_happened(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    emu.script("cc_hang", Outcome.hang())
    spec = _write(tmp_path / "run.json", small_body("cc_hang", name="twice"))
    slow = emu.inject(Fault.delay(30), "runs/cancel", times=1)
    with cli.popen("submit", spec, "--wait", "--poll-interval", "0.1", env=_on(emu)) as process:
        run_id, _ = _until_running(process, "cc_hang")
        process.send_signal(signal.SIGINT)
        sent = time.monotonic() + SUBPROCESS_TIMEOUT
        while not slow.fired:  # the cancel is on its way: the emulator holds it for 30 s
            assert time.monotonic() < sent and process.poll() is None, "the command did not send its cancel"
            time.sleep(0.02)
        assert process.poll() is None, "the command did not wait for its cancel"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    slow.remove()
    assert process.returncode == 130
    assert "could not cancel ()" not in err
    line = _one_line_error_text(err)
    assert f"interrupted, then interrupted again while cancelling run {run_id}" in line
    assert f"runspec cancel {run_id}" in line
    RunHandle.attach(run_id, emu.url, TOKEN).cancel()


def _one_line_error_text(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("runspec: error:")]
    assert len(lines) == 1, err
    return lines[0]


# ---------------------------------------------------------------------------------------------------
# Host settings and unreachable hosts


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1:{port}", "has no scheme; write it as http://127.0.0.1:{port}"),
        ("adb 123", "contains spaces"),
        ("https://adb-1.azuredatabricks.net/some/path", "write the host as https://adb-1.azuredatabricks.net"),
    ],
)
def test_a_bad_host_is_a_usage_error_with_the_corrected_form(
    cli: Cli, emu: Emulator, tmp_path: Path, host: str, expected: str
) -> None:
    port = emu.url.rsplit(":", 1)[1]
    host, expected = host.format(port=port), expected.format(port=port)
    spec = _write(tmp_path / "run.json", small_body("bad_host"))
    before = len(emu.requests)
    for args in (["submit", spec, "--wait"], ["render", spec, "--request"], ["status", "1"], ["wait", "1"]):
        started = time.monotonic()
        result = cli(*args, "--host", host, env={"DATABRICKS_TOKEN": TOKEN})
        assert time.monotonic() - started < 15
        assert result.returncode == 2, (args, result.stderr)
        line = _one_line_error(result)
        assert line.startswith(f"runspec: error: --host {host!r}"), line
        assert expected in line
    data = _json(cli("submit", spec, "--json", "--host", host, env={"DATABRICKS_TOKEN": TOKEN}))
    assert (data["status"], data["exit_code"]) == ("invalid", 2)
    assert expected in data["error"]["message"]
    # From the environment, the message names the variable.
    result = cli("status", "1", env={"DATABRICKS_HOST": host, "DATABRICKS_TOKEN": TOKEN})
    assert result.returncode == 2
    assert _one_line_error(result).startswith(f"runspec: error: DATABRICKS_HOST {host!r}")
    assert len(emu.requests) == before, "nothing may be sent to a host that is not a workspace URL"


@pytest.mark.socket
def test_a_refused_port_fails_fast_and_says_no_run_was_created(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "run.json", small_body("refused"))
    with refused_port() as port:
        host = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        result = cli("submit", spec, "--wait", "--host", host, env={"DATABRICKS_TOKEN": TOKEN})
    assert time.monotonic() - started < 15
    assert result.returncode == 3
    line = _one_line_error(result)
    assert line.startswith(f"runspec: error: cannot connect to {host} (host from --host): the connection was refused")
    assert "no run was created" in line
    assert "--idempotency-token" not in line and "may exist" not in line
    assert all(len(text) < 300 for text in result.stderr.splitlines()), result.stderr  # short retry lines
    data = _json(cli("submit", spec, "--json", "--host", host, env={"DATABRICKS_TOKEN": TOKEN}))
    assert (data["status"], data["exit_code"], data["error"]["type"]) == ("error", 3, "WorkspaceUnreachable")
    assert "no run was created" in data["error"]["message"]

    result = cli("status", "42", "--host", host, env={"DATABRICKS_TOKEN": TOKEN})
    assert result.returncode == 3
    line = _one_line_error(result)
    assert "cannot connect to" in line and "the connection was refused" in line
    assert "no run was created" not in line  # status creates nothing: no need to reassure


_UNRESOLVED = "nonexistent.invalid"


def test_a_name_that_does_not_resolve_fails_fast_and_says_no_run_was_created(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name does not resolve, and no DNS query leaves the machine.
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
        if isinstance(name, str) and name.rstrip(".").lower() == _UNRESOLVED:
            lookups.append(name)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    env = {
        "DATABRICKS_TOKEN": TOKEN,
        # No proxy may stand between the client and the name it has to resolve.
        **{name: "" for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")},
    }
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    host = f"https://{_UNRESOLVED}"
    spec = _write(tmp_path / "run.json", small_body("unresolved"))
    started = time.monotonic()
    result = cli("submit", spec, "--wait", "--host", host, env=env)
    assert time.monotonic() - started < 15
    assert lookups, "the host name was never looked up through the patched resolver"
    assert result.returncode == 3, result.stderr
    line = _one_line_error(result)
    assert line.startswith(f"runspec: error: cannot connect to {host} (host from --host): "), line
    assert "the host name does not resolve" in line
    assert "no run was created" in line
    assert "--idempotency-token" not in line and "may exist" not in line
    assert all(len(text) < 300 for text in result.stderr.splitlines()), result.stderr  # short retry lines

    data = _json(cli("submit", spec, "--json", env={**env, "DATABRICKS_HOST": host}))
    assert (data["status"], data["exit_code"], data["error"]["type"]) == ("error", 3, "WorkspaceUnreachable")
    assert f"cannot connect to {host} (host from DATABRICKS_HOST)" in data["error"]["message"]
    assert "no run was created" in data["error"]["message"]


def test_a_failed_for_each_iteration_is_listed_under_its_task(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    def item(ctx: TaskContext) -> Outcome:
        return Outcome.fail(f"no data for {ctx.input}") if ctx.input == "b" else Outcome.success()

    emu.script("fe_item", item)
    body = {
        "run_name": "loop-failed",
        "tasks": [
            {"task_key": "fe_first", "notebook_task": {"notebook_path": "/x"}},
            {
                "task_key": "fe_loop",
                "depends_on": [{"task_key": "fe_first"}],
                "for_each_task": {
                    "inputs": '["a", "b", "c"]',
                    "task": {"task_key": "fe_item", "notebook_task": {"notebook_path": "/y"}},
                },
            },
        ],
    }
    spec = _write(tmp_path / "run.json", body)
    result = cli("submit", spec, "--wait", "--poll-interval", "0.1", env=_on(emu))
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    failed = out[out.index("failed tasks:") :]
    assert re.search(r"^  fe_loop: ", failed, re.MULTILINE), failed
    assert re.search(r"^    fe_loop\[1\]: .*no data for b", failed, re.MULTILINE), failed
    assert "fe_loop[0]" not in failed and "fe_loop[2]" not in failed
    assert "1 task did not succeed" in _one_line_error(result)  # tasks are counted, not iterations
    data = _json(cli("wait", str(_json_run_id(out)), "--json", env=_on(emu)))
    assert [t["key"] for t in data["failed_tasks"]] == ["fe_loop"]
    assert [i["key"] for i in data["failed_tasks"][0]["failed_iterations"]] == ["fe_loop[1]"]


def _json_run_id(out: str) -> int:
    match = re.search(r"submitted run (\d+)", out)
    assert match, out
    return int(match.group(1))


def test_resubmitting_with_a_used_token_says_it_returned_the_existing_run(
    cli: Cli, emu: Emulator, tmp_path: Path
) -> None:
    spec = _write(tmp_path / "run.json", small_body("again", name="again"))
    token = f"cli-again-{time.time_ns()}"
    first = cli("submit", spec, "--idempotency-token", token, env=_on(emu))
    assert first.returncode == 0, first.stderr
    run_id = _json_run_id(first.stdout)
    second = cli("submit", spec, "--idempotency-token", token, env=_on(emu))
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith(f"returned the existing run {run_id} (idempotency token {token} was used")
    assert "submitted run" not in second.stdout
    data = _json(cli("submit", spec, "--idempotency-token", token, "--json", env=_on(emu)))
    assert (data["run_id"], data["reattached"]) == (run_id, True)
    assert [r.body.get("idempotency_token") for r in emu.requests_to("runs/submit")].count(token) == 3


def test_every_new_command_is_listed_with_help_and_examples(cli: Cli) -> None:
    listed = cli("--help").stdout
    for command in ("status", "wait", "cancel", "outputs", "repair"):
        assert re.search(rf"^\s+{command}\s", listed, re.MULTILINE), command
        result = cli(command, "--help")
        assert result.returncode == 0, command
        assert "examples:" in result.stdout and "exit codes:" in result.stdout, command
        for flag in ("--json", "--host", "--profile", "RUN_ID"):
            assert flag in result.stdout, (command, flag)
    for command in ("validate", "render", "submit"):
        assert "--lenient" in cli(command, "--help").stdout, command
    submit_help = cli("submit", "--help").stdout
    assert "--key" in submit_help and "--attempt" in submit_help


def test_a_workspace_echoing_the_token_never_gets_it_printed(cli: Cli, emu: Emulator, tmp_path: Path) -> None:
    """Task errors, traces and logs are the server's text: every command shows them redacted."""
    emu.script("echo_bad", Outcome.fail(f"rejected Bearer {TOKEN}", trace=f"Traceback: header {TOKEN}"))
    emu.script("echo_logs", Outcome.success(logs=f"saw {TOKEN} in the environment", result=f"token={TOKEN}"))
    spec = _write(tmp_path / "run.json", small_body("echo_logs", "echo_bad", name="echoes"))
    results = [cli("submit", spec, "--wait", "--poll-interval", "0.1", env=_on(emu))]
    assert results[0].returncode == 1, results[0].stderr
    run_id = re.search(r"submitted run (\d+)", results[0].stdout + results[0].stderr)
    assert run_id is not None
    for command in (["status"], ["outputs"], ["outputs", "--json"], ["wait"], ["status", "--json"]):
        results.append(cli(*command, run_id.group(1), env=_on(emu)))
    printed = "".join(r.stdout + r.stderr for r in results)  # Cli has checked each for the token already
    assert "rejected Bearer <redacted>" in printed
    assert "token=<redacted>" in printed
