"""Helpers for the emulator tests: an HTTP client for the Jobs API, body builders, a shape checker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from runspec.testing import Emulator, ManualClock

try:
    from tests.emulator_shapes import SHAPES
except ImportError:  # tests/ run as a plain directory
    from emulator_shapes import SHAPES  # type: ignore[no-redef,import-not-found]

TOKEN = "emulator-test-token"


class Api:
    """Plain ``requests`` calls to an emulator, as any client would make them."""

    def __init__(self, emulator: Emulator, token: str | None = TOKEN, version: str = "2.2") -> None:
        self.emulator = emulator
        self.token = token
        self.version = version
        self.session = requests.Session()

    def close(self) -> None:
        self.session.close()

    def call(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        token: str | bool | None = True,
        version: str | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        chosen = self.token if token is True else token
        if isinstance(chosen, str):
            headers["Authorization"] = f"Bearer {chosen}"
        url = f"{self.emulator.url}/api/{version or self.version}/jobs/{endpoint}"
        return self.session.request(method, url, params=params, json=json, headers=headers, timeout=timeout, **kwargs)

    def ok(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, endpoint, **kwargs)
        assert response.status_code == 200, (response.status_code, response.text)
        body: dict[str, Any] = response.json()
        return body

    def submit(self, body: dict[str, Any]) -> int:
        run_id: int = self.ok("POST", "runs/submit", json=body)["run_id"]
        return run_id

    def get(self, run_id: int, **params: Any) -> dict[str, Any]:
        run = self.ok("GET", "runs/get", params={"run_id": run_id, **params})
        check_shape("Run", run)
        return run

    def output(self, run_id: int) -> dict[str, Any]:
        out = self.ok("GET", "runs/get-output", params={"run_id": run_id})
        check_shape("RunOutput", out)
        return out

    def cancel(self, run_id: int) -> None:
        assert self.ok("POST", "runs/cancel", json={"run_id": run_id}) == {}

    def tasks(self, run_id: int) -> dict[str, dict[str, Any]]:
        """The latest attempt of each task, by key."""
        out: dict[str, dict[str, Any]] = {}
        for task in self.get(run_id)["tasks"]:
            out[task["task_key"]] = task
        return out

    def results(self, run_id: int) -> dict[str, str]:
        """``{task_key: result_state or life_cycle_state}`` of each task's latest attempt."""
        return {key: state_of(task) for key, task in self.tasks(run_id).items()}


def state_of(run_or_task: dict[str, Any]) -> str:
    state = run_or_task["state"]
    return str(state.get("result_state") or state["life_cycle_state"])


def task(key: str, *deps: str | tuple[str, str], **settings: Any) -> dict[str, Any]:
    """A notebook task on serverless, depending on ``deps`` (``("cond", "true")`` for an outcome)."""
    out: dict[str, Any] = {"task_key": key}
    if deps:
        out["depends_on"] = [
            {"task_key": d} if isinstance(d, str) else {"task_key": d[0], "outcome": d[1]} for d in deps
        ]
    if not any(k.endswith("_task") for k in settings):
        out["notebook_task"] = {"notebook_path": f"/Workspace/tests/{key}"}
    out.update(settings)
    return out


def condition(key: str, op: str, left: str, right: str, *deps: str) -> dict[str, Any]:
    return task(key, *deps, condition_task={"op": op, "left": left, "right": right})


def python_task(key: str, *deps: str, **settings: Any) -> dict[str, Any]:
    return task(
        key,
        *deps,
        spark_python_task={"python_file": f"/Workspace/tests/{key}.py"},
        existing_cluster_id="0101-000000-tests",
        **settings,
    )


def body(*tasks: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"run_name": top.pop("run_name", "emulator-test"), "tasks": list(tasks), **top}


# -- shapes -------------------------------------------------------------------------------------------

_ARRAY = re.compile(r"array<(\w+)>")


def check_shape(type_name: str, value: Any, path: str = "$") -> None:
    """Assert ``value`` uses only fields of ``type_name`` (recursively for response types), enums valid."""
    fields = SHAPES[type_name]
    assert isinstance(value, dict), f"{path}: expected an object of {type_name}"
    for name, item in value.items():
        assert name in fields, f"{path}.{name} is not a field of {type_name}"
        kind = fields[name][0]
        enum = fields[name][1] if len(fields[name]) > 1 else None
        _check_value(kind, enum, item, f"{path}.{name}")


def _check_value(kind: str, enum: list[str] | None, item: Any, path: str) -> None:
    if enum is not None:
        assert item in enum, f"{path}: {item!r} is not one of {enum}"
    if kind == "integer":
        assert isinstance(item, int) and not isinstance(item, bool), f"{path}: {item!r} not an int"
    elif kind == "boolean":
        assert isinstance(item, bool), f"{path}: {item!r} not a bool"
    elif kind.startswith("string"):
        assert isinstance(item, str), f"{path}: {item!r} not a string"
    elif (match := _ARRAY.fullmatch(kind)) is not None:
        assert isinstance(item, list), f"{path}: not an array"
        if match.group(1) in SHAPES:
            for i, element in enumerate(item):
                check_shape(match.group(1), element, f"{path}[{i}]")
    elif kind in SHAPES:
        check_shape(kind, item, path)


# -- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator on a manual clock, accepting ``TOKEN``."""
    with Emulator(token=TOKEN, clock=ManualClock()) as emulator:
        yield emulator


@pytest.fixture
def api(emu: Emulator) -> Iterator[Api]:
    client = Api(emu)
    yield client
    client.close()
