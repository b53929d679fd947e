"""
The suite under ``nohup``, started in the background, and with standard input closed: the tests that
signal a ``runspec`` process start it through ``Cli.popen`` (tests/test_cli.py), which gives the child
SIGINT, SIGTERM and SIGHUP at their defaults, as a terminal would; a child that inherited ``nohup``'s
ignored SIGHUP would never stop (the SIGHUP test used to hang 60 s and fail there).

This test ignores those signals in this process, as ``nohup`` and a background shell do, and checks
that a ``runspec submit --wait`` started the tests' way still stops on SIGHUP and cancels its run.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runspec.testing import Emulator, Outcome
from tests.test_cli import TOKEN, Cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@contextlib.contextmanager
def _as_under_nohup_in_the_background() -> Iterator[None]:
    names = (signal.SIGHUP, signal.SIGINT)
    before = {signum: signal.getsignal(signum) for signum in names}
    try:
        for signum in names:
            signal.signal(signum, signal.SIG_IGN)
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_sigterm_and_sighup_during_submit_wait_cancel_the_run_sighup_under_nohup(tmp_path: Path) -> None:
    body = {
        "run_name": "under-nohup",
        "tasks": [{"task_key": "hangs", "notebook_task": {"notebook_path": "/x"}, "existing_cluster_id": "0101-abc"}],
    }
    spec = tmp_path / "run.json"
    spec.write_text(json.dumps(body), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    with Emulator(token=TOKEN, speed=20) as emu:
        emu.script("hangs", Outcome.hang())
        env = {"DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": TOKEN}
        command = ("submit", str(spec), "--wait", "--poll-interval", "0.1")
        with _as_under_nohup_in_the_background(), Cli(home, tmp_path).popen(*command, env=env) as child:
            assert child.stdout is not None
            for line in child.stdout:
                if re.search(r"hangs\s+RUNNING", line):
                    break
            child.send_signal(signal.SIGHUP)
            _, err = child.communicate(timeout=30)
        assert child.returncode == 129, err
        assert "stopped by SIGHUP: asked the workspace to cancel run" in err
        assert len(emu.requests_to("runs/cancel")) == 1
