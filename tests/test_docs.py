"""The documentation lists what the code does."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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
