"""How the emulator is put together: its server talks to it through values, its modules depend one way."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from runspec.testing import DEFAULT_TOKEN, Emulator, ManualClock, Request, Response

PACKAGE = Path(__file__).resolve().parent.parent / "runspec" / "testing"


def _imports(path: Path) -> set[str]:
    """Every runspec.testing module ``path`` imports, at top level, in functions or under TYPE_CHECKING."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("runspec.testing"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("runspec.testing"))
    return found


def _graph() -> dict[str, set[str]]:
    return {f"runspec.testing.{p.stem}": _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}


def test_the_server_does_not_know_the_emulator_or_the_engine() -> None:
    imported = _imports(PACKAGE / "_server.py")
    assert imported <= {"runspec.testing._http"}, imported


def test_emulator_modules_form_no_cycle() -> None:
    graph = _graph()
    seen: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state = seen.get(module)
        assert state != 1, f"import cycle: {' -> '.join([*path, module])}"
        if state == 2 or module not in graph:
            return
        seen[module] = 1
        for dep in graph[module]:
            visit(dep, [*path, module])
        seen[module] = 2

    for module in graph:
        visit(module, [])


def test_only_the_public_entry_points_import_the_emulator() -> None:
    importers = {m for m, deps in _graph().items() if "runspec.testing._emulator" in deps}
    assert importers <= {"runspec.testing.pytest_plugin", "runspec.testing._outcomes_file"}, importers


def test_emulator_modules_stay_small() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert all(lines <= 600 for lines in sizes.values()), sizes


def test_handle_answers_request_values_without_a_server() -> None:
    """The emulator is driven through ``handle(Request) -> Response``, as a transport's handler."""
    emulator = Emulator(clock=ManualClock())
    auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    body = {"run_name": "r", "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/a"}}]}
    submitted = emulator.handle(
        Request("POST", "/api/2.2/jobs/runs/submit", headers=auth, body=json.dumps(body).encode())
    )
    assert isinstance(submitted, Response)
    assert submitted.status == 200
    assert submitted.headers["Content-Type"] == "application/json"
    run_id = json.loads(submitted.body)["run_id"]
    emulator.wait(run_id)
    got = emulator.handle(Request("GET", "/api/2.2/jobs/runs/get", query={"run_id": str(run_id)}, headers=auth))
    assert json.loads(got.body)["state"]["result_state"] == "SUCCESS"
    missing = emulator.handle(Request("GET", "/api/2.2/jobs/runs/get", query={"run_id": "1"}, headers=auth))
    assert (missing.status, json.loads(missing.body)["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert [r.endpoint for r in emulator.requests] == ["runs/submit", "runs/get", "runs/get"]
