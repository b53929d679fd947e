"""
What a new user meets first: the name to install, why to choose runspec, and README examples that
work when pasted on their own. (Building the wheel and installing it into a fresh environment is a
step of ``.ci/run``, not a test, to keep the suite fast.)
"""

from __future__ import annotations

import configparser
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

from tests.doc_blocks import python_blocks

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DISTRIBUTION = "databricks-runspec"


def test_pip_install_runspec_installs_another_project() -> None:
    """The distribution has a name of its own; the README names it and warns about the other `runspec`."""
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    assert setup["metadata"]["name"] == DISTRIBUTION
    installed = importlib.metadata.distribution(DISTRIBUTION)
    assert {ep.name for ep in installed.entry_points if ep.group == "console_scripts"} == {"runspec"}
    assert f"pip install {DISTRIBUTION}" in README
    assert re.search(r"`pip install runspec`[^.]*unrelated", README), "the README warns about the other runspec"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for step in ("-m build", '/bin/runspec" --version', "import runspec", '/bin/runspec" demo'):
        assert step in ci, step


def test_readme_never_says_why_to_choose_runspec() -> None:
    """A "Why runspec" table near the top, each row linked to where this repository measures it."""
    head = README.split("## Try it", 1)[0]
    assert "## Why runspec" in head
    table = [line for line in head.split("## Why runspec", 1)[1].splitlines() if line.startswith("|")]
    header = table[0]
    for peer in ("databricks-sdk", "bundles", "Airflow"):
        assert peer in header, peer
    rows = table[2:]
    assert len(rows) >= 6
    topics = " ".join(row.split("|")[1] for row in rows).lower()
    for topic in ("checks", "exactly once", "crash", "emulator", "import", "wait"):
        assert topic in topics, topic
    for row in rows:
        links = re.findall(r"\]\(([^)#]+)", row)
        assert links, f"row without a link to its measurement: {row}"
        for link in links:
            assert (ROOT / link).exists(), link


def test_readme_pytest_block_runs_pasted_alone(tmp_path: Path) -> None:
    """The README's pipeline test, pasted alone into a file, passes under pytest with the fixture."""
    (block,) = [b for b in python_blocks(README) if "def test_" in b.code]
    (tmp_path / "test_pipeline.py").write_text(block.code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_pipeline.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
