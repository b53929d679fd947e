"""The documentation lists what the code does."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.doc_blocks import python_blocks

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"^[a-z]+(-[a-z]+)+$")
REPORTERS = {"error", "warn", "problem", "Problem", "_exactly_one"}


def _codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in (ROOT / "runspec").rglob("*.py"):
        if "testing" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in REPORTERS:
                continue
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and CODE.match(arg.value):
                    codes.add(arg.value)
    return codes


def test_every_problem_code_is_documented() -> None:
    """Each code the library can report has a row in docs/problems.md."""
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", (ROOT / "docs" / "problems.md").read_text(), re.M))
    codes = _codes_in_source()
    assert len(codes) > 40
    assert codes - documented == set()


def test_docs_links_in_readme_exist() -> None:
    """Every docs/ page the README links to exists."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for link in re.findall(r"\]\((docs/[\w.-]+)\)", readme):
        assert (ROOT / link).exists(), link


DOC_PAGES = sorted((ROOT / "docs").glob("*.md"))


def _runnable(page: Path) -> str:
    """The runnable python blocks of a page, in order, as one program (``not run`` blocks left out)."""
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    return "\n\n".join(f"# {page.name}:{b.line}\n{b.code}" for b in blocks if b.not_run is None)


def test_every_block_not_run_says_why() -> None:
    for page in [*DOC_PAGES, ROOT / "README.md"]:
        for block in python_blocks(page.read_text(encoding="utf-8")):
            assert block.not_run is None or block.not_run.strip(), f"{page.name}:{block.line}: say why it is not run"


@pytest.mark.parametrize("page", [p for p in DOC_PAGES if _runnable(p)], ids=lambda p: p.name)
def test_every_python_block_of_the_docs_runs(page: Path) -> None:
    """Each page's python blocks run as written, in order, in one program, from the repository root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", _runnable(page)], capture_output=True, text=True, timeout=180, cwd=ROOT, env=env
    )
    assert done.returncode == 0, f"{page.name}:\n{done.stderr[-3000:]}"


def test_block_finder_reads_fences_and_markers() -> None:
    """The examples' parser: nested fences are not blocks, a marker needs a reason and skips one block."""
    text = (
        "<!-- not run: needs a workspace -->\n```python\nimport nowhere\n```\n"
        "````\n```python\nshown = 'inside a longer fence'\n```\n````\n"
        "```python\nran = True\n```\n"
    )
    blocks = python_blocks(text)
    assert [(b.code, b.not_run) for b in blocks] == [("import nowhere\n", "needs a workspace"), ("ran = True\n", None)]


def test_reference_and_readme_link_each_other() -> None:
    """docs/reference.md exists, is linked from the README's "More", and runs (above)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    more = readme.split("## More", 1)[1]
    assert "(docs/reference.md)" in more
