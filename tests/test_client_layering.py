"""The client layer depends on the spec layer only, and `import runspec` does not load requests."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import runspec.client

CLIENT = Path(runspec.client.__file__).parent


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_client_never_imports_the_builder() -> None:
    for path in sorted(CLIENT.glob("*.py")):
        modules = imported_modules(path)
        builder = {m for m in modules if m in ("runspec.run", "runspec.Run") or m.startswith("runspec.run.")}
        assert builder == set(), f"{path.name} imports the builder: {builder}"


def test_import_runspec_does_not_load_requests() -> None:
    code = "import sys, runspec, runspec.spec; print('requests' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_first_use_of_submit_loads_the_client() -> None:
    code = "import sys, runspec; runspec.submit; print('requests' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"
