"""
What a new user meets first: the name to install, why to choose runspec, and README examples that
work when pasted on their own. (Building the wheel and installing it into a fresh environment is a
step of ``.ci/run``, not a test, to keep the suite fast.)
"""

from __future__ import annotations

import configparser
import importlib.metadata
import re
from pathlib import Path

from runspec.testing import Emulator, pytest_plugin
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


def test_readme_pytest_block_runs_pasted_alone() -> None:
    """
    The README's pipeline test, pasted alone into a test file, needs nothing from the blocks above it:
    run in an empty namespace, its test function passes with the emulator the fixture gives.
    """
    (block,) = [b for b in python_blocks(README) if "def test_" in b.code]
    namespace: dict[str, object] = {"__name__": "test_pipeline"}
    exec(compile(block.code, "test_pipeline.py", "exec"), namespace)  # a test's own file, as pytest imports it
    test = namespace["test_transform_failure_is_reported"]
    assert callable(test)
    with Emulator(token="t") as emulator:
        test(emulator)
    fixtures = {fixture for fixture in dir(pytest_plugin) if not fixture.startswith("_")}
    assert "runspec_emulator" in fixtures, "the fixture the test takes is the plugin's"
