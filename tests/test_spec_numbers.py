"""
Integers the API cannot take are problems at their path, and no number, however long, crashes anything.

The Jobs API's integers are int64; protobuf's JSON mapping refuses anything outside. A 5000-digit
integer is too long even for Python's ``int()`` from text (4300 digits), and for ``repr()``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from runspec import NotebookTask, Run, RunSpec, SpecError
from runspec.spec import AutoScale, NewCluster, SubmitTask

HUGE = 10**5000
TASK: dict[str, Any] = {"task_key": "a", "notebook_task": {"notebook_path": "/n"}, "existing_cluster_id": "c"}


def _problems(call: Any) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as err:
        call()
    return [(p.path, p.code) for p in err.value.problems]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (2**63, "out-of-range"),
        (-(2**63) - 1, "out-of-range"),
        (HUGE, "out-of-range"),
        (-HUGE, "out-of-range"),
        ("9" * 30, "out-of-range"),
        ("9" * 5000, "wrong-type"),
        (1e400, "wrong-type"),
        (float("nan"), "wrong-type"),
        (1.5, "wrong-type"),
        (-1, "out-of-range"),
    ],
    ids=["2**63", "-2**63-1", "huge", "-huge", "30-digit-string", "5000-digit-string", "1e400", "nan", "1.5", "-1"],
)
def test_a_task_timeout_the_api_cannot_take(value: Any, code: str) -> None:
    body = {"tasks": [{**TASK, "timeout_seconds": value}]}
    assert _problems(lambda: RunSpec.from_dict(body)) == [("$.tasks[0].timeout_seconds", code)]


def test_the_largest_and_smallest_int64_load() -> None:
    spec = RunSpec.from_dict({"tasks": [{**TASK, "min_retry_interval_millis": 2**63 - 1}]})
    assert spec.to_dict()["tasks"][0]["min_retry_interval_millis"] == 2**63 - 1
    assert _problems(lambda: RunSpec.from_dict({"tasks": [{**TASK, "max_retries": -(2**63)}]})) == [
        ("$.tasks[0].max_retries", "out-of-range")
    ]


@pytest.mark.parametrize(
    "text",
    [
        '{"tasks": [], "timeout_seconds": 1' + "0" * 5000 + "}",
        '{"tasks": [], "timeout_seconds": -1' + "0" * 5000 + "}",
    ],
    ids=["positive", "negative"],
)
def test_json_text_with_an_integer_too_long_to_read(text: str) -> None:
    problems = _problems(lambda: RunSpec.from_json(text))
    assert ("$.timeout_seconds", "out-of-range") in problems


def test_huge_integers_in_free_form_json_and_extra() -> None:
    body = {"tasks": [TASK], "future_field": {"n": HUGE}}
    assert _problems(lambda: RunSpec.from_dict(body, strict=False)) == [("$.future_field", "wrong-type")]
    with pytest.raises(TypeError):
        NotebookTask("/n", extra={"x": HUGE})


def test_objects_made_by_classes_and_the_builder_are_checked_alike() -> None:
    task = SubmitTask("a", notebook_task=NotebookTask("/n"), existing_cluster_id="c", timeout_seconds=HUGE)
    assert _problems(lambda: RunSpec(tasks=[task])) == [("$.tasks[0].timeout_seconds", "out-of-range")]
    run = Run("x").task(NotebookTask("/n"), existing_cluster_id="c", max_retries=2**64)
    assert _problems(run.compile) == [("$.tasks[0].max_retries", "out-of-range")]
    cluster = NewCluster(spark_version="x", autoscale=AutoScale(max_workers=HUGE, min_workers=-HUGE))
    problems = _problems(lambda: Run("x").cluster("c", cluster).task(NotebookTask("/n")).compile())
    assert ("$.tasks[0].new_cluster.autoscale.max_workers", "out-of-range") in problems
    assert ("$.tasks[0].new_cluster.autoscale.min_workers", "out-of-range") in problems


@pytest.mark.parametrize("field", ["timeout_seconds", "max_retries", "min_retry_interval_millis"])
def test_negative_counts_and_durations_are_problems(field: str) -> None:
    body = {"tasks": [{**TASK, field: -5}]}
    assert _problems(lambda: RunSpec.from_dict(body)) == [(f"$.tasks[0].{field}", "out-of-range")]


def test_a_wrong_huge_argument_is_a_readable_type_error() -> None:
    with pytest.raises(TypeError, match="very long integer"):
        NotebookTask(HUGE)  # type: ignore[arg-type]


def test_nothing_crashes_on_long_numbers_anywhere() -> None:
    for value in (HUGE, -HUGE, 2**64, 1e308, -1e308, "1" * 400, "1" * 401):
        for field in ("timeout_seconds", "max_retries", "num_workers"):
            task = {**TASK, field: value} if field != "num_workers" else {**TASK, "new_cluster": {field: value}}
            body = {"tasks": [task], "timeout_seconds": value}
            try:
                RunSpec.from_dict(body)
            except SpecError as exc:
                str(exc)
                json.dumps([p.message for p in exc.problems])
