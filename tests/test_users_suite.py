"""
The suite under ``nohup``, started in the background, and with standard input closed: the tests that
send signals to a ``runspec`` process pass there too (a child inherits ignored signals unless the
test gives them back their default, as a terminal would).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _as_under_nohup_in_the_background() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # nohup
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a non-interactive shell's background job
    os.close(0)  # <&-


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_and_sighup_during_submit_wait_cancel_the_run_sighup_under_nohup() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-k",
            "SIGHUP or 0.25",
            "tests/test_cli_runs.py::test_sigterm_and_sighup_during_submit_wait_cancel_the_run",
            "tests/test_users_output.py::test_ctrl_c_in_the_first_quarter_second_exits_130",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_as_under_nohup_in_the_background,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "deselected" in done.stdout, done.stdout[-2000:]
    assert "failed" not in done.stdout and "error" not in done.stdout, done.stdout[-2000:]
