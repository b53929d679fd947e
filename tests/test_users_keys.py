"""
``submit(spec, key=...)`` compares the spec with what the workspace echoes back in ``runs/get`` (the
answer a keyed submit reads anyway): a changed parameter is a ``KeyConflict`` naming the first
differing path; a single-task (2.0 form) body is compared in its tasks form; no body of the test
corpora conflicts with itself after a round trip through the emulator.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from runspec import KeyConflict, RunSpec, SpecError, submit
from runspec.client.keys import check_key_run
from runspec.testing import Emulator, ManualClock
from tests import test_jobs_fixtures as jobs

GOLDEN = Path(__file__).resolve().parent / "golden"
TOKEN = "users-keys-token"

BODY: dict[str, Any] = {
    "run_name": "orders",
    "tasks": [
        {
            "task_key": "load",
            "notebook_task": {"notebook_path": "/load", "base_parameters": {"date": "2026-12-01"}},
            "existing_cluster_id": "0101-abc",
            "max_retries": 2,
        },
        {
            "task_key": "report",
            "depends_on": [{"task_key": "load"}],
            "spark_python_task": {"python_file": "/report.py", "parameters": ["--day", "1"]},
            "existing_cluster_id": "0101-abc",
        },
    ],
}
SINGLE: dict[str, Any] = {
    "run_name": "airflow-style",
    "notebook_task": {"notebook_path": "/Shared/prepare", "base_parameters": {"day": "1"}},
    "existing_cluster_id": "0101-abc",
    "timeout_seconds": 3600,
}


@pytest.fixture(scope="module")
def emu() -> Any:
    with Emulator(token=TOKEN, clock=ManualClock()) as emulator:
        yield emulator


def _gets(emu: Emulator) -> int:
    return len(emu.requests_to("runs/get"))


def test_same_key_with_a_changed_parameter_silently_reattaches(emu: Emulator) -> None:
    first = submit(BODY, host=emu.url, token=TOKEN, key="orders/changed-parameter")
    before = _gets(emu)
    again = submit(copy.deepcopy(BODY), host=emu.url, token=TOKEN, key="orders/changed-parameter")
    reads_of_a_reattach = _gets(emu) - before
    assert again.run_id == first.run_id and again.reattached

    changed = copy.deepcopy(BODY)
    changed["tasks"][0]["notebook_task"]["base_parameters"]["date"] = "2026-12-02"
    submits, before = len(emu.requests_to("runs/submit")), _gets(emu)
    with pytest.raises(KeyConflict) as conflict:
        submit(changed, host=emu.url, token=TOKEN, key="orders/changed-parameter")
    assert conflict.value.run_id == first.run_id
    first_difference = conflict.value.differences[0]
    assert first_difference.startswith("$.tasks[0].notebook_task.base_parameters.date: ")
    assert '"2026-12-01"' in first_difference and '"2026-12-02"' in first_difference
    assert "$.tasks[0].notebook_task.base_parameters.date" in str(conflict.value)
    assert _gets(emu) - before == reads_of_a_reattach  # no extra request for the comparison
    assert len(emu.requests_to("runs/submit")) == submits + 1  # the one keyed submit, no second run


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (
            lambda b: b["tasks"][1]["spark_python_task"]["parameters"].append("--full"),
            "$.tasks[1].spark_python_task.parameters",
        ),
        (lambda b: b["tasks"][0].update(max_retries=3), "$.tasks[0].max_retries"),
        (lambda b: b["tasks"][1].update(existing_cluster_id="0202-xyz"), "$.tasks[1].existing_cluster_id"),
        (lambda b: b["tasks"][1].update(depends_on=[]), "$.tasks[1].depends_on"),
        (
            lambda b: b["tasks"][0]["notebook_task"].update(notebook_path="/load2"),
            "$.tasks[0].notebook_task.notebook_path",
        ),
    ],
)
def test_same_key_with_a_changed_task_field_is_a_key_conflict(emu: Emulator, edit: Any, path: str) -> None:
    key = f"orders/{path}"
    submit(BODY, host=emu.url, token=TOKEN, key=key)
    changed = copy.deepcopy(BODY)
    edit(changed)
    with pytest.raises(KeyConflict) as conflict:
        submit(changed, host=emu.url, token=TOKEN, key=key)
    assert conflict.value.differences[0].startswith(path + ": "), conflict.value.differences


def test_single_task_form_first_keyed_submit_raises_a_false_key_conflict(emu: Emulator) -> None:
    first = submit(SINGLE, host=emu.url, token=TOKEN, key="airflow/single")
    again = submit(SINGLE, host=emu.url, token=TOKEN, key="airflow/single")
    assert again.run_id == first.run_id and again.reattached
    changed = copy.deepcopy(SINGLE)
    changed["notebook_task"]["base_parameters"]["day"] = "2"
    with pytest.raises(KeyConflict) as conflict:
        submit(changed, host=emu.url, token=TOKEN, key="airflow/single")
    assert conflict.value.differences[0].startswith("$.notebook_task.base_parameters.day: ")
    # A run described without a task list (a 2.0 answer) has nothing to compare the task with.
    check_key_run("airflow/single", None, SINGLE, {"run_name": "airflow-style"}, first.run_id)


def test_key_conflict_compares_as_the_service_normalises() -> None:
    """Defaults filled in, key order, depends_on order and numbers as strings are no differences."""
    body = {
        "run_name": "n",
        "tasks": [
            {"task_key": "a", "notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": "c"},
            {
                "task_key": "b",
                "depends_on": [{"task_key": "a"}, {"task_key": "z"}],
                "notebook_task": {"notebook_path": "/b", "base_parameters": {"x": "1", "y": "2"}},
                "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 2, "node_type_id": "i3.xlarge"},
                "timeout_seconds": 3600,
            },
            {"task_key": "z", "notebook_task": {"notebook_path": "/z"}, "existing_cluster_id": "c"},
        ],
    }
    echoed = {
        "run_name": "n",
        "run_page_url": "https://example/run/1",
        "tasks": [
            {
                "task_key": "b",
                "run_id": 12,
                "state": {"life_cycle_state": "RUNNING"},
                "depends_on": [{"task_key": "z"}, {"task_key": "a"}],
                "notebook_task": {
                    "base_parameters": {"y": "2", "x": "1"},
                    "notebook_path": "/b",
                    "source": "WORKSPACE",
                },
                "new_cluster": {"node_type_id": "i3.xlarge", "num_workers": "2", "spark_version": "15.4.x-scala2.12"},
                "timeout_seconds": "3600",
                "run_if": "ALL_SUCCESS",
                "email_notifications": {},
            },
            {"task_key": "a", "run_id": 11, "notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": "c"},
            {"task_key": "z", "run_id": 13, "notebook_task": {"notebook_path": "/z"}, "existing_cluster_id": "c"},
        ],
    }
    check_key_run("k", None, body, echoed, 1)  # no KeyConflict
    echoed["tasks"][0]["new_cluster"]["num_workers"] = "3"
    with pytest.raises(KeyConflict) as conflict:
        check_key_run("k", None, body, echoed, 1)
    assert conflict.value.differences == ('$.tasks[1].new_cluster.num_workers: the run has "3", this spec 2',)


def _corpora() -> list[tuple[str, RunSpec]]:
    found: list[tuple[str, RunSpec]] = []
    for path in sorted((GOLDEN / "bodies").glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        body.pop("idempotency_token", None)  # key= derives the token
        found.append((path.name, RunSpec.from_dict(body)))
    for path in sorted((GOLDEN / "bodies" / "public").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        found.append((f"public/{path.name}", RunSpec.from_dict(data["body"], strict=data["expect"]["strict"])))
    for path in jobs.FIXTURES:
        fixture = jobs.load(path)
        try:
            spec = jobs.convert(fixture, jobs.sendable(fixture))
        except SpecError:
            continue  # a job that does not convert is no body to submit
        found.append((f"jobs/{path.name}", spec))
    return found


def test_no_false_key_conflict_on_any_body_of_the_test_corpora(emu: Emulator) -> None:
    corpora = _corpora()
    assert len(corpora) >= 40
    for name, spec in corpora:
        first = submit(spec, host=emu.url, token=TOKEN, key=f"corpus/{name}")
        again = submit(spec, host=emu.url, token=TOKEN, key=f"corpus/{name}")
        assert again.run_id == first.run_id and again.reattached, name
