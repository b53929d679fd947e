"""The README's commands and code run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.doc_blocks import python_blocks

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _marked(name: str) -> str:
    match = re.search(rf"<!-- {name} -->\s*```\n(.*?)\n```\s*<!-- /{name} -->", README, re.S)
    assert match, f"README.md has no {name} block"
    return match.group(1).strip()


def test_readme_python_blocks_run_in_order() -> None:
    """Every python block of the README runs, in order, in one namespace, against the emulator."""
    blocks = python_blocks(README)
    assert all(b.not_run is None or b.not_run.strip() for b in blocks), "say why a block is not run"
    runnable = [b.code for b in blocks if b.not_run is None]
    assert len(runnable) >= 5
    program = "\n\n".join(runnable)
    # The pipeline test in the README is a pytest function: call it with a real emulator too.
    program += (
        "\n\nwith Emulator(token='t') as _emu:\n    test_transform_failure_is_reported(_emu)\nprint('README OK')\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "README OK" in done.stdout


def test_readme_shows_the_errors_compile_really_prints() -> None:
    """The SpecError text shown in the README is what the code above it prints (modulo the '...')."""
    from runspec import NotebookTask, Run, SpecError

    broken = (
        Run("broken")
        .task(NotebookTask("/a"), key="a", depends_on=["c"], existing_cluster_id="0101-abc")
        .task(NotebookTask("/b"), key="b", depends_on=["a"], run_if="ALL_SUCESS", existing_cluster_id="0101-abc")
        .idempotency_token("x" * 80)
    )
    try:
        broken.compile()
    except SpecError as err:
        printed = str(err).splitlines()
    shown = re.search(r"```\n(3 problems in run 'broken':.*?)```", README, re.S)
    assert shown
    for expected, actual in zip(shown.group(1).strip().splitlines(), printed, strict=True):
        head, _, tail = expected.partition(" ... ")
        assert actual.startswith(head.rstrip(" ,")), (expected, actual)
        assert actual.endswith(tail or head), (expected, actual)


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run reads its test command from the README, and the command runs pytest in .venv."""
    command = _marked("test-command")
    assert "pytest" in command and ".venv" in command
    assert "test-command" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_main_command_runs_the_demo() -> None:
    """The README's main command installs runspec and runs `runspec demo`."""
    assert _marked("main-command").endswith("runspec demo")
