"""
The public surface: ``runspec.__all__`` sorted, complete and documented; ``import runspec`` cheap
(no ``requests``); ``py.typed`` shipped; the spec layer independent of the builder and the client.
"""

from __future__ import annotations

import ast
import configparser
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import runspec
import runspec.build
import runspec.spec

PACKAGE = Path(runspec.__file__).resolve().parent
ROOT = PACKAGE.parent
#: Names the package module binds that are import machinery, not API.
NOT_API = {"annotations", "TYPE_CHECKING", "Any"}


def test_all_is_sorted_and_unique() -> None:
    """runspec.__all__ is in sorted order with no repeats."""
    assert list(runspec.__all__) == sorted(set(runspec.__all__))


def test_all_is_exactly_the_public_names() -> None:
    """__all__ lists every public name of the package (lazy client names included) and nothing else."""
    bound = {
        name
        for name, value in vars(runspec).items()
        if not name.startswith("_") and not isinstance(value, ModuleType) and name not in NOT_API
    }
    lazy = set(runspec._LAZY)
    assert set(runspec.__all__) == bound | lazy
    assert set(runspec.__all__) <= set(dir(runspec))


def test_every_public_name_resolves_and_is_documented() -> None:
    """Each name in __all__ resolves and has its own docstring."""
    undocumented = []
    for name in runspec.__all__:
        obj = getattr(runspec, name)
        doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
        if not (doc and doc.strip()):
            undocumented.append(name)
    assert undocumented == []


def test_spec_all_is_sorted_and_documented() -> None:
    """runspec.spec.__all__ is sorted, and each class in it has its own docstring."""
    names = list(runspec.spec.__all__)
    assert names == sorted(set(names))
    assert [n for n in names if not (vars(getattr(runspec.spec, n)).get("__doc__") or "").strip()] == []


def test_unknown_attribute_is_an_attribute_error() -> None:
    """A name runspec does not have raises AttributeError naming it."""
    try:
        runspec.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("runspec.NoSuchThing did not raise")


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    return result.stdout.strip()


def test_import_does_not_load_requests() -> None:
    """import runspec, and building and checking a run, never imports requests; submit does."""
    out = _run(
        """
        import sys
        import runspec
        spec = runspec.Run("x").task(runspec.PipelineTask("p")).compile()
        runspec.RunSpec.from_json(spec.to_json())
        print("requests" in sys.modules)
        runspec.submit
        print("requests" in sys.modules)
        """
    )
    assert out.splitlines() == ["False", "True"]


def test_py_typed_is_shipped() -> None:
    """py.typed sits in the package and setup.cfg ships it as package data."""
    assert (PACKAGE / "py.typed").is_file()
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    shipped = [item.strip() for item in config["options.package_data"]["runspec"].replace("\n", ",").split(",")]
    assert "py.typed" in shipped
    assert "spec/schema/schema.json" in shipped


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_spec_layer_imports_neither_builder_nor_client() -> None:
    """runspec.spec depends on neither runspec.build, the client layer nor requests."""
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            m
            for m in _imports(path)
            if m in ("runspec.build", "runspec.run", "requests") or m.startswith(("runspec.client", "requests."))
        )
        for path in (PACKAGE / "spec").rglob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_builder_does_not_import_the_client() -> None:
    """runspec.build builds specs only: it imports nothing from the client layer."""
    imported = set().union(*(_imports(path) for path in (PACKAGE / "build").glob("*.py")))
    assert [m for m in imported if m.startswith("runspec.client") or m == "requests"] == []


def test_the_builder_keeps_its_former_module_name() -> None:
    """``from runspec.run import Run`` (the builder package's former name) still gives the one ``Run``."""
    from runspec.build import Run as built
    from runspec.run import Run as former
    from runspec.run import TaskLike

    assert former is built is runspec.Run
    assert TaskLike is runspec.build.TaskLike
