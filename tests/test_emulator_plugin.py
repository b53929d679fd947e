"""The pytest plugin as a user's test suite loads it: fixtures, the marker, the environment fixture."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = """
import json
import os
import urllib.request

import pytest

from runspec.testing import Emulator, LocalCode, ManualClock, Outcome


def get(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_fixture_is_a_running_emulator(runspec_emulator):
    assert isinstance(runspec_emulator, Emulator)
    listed = get(runspec_emulator.url + "/api/2.2/jobs/runs/list", runspec_emulator.token)
    assert listed == {"has_more": False}


@pytest.mark.runspec_emulator(token="marked", clock=ManualClock())
def test_marker_options(runspec_emulator):
    assert runspec_emulator.token == "marked"
    assert isinstance(runspec_emulator.clock, ManualClock)


def test_ini_code_option(runspec_emulator):
    assert runspec_emulator.code.folder.name == "code"  # runspec_emulator_code = code, from the ini file


@pytest.mark.runspec_emulator(code=LocalCode("elsewhere"))
def test_marker_code(runspec_emulator):
    assert runspec_emulator.code.root == "elsewhere"


def test_env_fixture(runspec_emulator_env):
    assert os.environ["DATABRICKS_HOST"] == runspec_emulator_env.url
    assert os.environ["DATABRICKS_TOKEN"] == runspec_emulator_env.token
    assert "DATABRICKS_CONFIG_PROFILE" not in os.environ
"""


def test_plugin_fixtures_in_a_users_suite(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    (tmp_path / "pytest.ini").write_text("[pytest]\nrunspec_emulator_code = code\n")
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "DATABRICKS_CONFIG_PROFILE": "x"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "runspec.testing.pytest_plugin",
            "--strict-markers",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
