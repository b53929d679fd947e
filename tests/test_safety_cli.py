"""
The ``runspec`` command on bad input and hostile surroundings: every case ends with a one-line error and
a non-zero exit, never a traceback; ``runspec emulator`` can take its token without showing it in ``ps``.

Commands run as subprocesses (``python -m runspec``) where the process is the point: its arguments, its
exit code and what reaches stderr.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
SECRET = "emulator-secret-5d2c81"
PYTHON_TRACEBACK = "Traceback (most recent call last)"


def _env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "RUNSPEC_"))}
    env.update(HOME=str(home), PYTHONPATH=str(REPO), NO_COLOR="1", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


def run(home: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runspec", *args],
        capture_output=True,
        text=True,
        env=_env(home, env),
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


@contextmanager
def emulator_process(home: Path, *args: str, env: Mapping[str, str] | None = None) -> Iterator[tuple[str, str]]:
    """A running ``runspec emulator``: its URL and the first line it printed; stopped with SIGINT."""
    process = subprocess.Popen(
        [sys.executable, "-m", "runspec", "emulator", "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(home, env),
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", banner)
        assert found is not None, banner + (process.stderr.read() if process.stderr else "")
        yield found.group(0), banner
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def status_with(url: str, token: str) -> int:
    answer = requests.get(f"{url}/api/2.2/jobs/runs/list", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return answer.status_code


def test_emulator_reads_its_token_from_a_file_and_keeps_it_out_of_its_arguments(tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(SECRET + "\n", encoding="utf-8")
    with emulator_process(tmp_path, "--token-file", str(token_file)) as (url, banner):
        assert status_with(url, SECRET) == 200
        assert status_with(url, "another") == 403
        assert "--token-file" in banner
    assert SECRET not in banner


def test_emulator_reads_its_token_from_the_environment(tmp_path: Path) -> None:
    with emulator_process(tmp_path, env={"RUNSPEC_EMULATOR_TOKEN": SECRET}) as (url, banner):
        assert status_with(url, SECRET) == 200
        assert status_with(url, "another") == 403
        assert "RUNSPEC_EMULATOR_TOKEN" in banner


def test_emulator_token_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    result = run(tmp_path, "emulator", "--token-file", str(tmp_path / "missing.txt"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "missing.txt" in result.stderr
