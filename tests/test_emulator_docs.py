"""docs/emulator.md: the snippets of the client sections, the outcomes file and the socket-free example run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runspec.testing import Emulator, load_outcomes

DOC = (Path(__file__).resolve().parent.parent / "docs" / "emulator.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)


def section(title: str) -> list[tuple[str, str]]:
    """The fenced blocks (language, text) of the section headed ``## title``."""
    start = DOC.index(f"\n## {title}\n")
    end = DOC.find("\n## ", start + 1)
    return BLOCK.findall(DOC[start : end if end != -1 else None])


def run_python(code: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "AIRFLOW_"))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("title", ["Use it from Airflow", "Use it from the legacy CLI"])
def test_client_section_snippets_run(title: str, tmp_path: Path) -> None:
    """Each on its own, in a clean environment: the Airflow one sets a connection variable."""
    blocks = [code for language, code in section(title) if language == "python"]
    assert blocks, title
    for code in blocks:
        run_python(code, tmp_path)


def test_the_sdk_section_runs_with_the_rest_of_the_page() -> None:
    """The SDK's snippet is run by tests/test_docs.py with the page (the SDK's import alone takes seconds)."""
    from tests.doc_blocks import python_blocks

    (sdk,) = [code for language, code in section("Use it from the SDK") if language == "python"]
    run = [block.code for block in python_blocks(DOC) if block.not_run is None]
    assert sdk in run


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl program")
def test_curl_section_runs_as_written(tmp_path: Path) -> None:
    blocks = dict(section("Use it from curl"))
    (tmp_path / "body.json").write_text(blocks["json"], encoding="utf-8")
    with Emulator(token="t") as emu:
        env = {**os.environ, "DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": "t"}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", blocks["bash"]],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        run = json.loads(done.stdout)
        assert run["run_name"] == "from-curl" and run["state"]["result_state"] == "SUCCESS"
        assert emu.requests_to("runs/submit")[0].headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_the_outcomes_file_example_loads() -> None:
    example = next(code for language, code in section("Scripting tasks") if language == "json")
    scripts = load_outcomes(json.loads(example))
    assert set(scripts) == {"ingest", "transform", "load", "stream", "*"}


def test_the_socket_free_examples_run(tmp_path: Path) -> None:
    blocks = [code for language, code in section("Without a socket") if language == "python"]
    assert len(blocks) == 2 and "transport=emu.transport()" in blocks[0]
    for code in blocks:
        run_python(code, tmp_path)
