"""
The documentation a new user reads: what it shows in Python, what it imports, what ``--help`` lists.
(The Python blocks of every page run in tests/test_docs.py; these tests check what the pages cover.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runspec.cli import main
from tests.doc_blocks import python_blocks

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _runnable_code() -> str:
    return "\n".join(b.code for page in PAGES for b in python_blocks(page.read_text(encoding="utf-8")) if not b.not_run)


def test_nothing_shows_for_each_condition_wheel_or_git_source_tasks_in_python() -> None:
    code = _runnable_code()
    for made in ("ForEachTask(", "ConditionTask(", "PythonWheelTask(", ".git("):
        assert made in code, f"no runnable example builds {made}"
    assert "docs/task-types.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_api_model_md_imports_a_private_module() -> None:
    """No example imports a module whose name starts with an underscore (runspec.spec.model._job_objects)."""
    private = re.compile(r"^\s*(?:from|import)\s+runspec(?:\.\w+)*\._\w+", re.M)
    for page in PAGES:
        for block in python_blocks(page.read_text(encoding="utf-8")):
            found = private.search(block.code)
            assert found is None, f"{page.name}:{block.line}: {found.group(0).strip() if found else ''}"
    from runspec.spec.jobs import CreateJob, JobSettings

    assert JobSettings.from_dict({"name": "n"}).name == "n"
    assert CreateJob.__name__ == "CreateJob"


def test_reference_md_lacks_repair_and_key_conflict() -> None:
    reference = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert re.search(r"^\| `repair\(tasks=None, \*, dependents=True\)` \| .*repair id", reference, re.M)
    assert re.search(r"^\| `KeyConflict` \| .*`differences`", reference, re.M)
    assert "KeyConflict" in reference.split("## Exceptions", 1)[1].split("```", 2)[1]  # in the tree


def test_runspec_emulator_help_omits_repair_and_cancel_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--help"]) == 0
    out, _ = capsys.readouterr()
    words = " ".join(out.split())
    assert "cancel-all" in words and "repair" in words
