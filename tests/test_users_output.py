"""
Output discipline: the library prints nothing unless the application configures logging; the command
shows retry notices only with ``-v`` and one line for a host that cannot be reached; 401/403 lines say
which credentials were used; Ctrl-C while the command starts exits 130 without a traceback;
``runspec demo --code`` runs as pasted; ``dir(runspec)`` shows the public names only.

The library's own logging is checked in a fresh interpreter (this process's logging is pytest's);
the command runs in-process through ``runspec.cli.main``, except where the start of the installed
command is the point.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from runspec.cli import main
from runspec.testing import Emulator, InstantClock

TOKEN = "users-output-token"
BODY = {
    "run_name": "output",
    "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "0101-abc"}],
}
ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        **kwargs,  # type: ignore[call-overload]
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def body_file(tmp_path: Path) -> str:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(BODY))
    return str(path)


def test_library_prints_retry_and_reattach_notices_without_logging_configured() -> None:
    done = _python(
        """
        import logging
        from runspec import RunSpec, submit
        from runspec.testing import Emulator, Fault, InstantClock
        body = {"run_name": "quiet", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"},
                "existing_cluster_id": "0101-abc"}]}
        with Emulator(token="t", clock=InstantClock()) as emu:
            emu.inject(Fault.unavailable(), "runs/submit", times=1)
            spec = RunSpec.from_dict(body)
            no_wait = dict(host=emu.url, token="t", sleep=lambda seconds: None)
            submit(spec, **no_wait).wait(poll_interval=0.01)
            submit(spec, key="k1", **no_wait)
            submit(spec, key="k1", **no_wait)  # reattaches: a warning a user may log
        handlers = logging.getLogger("runspec").handlers
        assert any(isinstance(h, logging.NullHandler) for h in handlers), handlers
        print("done")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    assert done.stderr == ""


def test_library_logs_reach_an_application_that_configured_logging() -> None:
    done = _python(
        """
        import logging
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
        from runspec import RunSpec, submit
        from runspec.testing import Emulator, Fault, InstantClock
        body = {"run_name": "loud", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"},
                "existing_cluster_id": "0101-abc"}]}
        with Emulator(token="t", clock=InstantClock()) as emu:
            emu.inject(Fault.unavailable(), "runs/submit", times=1)
            submit(RunSpec.from_dict(body), host=emu.url, token="t", sleep=lambda seconds: None)
        """
    )
    assert done.returncode == 0, done.stderr
    assert "runspec.retries: POST /api/2.2/jobs/runs/submit: HTTP 503; retrying in" in done.stderr


def test_wrong_host_prints_retry_lines_before_the_one_line_error(
    body_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    host = f"http://127.0.0.1:{_closed_port()}"
    assert main(["submit", body_file, "--host", host]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"runspec: error: cannot connect to {host} (host from --host)")
    assert "no run was created" in err

    assert main(["status", "1", "--host", host, "-v"]) == 3
    _, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) > 1 and all("trying again in" in line for line in lines[:-1]), err
    assert lines[-1].startswith("runspec: error: cannot connect to")


@pytest.mark.parametrize("status", [401, 403])
def test_cli_401_403_lines_leave_out_the_credentials_used(
    status: int, body_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Emulator(token=TOKEN, clock=InstantClock(), invalid_token_status=status) as emu:
        monkeypatch.setenv("DATABRICKS_HOST", emu.url)
        monkeypatch.setenv("DATABRICKS_TOKEN", "not-" + TOKEN)
        assert main(["submit", body_file]) == 3
        _, submit_err = capsys.readouterr()
        assert main(["status", "1"]) == 3
        _, status_err = capsys.readouterr()
    for err in (submit_err, status_err):
        assert f"-> {status}" in err
        assert "(pat credentials from DATABRICKS_TOKEN)" in err, err
        assert "not-" + TOKEN not in err


def _until_python_catches_sigint(pid: int, timeout: float = 10.0) -> None:
    """
    Wait (on Linux) until the interpreter has installed its SIGINT handler: before that, a Ctrl-C ends
    any program by the default action, whatever it is. On a loaded machine that moment can come later
    than the delay the test means to interrupt at.
    """
    status = f"/proc/{pid}/status"
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        try:
            with open(status, encoding="ascii") as handle:
                caught = next(line for line in handle if line.startswith("SigCgt:"))
        except (OSError, StopIteration):
            return  # no /proc (or the process ended): interrupt now
        if int(caught.split()[1], 16) & (1 << (signal.SIGINT - 1)):
            return
        time.sleep(0.005)


def _start_then_interrupt(delay: float) -> subprocess.CompletedProcess[str]:
    """
    Start ``runspec status`` against a workspace that accepts the connection and never answers, so the
    command is still running however fast or slow it starts, and interrupt it after ``delay`` seconds.
    """
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        command = [os.path.join(os.path.dirname(sys.executable), "runspec"), "status", "1", "--host", host]
        child = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "DATABRICKS_TOKEN": "dapi-interrupt-test"},
            # A shell that starts the suite in the background ignores SIGINT; a terminal's Ctrl-C does not.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            _until_python_catches_sigint(child.pid)
            child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    return subprocess.CompletedProcess(command, child.returncode, out, err)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("delay", [0.15, 0.25])
def test_ctrl_c_in_the_first_quarter_second_exits_130(delay: float) -> None:
    done = _start_then_interrupt(delay)
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines()[-1] == "runspec: error: interrupted"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_while_the_command_imports_exits_130() -> None:
    """Deterministic: the interrupt arrives after ``runspec`` is imported, while the command's modules load."""
    done = _python(
        """
        import os, signal, sys
        sys.modules["__main__"].__file__ = os.path.join(os.path.dirname(sys.executable), "runspec")
        import runspec
        os.kill(os.getpid(), signal.SIGINT)
        import runspec.cli
        print("not reached")
        """,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert done.returncode == 130
    assert done.stdout == ""
    assert done.stderr == "runspec: error: interrupted\n"


def test_demo_code_fails_when_pasted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--code"]) == 0
    code, _ = capsys.readouterr()
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("runspec-demo: 5 tasks")


def test_dir_runspec_shows_any_type_checking_annotations() -> None:
    import runspec

    names = dir(runspec)
    for private in ("Any", "TYPE_CHECKING", "annotations"):
        assert private not in names
    assert set(runspec.__all__) <= set(names)
    assert "__version__" in names
