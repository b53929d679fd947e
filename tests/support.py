"""
Helpers shared by the test modules: the ``runspec`` command run in-process, and a clock that never waits.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from runspec.cli import main


def run_cli(
    args: Sequence[str], *, env: Mapping[str, str], stdin: str = "", cwd: Path
) -> subprocess.CompletedProcess[str]:
    """
    ``runspec ARGS`` through ``runspec.cli.main`` in this process, in ``cwd`` with environment ``env``;
    the exit code and both outputs, as ``subprocess.run`` gives them. Modules the command imported from
    ``cwd`` (a ``module:attribute`` SPEC) are forgotten afterwards, so the next test imports its own.
    """
    out, err = io.StringIO(), io.StringIO()
    modules, path, before = set(sys.modules), list(sys.path), os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args), stdin=io.StringIO(stdin), stdout=out, stderr=err, env=dict(env))
    finally:
        os.chdir(before)
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            where = getattr(sys.modules[name], "__file__", None) or ""
            if where.startswith(str(cwd)):
                del sys.modules[name]
    return subprocess.CompletedProcess(["runspec", *args], code, out.getvalue(), err.getvalue())


class FakeClock:
    """A monotonic clock that moves only when the client sleeps on it (``sleeps`` records each wait)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
