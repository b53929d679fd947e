"""
The ``runspec`` command and what users type: every mistake in the input is one line and exit 2, never a
traceback (closed standard input, unreadable or odd files, modules that fail on import), an empty
idempotency token is refused, and ``--lenient`` lets fields newer than runspec through.

Each test runs ``python -m runspec`` as a subprocess (``Cli`` asserts no output holds a traceback or the token).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runspec.testing import Emulator
from tests import test_cli
from tests.test_cli import (
    PYTHON_TRACEBACK,
    SUBPROCESS_TIMEOUT,
    Cli,
    _env,
    _json,
    _on,
    _one_line_error,
    _write,
    small_body,
)

# The fixtures of tests/test_cli.py: one emulator per module, a clean HOME per test.
emu = test_cli.emu
home = test_cli.home
cli = test_cli.cli


def _closed_stdin(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    """``runspec ARGS <&-``: started with file descriptor 0 closed, as a shell does it."""
    result = subprocess.run(
        ["/bin/sh", "-c", 'exec "$0" -m runspec "$@" <&-', sys.executable, *args],
        capture_output=True,
        text=True,
        env=_env(cli.home),
        cwd=str(cli.cwd),
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert PYTHON_TRACEBACK not in result.stdout + result.stderr, result.stderr
    return result


# ---------------------------------------------------------------------------------------------------
# Standard input


@pytest.mark.skipif(not os.path.exists("/bin/sh"), reason="needs a POSIX shell to close standard input")
@pytest.mark.parametrize("command", ["validate", "render", "submit"])
@pytest.mark.process
def test_closed_stdin_is_one_line_and_exit_2(cli: Cli, command: str) -> None:
    result = _closed_stdin(cli, command, "-")
    assert result.returncode == 2, result.stderr
    if command == "validate":
        assert result.stdout.strip() == "-: error: standard input is closed; pipe the JSON body in, or give a file name"
    else:
        assert "standard input is closed" in _one_line_error(result)


@pytest.mark.process
def test_binary_stdin_is_one_line(cli: Cli) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runspec", "render", "-"],
        input=b"\xff\xfe\x00garbage",
        capture_output=True,
        env=_env(cli.home),
        cwd=str(cli.cwd),
        timeout=SUBPROCESS_TIMEOUT,
    )
    err = result.stderr.decode()
    assert result.returncode == 2
    assert PYTHON_TRACEBACK not in err
    assert "not UTF-8 text" in err


# ---------------------------------------------------------------------------------------------------
# Files


def test_file_name_too_long_is_one_line(cli: Cli) -> None:
    name = "x" * 5000 + ".json"
    for command in ("render", "submit"):
        result = cli(command, name)
        assert result.returncode == 2
        assert "the file name is too long for this system" in _one_line_error(result)
    result = cli("validate", name)
    assert result.returncode == 2
    assert "the file name is too long" in result.stdout


# Files that only their writer may touch: root reads past a mode of 0, but not these (the kernel checks their
# mode for root too), so the same refusal reaches the command whoever runs the suite.
_WRITE_ONLY_FILES = ("/proc/sys/vm/drop_caches", "/proc/sys/vm/compact_memory")


def _unreadable(path: Path) -> Path:
    """A regular file at ``path`` (or a link from it) that this user cannot open for reading."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        target = next((Path(name) for name in _WRITE_ONLY_FILES if os.path.isfile(name)), None)
        assert target is not None, f"running as root, this test needs one of {_WRITE_ONLY_FILES}"
        path.symlink_to(target)
    else:
        _write(path, small_body("a"))
        path.chmod(0)
    with pytest.raises(PermissionError):  # the precondition: the OS itself refuses to read it
        path.open("rb").close()
    return path


def test_unreadable_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    spec = _unreadable(tmp_path / "secret.json")
    try:
        for command in ("render", "submit"):
            result = cli(command, str(spec))
            assert result.returncode == 2, result.stderr
            assert _one_line_error(result) == f"runspec: error: {spec}: cannot read it: Permission denied"
        result = cli("validate", str(spec))
        assert result.returncode == 2
        assert f"{spec}: error: cannot read it: Permission denied" in result.stdout
    finally:
        if not spec.is_symlink():
            spec.chmod(0o600)


def test_directory_and_device_are_one_line(cli: Cli, tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path))
    assert result.returncode == 2
    assert "a directory" in result.stdout
    if os.path.exists("/dev/null"):
        result = cli("render", "/dev/null")
        assert result.returncode == 2
        assert "not a regular file" in _one_line_error(result)


def test_binary_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    blob = tmp_path / "blob.json"
    blob.write_bytes(bytes(range(256)))
    result = cli("submit", str(blob))
    assert result.returncode == 2
    assert "not UTF-8 text" in _one_line_error(result)


# ---------------------------------------------------------------------------------------------------
# module:attribute that fails


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("import sys\nsys.exit(7)\n", "SystemExit: 7"),
        ("raise SystemExit('bye')\n", "SystemExit: bye"),
        ("class Stop(BaseException):\n    pass\n\nraise Stop('deep')\n", "Stop: deep"),
        ("raise GeneratorExit\n", "GeneratorExit"),
    ],
)
def test_module_raising_a_base_exception_is_one_line(cli: Cli, tmp_path: Path, code: str, expected: str) -> None:
    (tmp_path / "leaving.py").write_text(code + "run = None\n", encoding="utf-8")
    for command in ("validate", "render", "submit"):
        result = cli(command, "leaving:run")
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        output = result.stdout if command == "validate" else _one_line_error(result)
        assert "importing leaving failed" in output
        assert expected in output
        assert "leaving.py:" in output  # where the user's code stopped


def test_function_calling_sys_exit_is_one_line(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "quits.py").write_text("import sys\n\ndef run():\n    sys.exit(3)\n", encoding="utf-8")
    result = cli("render", "quits:run")
    assert result.returncode == 2
    assert "calling quits:run() failed: SystemExit: 3" in _one_line_error(result)


# ---------------------------------------------------------------------------------------------------
# --idempotency-token ""


@pytest.mark.parametrize("command", ["submit", "render"])
def test_empty_idempotency_token_is_refused(cli: Cli, tmp_path: Path, emu: Emulator, command: str) -> None:
    spec = _write(tmp_path / "run.json", small_body("tok_a"))
    before = len(emu.requests_to("runs/submit"))
    extra = ["--request"] if command == "render" else []
    for empty in ("", "   "):
        result = cli(command, spec, *extra, "--idempotency-token", empty, env=_on(emu))
        assert result.returncode == 2
        assert "the token is empty" in result.stderr
    assert len(emu.requests_to("runs/submit")) == before, "nothing may be sent"


# ---------------------------------------------------------------------------------------------------
# --lenient


NEWER = {
    "run_name": "newer",
    "brand_new_setting": {"on": True},
    "tasks": [{"task_key": "n_one", "notebook_task": {"notebook_path": "/x", "future_knob": 3}}],
}


def test_unknown_fields_point_at_lenient(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "newer.json", NEWER)
    result = cli("validate", spec)
    assert result.returncode == 2
    unknown = [line for line in result.stdout.splitlines() if "[unknown-field]" in line]
    assert len(unknown) == 2, result.stdout
    for line in unknown:
        assert "--lenient" in line
        assert "strict=False" not in line
    data = _json(cli("validate", spec, "--json"))
    messages = [p["message"] for p in data["specs"][0]["problems"]]
    assert all("--lenient" in m and "strict=False" not in m for m in messages), messages
    result = cli("render", spec)
    assert result.returncode == 2
    assert "--lenient" in result.stderr
    assert "strict=False" not in result.stderr


def test_lenient_validate_and_render_pass_newer_fields_through(cli: Cli, tmp_path: Path) -> None:
    spec = _write(tmp_path / "newer.json", NEWER)
    result = cli("validate", spec, "--lenient")
    assert result.returncode == 0, result.stdout
    assert "valid (1 task, 2 warnings)" in result.stdout
    assert result.stdout.count("warning: ") == 2
    assert "[unknown-field]" in result.stdout

    result = cli("render", spec, "--lenient")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == NEWER  # sent exactly as given
    assert result.stderr.count("[unknown-field]") == 2


def test_lenient_submit_sends_newer_fields(cli: Cli, tmp_path: Path, emu: Emulator) -> None:
    body = {**NEWER, "tasks": [{"task_key": "len_one", "notebook_task": {"notebook_path": "/x"}}]}
    spec = _write(tmp_path / "newer.json", body)
    refused = cli("submit", spec, env=_on(emu))
    assert refused.returncode == 2
    result = cli("submit", spec, "--lenient", "--json", env=_on(emu))
    assert result.returncode == 0, result.stderr
    run_id = _json(result)["run_id"]
    sent = [r for r in emu.requests_to("runs/submit") if r.body.get("run_name") == "newer"]
    assert sent and sent[-1].body["brand_new_setting"] == {"on": True}
    assert "[unknown-field]" in result.stderr
    assert run_id == emu.run(run_id)["run_id"]


def test_lenient_applies_to_a_dict_from_a_module(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "bodies.py").write_text(f"body = {NEWER!r}\n", encoding="utf-8")
    assert cli("validate", "bodies:body").returncode == 2
    assert cli("validate", "bodies:body", "--lenient").returncode == 0
