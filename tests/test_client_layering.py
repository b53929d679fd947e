"""The client layer depends on the spec layer only, and `import runspec` does not load requests."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
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
        builder = {
            m for m in modules if m in ("runspec.build", "runspec.run", "runspec.Run") or m.startswith("runspec.build.")
        }
        assert builder == set(), f"{path.name} imports the builder: {builder}"


def test_import_runspec_does_not_load_requests() -> None:
    code = "import sys, runspec, runspec.spec; print('requests' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_first_use_of_submit_loads_the_client() -> None:
    code = "import sys, runspec; runspec.submit; print('requests' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


def test_errors_do_not_name_the_client_result_types() -> None:
    """runspec.errors sits below the client: no import of it, not even for annotations or in strings."""
    errors = CLIENT.parent / "errors.py"
    text = errors.read_text()
    assert not [m for m in imported_modules(errors) if m.startswith("runspec.client")]
    for name in ("RunView", "TaskView", "OutputView", "runspec.client"):
        assert name not in text, name


def test_the_transport_reads_the_version_without_the_package_root() -> None:
    for path in sorted(CLIENT.glob("*.py")):
        found = imported_modules(path)
        assert "runspec" not in found and not any(m == "runspec.__version__" for m in found), path.name


def test_client_modules_stay_small() -> None:
    for path in sorted(CLIENT.glob("*.py")):
        assert len(path.read_text().splitlines()) <= 600, path.name


def test_prepare_and_the_new_client_names_are_public_and_lazy() -> None:
    """runspec.prepare loads the client on first use; the new errors are plain attributes."""
    code = textwrap.dedent(
        """
        import sys
        import runspec
        print("requests" in sys.modules)
        from runspec.client import prepare
        print(runspec.prepare is prepare)
        print(issubclass(runspec.KeyConflict, runspec.SubmitError))
        print(issubclass(runspec.WorkspaceUnreachable, runspec.TransportError))
        print(issubclass(runspec.HostError, (runspec.ConfigError)) and issubclass(runspec.HostError, ValueError))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True", "True", "True", "True"]


def test_the_version_has_one_home() -> None:
    """runspec.__version__ comes from runspec/_version.py, which the client reads without the package root."""
    import runspec
    from runspec._version import __version__

    assert runspec.__version__ == __version__
