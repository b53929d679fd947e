"""
Request bodies for runs/submit copied from public projects and documentation.

Each file in tests/golden/bodies/public/ holds one body as its source wrote it (``source`` cites the
repository, commit and path; ``note`` says what was translated or substituted) and what runspec makes
of it (``expect``). A body the service takes must load, come back unchanged from ``to_dict()``, and run
to its end in the emulator. A body runspec refuses under ``strict=True`` says why in ``expect.why``, and
still loads, round-trips and runs with ``strict=False``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runspec import NewCluster, RunSpec, SpecError, submit
from runspec.testing import Emulator, ManualClock

PUBLIC = Path(__file__).parent / "golden" / "bodies" / "public"
NAMES = sorted(p.stem for p in PUBLIC.glob("*.json"))
TOKEN = "public-bodies-token"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PUBLIC / f"{name}.json").read_text(encoding="utf-8"))
    return data


def pairs(items: Any) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in items]


def expected(items: list[list[str]]) -> list[tuple[str, str]]:
    return [(path, code) for path, code in items]


def load(name: str) -> RunSpec:
    """The body loaded as its fixture says runspec takes it (strictly, or with strict=False)."""
    data = fixture(name)
    return RunSpec.from_dict(data["body"], strict=data["expect"]["strict"])


@pytest.fixture(scope="module")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def emu(clock: ManualClock) -> Iterator[Emulator]:
    with Emulator(token=TOKEN, clock=clock) as emulator:
        yield emulator


def test_there_are_enough_bodies_and_each_cites_its_source() -> None:
    assert len(NAMES) >= 15
    for name in NAMES:
        data = fixture(name)
        assert set(data) == {"source", "body", "note", "expect"}, name
        assert "/" in data["source"] and data["note"], name
        assert isinstance(data["body"], dict) and data["body"], name


@pytest.mark.parametrize("name", NAMES)
def test_body_loads_as_its_fixture_says(name: str) -> None:
    data = fixture(name)
    expect = data["expect"]
    if expect["strict"]:
        spec = RunSpec.from_dict(data["body"])
    else:
        with pytest.raises(SpecError) as refused:
            RunSpec.from_dict(data["body"])
        assert pairs(refused.value.problems) == expected(expect["strict_problems"])
        assert expect["why"]
        spec = RunSpec.from_dict(data["body"], strict=False)
    assert pairs(spec.warnings) == expected(expect["warnings"])


@pytest.mark.parametrize("name", NAMES)
def test_body_round_trips_unchanged(name: str) -> None:
    body = fixture(name)["body"]
    spec = load(name)
    assert spec.to_dict() == body
    assert json.loads(spec.to_json()) == body
    again = RunSpec.from_json(spec.to_json(), strict=fixture(name)["expect"]["strict"])
    assert again.to_dict() == body


@pytest.mark.parametrize("name", NAMES)
def test_body_in_tasks_form_keeps_every_field(name: str) -> None:
    """The single-task bodies become one task with the same fields; tasks[] bodies stay as they are."""
    body = fixture(name)["body"]
    spec = load(name).with_tasks_form()
    out = spec.to_dict()
    if "tasks" in body:
        assert out == body
        return
    (task,) = out["tasks"]
    moved = {k: v for k, v in body.items() if k not in out}
    assert {k: v for k, v in task.items() if k != "task_key"} == moved
    assert {k: v for k, v in out.items() if k != "tasks"} == {k: v for k, v in body.items() if k not in moved}


@pytest.mark.parametrize("name", NAMES)
def test_body_runs_to_the_end_in_the_emulator(name: str, emu: Emulator, clock: ManualClock) -> None:
    body = fixture(name)["body"]
    handle = submit(load(name), host=emu.url, token=TOKEN, sleep=clock.advance, clock=clock.now)
    handle.wait()
    state = emu.run(handle.run_id)["state"]
    assert (state["life_cycle_state"], state["result_state"]) == ("TERMINATED", "SUCCESS")
    sent = emu.requests_to("runs/submit")[-1].body
    assert {k: v for k, v in sent.items() if k != "idempotency_token"} == body


# -- the checks these bodies relaxed ------------------------------------------------------------------


def test_spark_conf_takes_numbers_and_booleans_as_written_with_a_warning() -> None:
    body = {
        "tasks": [
            {
                "task_key": "t",
                "notebook_task": {"notebook_path": "/Shared/t"},
                "new_cluster": {
                    "spark_version": "15.4.x-scala2.12",
                    "node_type_id": "i3.xlarge",
                    "num_workers": 1,
                    "spark_conf": {"spark.speculation": True, "spark.streaming.ui.retainedBatches": 5, "a": "b"},
                },
            }
        ]
    }
    spec = RunSpec.from_dict(body)
    assert spec.to_dict() == body
    conf = "$.tasks[0].new_cluster.spark_conf"
    assert pairs(spec.warnings) == [
        (f"{conf}['spark.speculation']", "conf-not-string"),
        (f"{conf}['spark.streaming.ui.retainedBatches']", "conf-not-string"),
    ]
    assert "the service reads it as the setting '5'" in spec.warnings[1].message


def test_spark_conf_still_refuses_values_that_are_not_scalars() -> None:
    body = {
        "tasks": [
            {
                "task_key": "t",
                "notebook_task": {"notebook_path": "/Shared/t"},
                "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 1, "spark_conf": {"a": {"b": 1}}},
            }
        ]
    }
    with pytest.raises(SpecError) as refused:
        RunSpec.from_dict(body)
    assert pairs(refused.value.problems) == [("$.tasks[0].new_cluster.spark_conf.a", "wrong-type")]
    assert "expected a string, got an object" in refused.value.problems[0].message


def test_new_cluster_built_in_python_takes_a_boolean_spark_conf() -> None:
    cluster = NewCluster(spark_version="15.4.x-scala2.12", num_workers=1, spark_conf={"spark.speculation": True})
    assert cluster.to_dict()["spark_conf"] == {"spark.speculation": True}
    with pytest.raises(TypeError, match="spark_conf"):
        NewCluster(spark_version="15.4.x-scala2.12", num_workers=1, spark_conf={"a": [1]})


def test_strict_false_passes_unknown_keys_inside_a_single_task_body() -> None:
    body = {"existing_cluster_id": "c", "notebook_task": {"notebook_path": "/a/b", "future_option": {"x": 1}}}
    with pytest.raises(SpecError) as refused:
        RunSpec.from_dict(body)
    assert pairs(refused.value.problems) == [("$.notebook_task.future_option", "unknown-field")]
    spec = RunSpec.from_dict(body, strict=False)
    assert pairs(spec.warnings) == [("$.notebook_task.future_option", "unknown-field"), ("$", "single-task-form")]
    assert spec.to_dict() == body
    assert spec.with_tasks_form().to_dict()["tasks"][0]["notebook_task"]["future_option"] == {"x": 1}


def test_strict_false_passes_a_task_type_newer_than_the_schema() -> None:
    task = {"task_key": "t", "future_task": {"x": 1}, "existing_cluster_id": "c"}
    with pytest.raises(SpecError) as refused:
        RunSpec.from_dict({"tasks": [task]})
    assert pairs(refused.value.problems) == [
        ("$.tasks[0].future_task", "unknown-field"),
        ("$.tasks[0]", "no-task-type"),
    ]
    spec = RunSpec.from_dict({"tasks": [task]}, strict=False)
    assert pairs(spec.warnings) == [("$.tasks[0].future_task", "unknown-field")]
    assert spec.to_dict() == {"tasks": [task]}


def test_a_task_with_no_type_at_all_is_still_refused_with_strict_false() -> None:
    body = {"tasks": [{"task_key": "t", "existing_cluster_id": "c", "future_field": 1}]}
    with pytest.raises(SpecError) as refused:
        RunSpec.from_dict(body, strict=False)
    assert pairs(refused.value.problems) == [("$.tasks[0]", "no-task-type")]
