"""
The ``runspec`` command's shared options (``--host``, ``--profile``, ``-v``, ``--deadline``, ``--timeout``,
``--poll-interval``) are parsed once into one typed, frozen ``Settings`` value that every command receives.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

import runspec.cli
from runspec import Workspace, submit
from runspec.cli._main import build_parser
from runspec.cli._options import Settings
from runspec.client.auth import WORKSPACE_SETTINGS
from runspec.client.transport import DEFAULT_DEADLINE
from runspec.testing import Emulator, Outcome
from tests.support import run_cli

TOKEN = "settings-test-token-51b0"
COMMANDS_WITH_A_WORKSPACE = (
    ["status", "7"],
    ["wait", "7"],
    ["cancel", "7"],
    ["outputs", "7"],
    ["repair", "7"],
    ["submit", "body.json"],
    ["submit-many", "runs.jsonl"],
    ["render", "body.json", "--request"],
)


@pytest.mark.parametrize("words", COMMANDS_WITH_A_WORKSPACE, ids=lambda words: words[0])
def test_every_command_gets_its_workspace_options_as_one_frozen_settings_value(words: list[str]) -> None:
    args = build_parser().parse_args([*words, "--host", "https://adb-1.azuredatabricks.net", "--profile", "dev", "-v"])
    settings = Settings.parse(args)
    assert (settings.host, settings.profile, settings.verbose) == ("https://adb-1.azuredatabricks.net", "dev", True)
    assert settings.workspace() == {"host": "https://adb-1.azuredatabricks.net", "profile": "dev"}
    assert settings.words() == ["--host", "https://adb-1.azuredatabricks.net", "--profile", "dev"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.host = "https://elsewhere.example.com"  # type: ignore[misc]


def test_the_per_call_settings_are_typed_and_default_as_the_client_does() -> None:
    args = build_parser().parse_args(["wait", "7", "--deadline", "12", "--timeout", "30", "--poll-interval", "2"])
    assert Settings.parse(args) == Settings(deadline=12.0, timeout=30.0, poll_interval=2.0)
    # A command without the option (status has no --timeout) gets the default; --deadline's is the client's.
    assert Settings.parse(build_parser().parse_args(["status", "7"])) == Settings()
    assert Settings().deadline == DEFAULT_DEADLINE
    assert Settings.parse(build_parser().parse_args(["validate", "body.json"])) == Settings()


def test_the_workspace_settings_of_the_command_are_the_clients_own() -> None:
    """Each workspace option is a setting of ``Workspace.resolve()`` by the same name (declared once there)."""
    resolve = inspect.signature(Workspace.resolve).parameters
    named = Settings().workspace()
    assert set(named) == {"host", "profile"}
    for name in named:
        assert name in WORKSPACE_SETTINGS
        assert resolve[name].default is None


def test_no_command_reads_the_shared_options_from_the_namespace() -> None:
    shared = {field.name for field in dataclasses.fields(Settings)}
    found = []
    for path in sorted(Path(runspec.cli.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "args":
                if node.attr in shared:
                    found.append(f"{path.name}:{node.lineno} args.{node.attr}")
            elif isinstance(node, ast.Call) and len(node.args) > 1 and ast.unparse(node.args[0]) == "args":
                name = node.args[1]
                if isinstance(name, ast.Constant) and name.value in shared:
                    found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    assert found == []


def test_the_host_given_reaches_the_workspace_and_the_commands_printed_next(
    host: str, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.script("a", Outcome.hang())
    spec = {"run_name": "r", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/a"}}]}
    run_id = submit(spec, host, TOKEN).run_id
    result = run_cli(["cancel", str(run_id), "--host", host], env={"DATABRICKS_TOKEN": TOKEN}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"runspec wait {run_id} --host {host}" in result.stdout
    assert [call.body for call in emulator.requests_to("runs/cancel")] == [{"run_id": run_id}]


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["emulator", "--port", "http"], "argument --port: expected a port number, got 'http'"),
        (["emulator", "--port", "70000"], "argument --port: a port is between 0 and 65535, got 70000"),
        (["emulator", "--speed", "fast"], "argument --speed: expected a number of seconds, got 'fast'"),
        (["emulator", "--speed", "inf"], "argument --speed: expected a number > 0, got 'inf'"),
        (["emulator", "--max-finished-runs", "-1"], "argument --max-finished-runs: expected 0 or more, got -1"),
        (["emulator", "--max-active-tasks", "0"], "argument --max-active-tasks: expected a whole number >= 1, got 0"),
        (["emulator", "--max-active-tasks", "2.5"], "argument --max-active-tasks: expected a whole number, got '2.5'"),
        (["emulator", "--requests-per-second", "x"], "argument --requests-per-second: expected a number, got 'x'"),
        (["submit", "s.json", "--key", "k", "--attempt", "one"], "argument --attempt: an attempt is a whole number"),
        (["submit", "s.json", "--key", "k", "--attempt", "0"], "argument --attempt: attempts count from 1, got 0"),
    ],
)
def test_option_values_are_checked_with_a_message_each(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert said in capsys.readouterr().err
