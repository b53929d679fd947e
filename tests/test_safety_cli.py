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

import pytest
import requests

from tests.support import run_cli

REPO = Path(__file__).resolve().parents[1]
SECRET = "emulator-secret-5d2c81"
PYTHON_TRACEBACK = "Traceback (most recent call last)"


def _env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "RUNSPEC_"))}
    env.update(HOME=str(home), PYTHONPATH=str(REPO), NO_COLOR="1", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


def run(home: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``runspec ARGS`` in-process (``runspec.cli.main``), with HOME ``home``."""
    return run_cli(args, env=_env(home, env), cwd=home)


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


@pytest.mark.process
def test_emulator_reads_its_token_from_a_file_and_keeps_it_out_of_its_arguments(tmp_path: Path) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_text(SECRET + "\n", encoding="utf-8")
    with emulator_process(tmp_path, "--token-file", str(token_file)) as (url, banner):
        assert status_with(url, SECRET) == 200
        assert status_with(url, "another") == 403
        assert "--token-file" in banner
    assert SECRET not in banner


@pytest.mark.process
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


# -- bad input: one line, never a traceback ---------------------------------------------------------


def _deep(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from runspec.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "args",
    [
        ("convert", "{file}", "--to", "run"),
        ("submit", "{file}", "--from-job"),
        ("submit-many", "{file}"),
    ],
)
def test_deeply_nested_job_json_is_one_invalid_json_problem(
    args: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", "http://127.0.0.1:9")
    monkeypatch.setenv("DATABRICKS_TOKEN", "unused")
    path = tmp_path / "deep.json"
    path.write_text(_deep(100_000), encoding="utf-8")
    code, _, err = in_process(capsys, *(a.format(file=path) for a in args))
    assert code == 2
    assert "nests too deeply" in err
    assert "[invalid-json]" in err


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (_deep(100_000), "nests too deeply"),
        ('{"t": {"seconds": 1' + "0" * 400 + "}}", "$.t.seconds must be a finite number"),
        ('{"t": {"seconds": 1' + "0" * 5000 + "}}", "too many digits"),
    ],
)
def test_emulator_script_with_deep_json_or_huge_numbers_is_one_line(
    text: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "outcomes.json"
    path.write_text(text, encoding="utf-8")
    code, _, err = in_process(capsys, "emulator", "--script", str(path))
    assert code == 2
    assert err.count("\n") == 1, err
    assert said in err


RUN = (
    '{"run_name": "r", "tasks": [{"task_key": "t", "existing_cluster_id": "c", '
    '"notebook_task": {"notebook_path": "/n"}}]}'
)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.process
def test_output_to_a_full_device_is_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    spec = tmp_path / "run.json"
    spec.write_text(RUN, encoding="utf-8")
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = subprocess.run(
            [sys.executable, "-m", "runspec", "convert", str(spec), "--to", "job"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(tmp_path),
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == "runspec: error: cannot write the output: No space left on device\n"


@pytest.mark.process
def test_output_to_a_closed_pipe_is_one_line_and_a_nonzero_exit(tmp_path: Path) -> None:
    spec = tmp_path / "run.json"
    spec.write_text(RUN, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "runspec", "convert", str(spec), "--to", "job"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read()
    assert process.wait(timeout=60) == 1
    assert err == "runspec: error: cannot write the output: the reader closed the pipe\n"
