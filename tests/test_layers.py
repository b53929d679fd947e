"""
Layers depend one way, and modules import each other without cycles.

Every module under ``runspec/`` is parsed with ``ast``; every import counts, wherever it is written: at the
top, inside a function, under ``if TYPE_CHECKING:``, or as ``importlib.import_module("runspec....")`` (or
``__import__``) with a literal name. The layers, lowest first::

    spec      runspec/spec/*, runspec/errors.py, runspec/wire.py, runspec/_frozen.py and other private leaf modules
    picture   runspec/picture*                         on spec
    builder   runspec/build/*, runspec/run.py          on spec and picture (it draws itself)
    client    runspec/client/*                         on spec
    testing   runspec/testing/*                        on client and spec
    root      runspec/__init__.py                      may import anything (lazily, for the client)
    cli       runspec/cli*, runspec/__main__.py        on everything, the public names of the root included

A module may import its own layer and the layers it sits on; below the CLI, never the package root
``runspec`` (which imports everything). No modules import each other in a cycle, and inside each package
its parts (its modules, and each sub-package taken whole) do not either: ``runspec.spec.checks`` may use
``runspec.spec.objects`` only if nothing under ``objects`` uses ``checks``. An exception a design
needs goes in ``ALLOWED`` with its reason; an import that breaks the rule today and is being removed goes
in ``KNOWN_TO_FIX``. Both are checked for staleness: once an import is gone, its entry must go too.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

import runspec

PACKAGE = Path(runspec.__file__).resolve().parent

# Which layers each layer may import (its own included).
MAY_IMPORT: dict[str, frozenset[str]] = {
    "spec": frozenset({"spec"}),
    "picture": frozenset({"picture", "spec"}),
    # The builder draws itself with the picture module (Run.to_mermaid() names the boxes after .cluster()):
    # pictures sit on the spec layer, beside the builder, and never import it.
    "builder": frozenset({"builder", "picture", "spec"}),
    "client": frozenset({"client", "spec"}),
    "testing": frozenset({"testing", "client", "spec"}),
    "root": frozenset({"root", "testing", "client", "builder", "picture", "spec"}),
    "cli": frozenset({"cli", "root", "testing", "client", "builder", "picture", "spec"}),
}

# Imports that break the layering or close a cycle on purpose: (importer, imported) -> why. A reason that
# starts with TYPE_ONLY is for an import that must stay under ``if TYPE_CHECKING:`` (the test checks it).
TYPE_ONLY = "type hints only: "
ALLOWED: dict[tuple[str, str], str] = {
    ("runspec.spec.run_spec", "runspec.picture"): (
        "RunSpec.to_mermaid(), to_dot(), to_text() and the notebook view draw the run with the picture module, "
        "imported inside those methods so that the spec layer does not load it"
    ),
    ("runspec.picture._collapse", "runspec.picture._graph"): (
        TYPE_ONLY + "collapsing takes the graph it collapses (the graph module imports the collapse step)"
    ),
}

# Imports that break the layering or close a cycle today and are being removed: (importer, imported) -> why.
# Empty now; an entry here is a debt with a reason, deleted when its import is gone (the test says which).
KNOWN_TO_FIX: dict[tuple[str, str], str] = {}


def layer_of(module: str) -> str | None:
    """The layer of a module under runspec/, or None for a module nobody has placed yet."""
    parts = module.split(".")
    if parts == ["runspec"]:
        return "root"
    top = parts[1]
    if (
        top == "spec"
        or top == "errors"
        or top == "wire"
        or (top.startswith("_") and top != "__main__" and len(parts) == 2)
    ):
        return "spec"
    if top == "__main__" or top == "cli" or top.startswith("cli_"):
        return "cli"
    if top == "build" or top == "run":
        return "builder"
    if top == "client":
        return "client"
    if top == "testing":
        return "testing"
    if top == "picture" or top.startswith("picture_"):
        return "picture"
    return None


# --------------------------------------------------------------------------------------------------
# Reading imports
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    how: str  # "top level", "in a function", "type checking", "import_module"


def module_name(path: Path, root: Path = PACKAGE) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_in(source: str, importer: str, is_package: bool, known: Iterable[str]) -> list[Import]:
    """Every import of a runspec module in ``source``, wherever it is written."""
    modules = set(known)
    # ``from runspec.spec.objects import _base`` imports the module runspec.spec.objects._base;
    # ``from runspec.spec import RunSpec`` imports runspec.spec.
    found = [
        Import(importer, sub if sub is not None and sub in modules else imported, line, how)
        for imported, sub, line, how in _imports_written(source, importer, is_package)
    ]
    return [i for i in found if i.imported == "runspec" or i.imported.startswith("runspec.")]


@functools.cache
def _imports_written(source: str, importer: str, is_package: bool) -> tuple[tuple[str, str | None, int, str], ...]:
    """
    (imported, the submodule a ``from`` import may name, line, how) for every import in ``source``.

    Parsed once per text: the checks below run on the package many times over with one module changed.
    """
    found: list[tuple[str, str | None, int, str]] = []

    def visit(node: ast.AST, how: str) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, "type checking")
            for child in node.orelse:
                visit(child, how)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            how = "in a function"
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((alias.name, None, node.lineno, how))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(importer, is_package, node.module, node.level)
            for alias in node.names:
                found.append((base, f"{base}.{alias.name}", node.lineno, how))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    text = arg.value
                    if text.startswith("."):
                        package = node.args[1] if len(node.args) > 1 else None
                        anchor = package.value if isinstance(package, ast.Constant) else importer
                        level = len(text) - len(text.lstrip("."))
                        text = _resolve(str(anchor), True, text.lstrip(".") or None, level)
                    found.append((text, None, node.lineno, "import_module"))
        for child in ast.iter_child_nodes(node):
            visit(child, how)

    visit(ast.parse(source), "top level")
    return tuple(found)


def package_sources(root: Path = PACKAGE) -> dict[str, tuple[str, bool]]:
    """Module name -> (source, is_package) for every module under runspec/."""
    return {
        module_name(path, root): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
        for path in sorted(root.rglob("*.py"))
    }


def import_graph(sources: Mapping[str, tuple[str, bool]]) -> list[Import]:
    edges: list[Import] = []
    for name, (source, is_package) in sources.items():
        for imp in imports_in(source, name, is_package, sources):
            # An import of runspec.x.y that is not a module of ours (an attribute) counts as its module.
            target = imp.imported
            while target not in sources and "." in target:
                target = target.rsplit(".", 1)[0]
            if target != name:
                edges.append(Import(imp.importer, target, imp.line, imp.how))
    return edges


# --------------------------------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------------------------------


def layer_violations(edges: Iterable[Import], exceptions: Mapping[tuple[str, str], str]) -> list[str]:
    out = []
    for e in edges:
        if (e.importer, e.imported) in exceptions:
            continue
        mine, theirs = layer_of(e.importer), layer_of(e.imported)
        if mine is None or theirs is None:
            continue  # reported by test_every_module_has_a_layer
        if theirs not in MAY_IMPORT[mine]:
            what = "the package root" if e.imported == "runspec" else f"the {theirs} layer"
            out.append(f"{e.importer} ({mine}) imports {e.imported}, {what} ({e.how}, line {e.line})")
    return sorted(set(out))


def cycles(edges: Iterable[Import], exceptions: Mapping[tuple[str, str], str]) -> list[list[str]]:
    """The import cycles (strongly connected components of more than one module), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        if (e.importer, e.imported) not in exceptions:
            graph.setdefault(e.importer, set()).add(e.imported)
            graph.setdefault(e.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan's algorithm; the graph is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return sorted(found)


def package_cycles(
    edges: Iterable[Import], packages: Iterable[str], exceptions: Mapping[tuple[str, str], str]
) -> dict[str, list[list[str]]]:
    """
    For each package, the cycles between its parts: its ``__init__``, its modules, and each of its
    sub-packages taken whole (an import of ``runspec.spec.checks._checks`` is one of ``runspec.spec.checks``).
    """
    kept = [e for e in edges if (e.importer, e.imported) not in exceptions]
    found: dict[str, list[list[str]]] = {}
    for package in packages:

        def part(module: str, package: str = package) -> str | None:
            if module == package:
                return module
            if not module.startswith(package + "."):
                return None
            return package + "." + module[len(package) + 1 :].split(".")[0]

        between = []
        for e in kept:
            a, b = part(e.importer), part(e.imported)
            if a is not None and b is not None and a != b:
                between.append(Import(a, b, e.line, e.how))
        if loops := cycles(between, {}):
            found[package] = loops
    return found


def _cycle_edges(edges: Iterable[Import], component: list[str]) -> list[str]:
    members = set(component)
    return sorted({f"{e.importer} -> {e.imported} ({e.how})" for e in edges if {e.importer, e.imported} <= members})


# --------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------

SOURCES = package_sources()
EDGES = import_graph(SOURCES)
EXCEPTIONS = {**ALLOWED, **KNOWN_TO_FIX}


def test_every_module_has_a_layer() -> None:
    assert len(SOURCES) > 20
    unplaced = sorted(name for name in SOURCES if layer_of(name) is None)
    assert unplaced == [], f"place these modules in a layer (layer_of in tests/test_layers.py): {unplaced}"


def test_layers_depend_one_way_and_modules_form_no_cycle() -> None:
    problems = layer_violations(EDGES, EXCEPTIONS)
    for component in cycles(EDGES, EXCEPTIONS):
        problems.append(f"import cycle between {', '.join(component)}: {'; '.join(_cycle_edges(EDGES, component))}")
    packages = [name for name, (_, is_package) in SOURCES.items() if is_package]
    for package, loops in package_cycles(EDGES, packages, EXCEPTIONS).items():
        for loop in loops:
            problems.append(f"the parts of {package} import each other in a cycle: {', '.join(loop)}")
    for table, entries in (("ALLOWED", ALLOWED), ("KNOWN_TO_FIX", KNOWN_TO_FIX)):
        for (importer, imported), reason in entries.items():
            hows = {e.how for e in EDGES if (e.importer, e.imported) == (importer, imported)}
            if not hows:
                problems.append(f"{importer} no longer imports {imported}: delete its entry from {table}")
            elif reason.startswith(TYPE_ONLY) and hows != {"type checking"}:
                problems.append(f"{importer} imports {imported} at run time; {table} allows it for type hints only")
    assert problems == [], "\n".join(problems)


def test_nothing_under_spec_reaches_up() -> None:
    """Stated on its own: the spec layer reaches no other layer, not even in functions (ALLOWED aside)."""
    up = [
        f"{e.importer} -> {e.imported} ({e.how}, line {e.line})"
        for e in EDGES
        if layer_of(e.importer) == "spec"
        and layer_of(e.imported) != "spec"
        and (e.importer, e.imported) not in EXCEPTIONS
    ]
    assert up == []


PLANTED = {
    "top-level client import": "from runspec.client import submit\n",
    "import inside a function": "def draw(spec):\n    from runspec.picture import to_mermaid\n    return 1\n",
    "import under TYPE_CHECKING": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from runspec.build import Run\n"
    ),
    "importlib string": "import importlib\n\ndef load():\n    return importlib.import_module('runspec.cli')\n",
    "relative import": "from ..testing import Emulator\n",
    "package root": "import runspec\n",
}


@pytest.mark.parametrize("source", PLANTED.values(), ids=list(PLANTED))
def test_a_planted_upward_import_fails_the_check(source: str) -> None:
    sources = {**SOURCES, "runspec.spec._planted": (source, False)}
    problems = layer_violations(import_graph(sources), EXCEPTIONS)
    planted = [p for p in problems if p.startswith("runspec.spec._planted ")]
    assert len(planted) == 1, problems
    assert "(spec) imports runspec." in planted[0] or "the package root" in planted[0]


def test_a_planted_cycle_fails_the_check() -> None:
    # _frozen is imported by the spec base; making it import the base back closes a cycle.
    source, _ = SOURCES["runspec._frozen"]
    sources = {
        **SOURCES,
        "runspec._frozen": (source + "\ndef _late():\n    from runspec.spec.objects import _base\n", False),
    }
    found = cycles(import_graph(sources), EXCEPTIONS)
    assert any({"runspec._frozen", "runspec.spec.objects._base"} <= set(c) for c in found), found


def test_a_planted_cycle_between_sub_packages_fails_the_check() -> None:
    """
    The schema package using the model package, which uses the schema through another module, closes no
    cycle of modules but one of sub-packages.
    """
    source, _ = SOURCES["runspec.spec.schema"]
    late = "\ndef _late():\n    from runspec.spec.model import _library\n"
    sources = {**SOURCES, "runspec.spec.schema": (source + late, True)}
    edges = import_graph(sources)
    packages = [name for name, (_, is_package) in sources.items() if is_package]
    assert package_cycles(EDGES, packages, EXCEPTIONS) == {}
    assert cycles(edges, EXCEPTIONS) == []
    found = package_cycles(edges, packages, EXCEPTIONS)
    assert any({"runspec.spec.schema", "runspec.spec.model"} <= set(loop) for loop in found["runspec.spec"]), found


def test_reader_sees_every_kind_of_import() -> None:
    source = "\n".join(
        [
            "import runspec.spec.schema._schema",
            "from runspec.spec.model import _library",
            "from runspec.spec import RunSpec",
            "from . import _objects",
            "from typing import TYPE_CHECKING",
            "if TYPE_CHECKING:",
            "    from runspec.client.results import RunResult",
            "def f():",
            "    import runspec.picture",
            "    __import__('runspec.build')",
            "    return importlib.import_module('runspec.testing')",
        ]
    )
    found = {(i.imported, i.how) for i in imports_in(source, "runspec.spec.model._x", False, SOURCES)}
    assert found == {
        ("runspec.spec.schema._schema", "top level"),
        ("runspec.spec.model._library", "top level"),
        ("runspec.spec", "top level"),
        ("runspec.spec.model._objects", "top level"),
        ("runspec.client.results", "type checking"),
        ("runspec.picture", "in a function"),
        ("runspec.testing", "import_module"),
        ("runspec.build", "import_module"),
    }


def test_dynamic_imports_in_the_package_are_only_of_known_kinds() -> None:
    """import_module with a computed name cannot be followed: only the root's lazy names, the CLI's
    loading of a user's module (``runspec submit pkg.mod:run``) and the emulator's task process (a wheel
    task's package) may do it."""
    dynamic = set()
    for name, (source, _) in SOURCES.items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if (
                    called in ("import_module", "__import__")
                    and node.args
                    and not isinstance(node.args[0], ast.Constant)
                ):
                    dynamic.add(name)
    users = {"runspec.testing._local._child"}  # runs a python_wheel_task's package_name.entry_point()
    assert dynamic <= {"runspec"} | users | {n for n in SOURCES if re.match(r"runspec\.cli(\.|$)", n)}, dynamic
