"""
Property-based tests of the spec layer and the emulator's request checks (hypothesis).

- Valid runs drawn at random (DAGs of mixed task types on named, inline, existing or serverless compute,
  libraries, conditions with outcomes, for_each, run_if) compile, say exactly what the builder was told,
  and round-trip losslessly through ``to_dict``/``from_dict`` and ``to_json``/``from_json``.
- One injected mistake (builder call or body edit) is rejected with its documented problem code.
- Damaged bodies and random JSON make ``from_dict``/``from_json`` raise ``SpecError`` and nothing else,
  and the emulator answer 400 (or 200 when the body is valid), never 500 or a dropped connection.

CI runs a bounded number of examples; ``HYPOTHESIS_PROFILE=long`` runs twenty times as many or more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from runspec import (
    ConditionTask,
    NewCluster,
    NotebookTask,
    Problem,
    PyPI,
    Run,
    RunJobTask,
    RunSpec,
    SpecError,
    SubmitTask,
    TaskDependency,
)
from runspec.testing import Emulator, ManualClock
from runspec.testing._http import ApiFailure
from runspec.testing._wire import coerce_numbers, tasks_form

try:
    from tests.strategies import (
        FIELD_OF_KIND,
        MISTAKE_NAMES,
        Drawn,
        bodies,
        budget,
        json_values,
        mistakes,
        mutated_bodies,
        runs,
    )
except ImportError:  # tests/ run as a plain directory
    from strategies import (  # type: ignore[no-redef]
        FIELD_OF_KIND,
        MISTAKE_NAMES,
        Drawn,
        bodies,
        budget,
        json_values,
        mistakes,
        mutated_bodies,
        runs,
    )

TOKEN = "fuzz-emulator-token"
KEY_RE = re.compile(r"[\w\-]{1,100}")
#: Codes that are warnings, from docs/problems.md.
WARNING_CODES = {
    "cluster-per-task",
    "deprecated",
    "ignored-field",
    "read-only-field",
    "missing-spark-version",
    "spark-submit-needs-new-cluster",
    "number-as-string",
    "unknown-field",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    # A manual clock: submitted runs never move, so thousands of them cost nothing.
    with Emulator(token=TOKEN, clock=ManualClock()) as emu:
        yield emu


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def post(http: requests.Session, emulator: Emulator, data: str | bytes) -> requests.Response:
    """POST raw bytes to the emulator's runs/submit, as any client would."""
    return http.post(
        f"{emulator.url}/api/2.2/jobs/runs/submit",
        data=data.encode("utf-8") if isinstance(data, str) else data,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=30,
    )


def loads_lax(body: Any) -> bool:
    """Whether a workspace-like reader accepts ``body`` (unknown keys pass, as the emulator lets them)."""
    try:
        RunSpec.from_dict(body, strict=False)
    except SpecError:
        return False
    return True


def emulator_accepts(body: Any) -> bool:
    """
    Whether the emulator takes ``body``: read the service's way first (numeric strings in integer fields
    as numbers, integers outside int64 refused, the single-task form as one task), then runspec's lax
    checks.
    """
    if not isinstance(body, dict):
        return False
    try:
        read = coerce_numbers(body)
    except ApiFailure:
        return False
    return loads_lax(tasks_form(read) or read)


def _in_int64(value: Any) -> bool:
    """Whether every integer in ``value`` fits in int64 (the service refuses a body with one that does not)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return all(_in_int64(v) for v in value.values())
    if isinstance(value, list):
        return all(_in_int64(v) for v in value)
    return True


def assert_answer(response: requests.Response, *, accepted: bool) -> dict[str, Any]:
    """200 with a run id for a body the checks accept, a Databricks-shaped 400 otherwise."""
    assert response.status_code == (200 if accepted else 400), (response.status_code, response.text[:500])
    answer = response.json()
    if accepted:
        assert isinstance(answer["run_id"], int)
    else:
        assert answer["error_code"] in ("INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST"), answer
        assert isinstance(answer["message"], str) and answer["message"]
    return answer  # type: ignore[no-any-return]


def codes_of(error: SpecError) -> set[str]:
    assert error.problems, "a SpecError without problems"
    for problem in error.problems:
        assert isinstance(problem, Problem)
        assert problem.path.startswith("$"), problem
        assert problem.code and problem.message, problem
    return {p.code for p in error.problems}


# -- valid runs -------------------------------------------------------------------------------------


def _task_where_compute_lives(task: dict[str, Any], kind: str) -> dict[str, Any]:
    return task["for_each_task"]["task"] if kind == "for_each" else task


def check_against_plan(drawn: Drawn, body: dict[str, Any]) -> None:
    """The compiled body holds what the builder was told, and nothing it was not."""
    tasks = body["tasks"]
    assert len(tasks) == len(drawn.tasks)
    keys = [t["task_key"] for t in tasks]
    assert len(set(keys)) == len(keys)
    for task, plan in zip(tasks, drawn.tasks, strict=True):
        assert KEY_RE.fullmatch(task["task_key"]), task["task_key"]
        if plan.key is not None:
            assert task["task_key"] == plan.key
        assert [k for k in task if k.endswith("_task")] == [FIELD_OF_KIND[plan.kind]]
        assert [(d["task_key"], d.get("outcome")) for d in task.get("depends_on", [])] == plan.deps
        assert task.get("run_if") == plan.run_if
        assert len(task.get("libraries", [])) == plan.libraries
        where = _task_where_compute_lives(task, plan.kind)
        if plan.compute is None:
            assert not {"new_cluster", "existing_cluster_id", "environment_key"} & set(task)
        elif plan.compute.startswith("cluster:"):
            assert where["new_cluster"] == drawn.clusters[plan.compute.split(":", 1)[1]].to_dict()
            assert "existing_cluster_id" not in where
        elif plan.compute == "existing":
            assert isinstance(where["existing_cluster_id"], str) and "new_cluster" not in where
        elif plan.compute == "inline":
            assert "new_cluster" in where and "existing_cluster_id" not in where
        else:
            assert where["environment_key"] == plan.compute.split(":", 1)[1]
            assert not {"new_cluster", "existing_cluster_id"} & set(where)
    assert [e["environment_key"] for e in body.get("environments", [])] == drawn.environments
    assert "job_clusters" not in body


@budget(80)
@given(runs())
def test_valid_runs_compile_to_what_was_asked_and_round_trip(drawn: Drawn) -> None:
    spec = drawn.run.compile()
    body = spec.to_dict()
    check_against_plan(drawn, body)
    assert {w.code for w in spec.warnings} <= WARNING_CODES
    assert drawn.run.check() == ()

    again = RunSpec.from_dict(body)
    assert again == spec
    assert again.to_dict() == body
    assert again.to_json() == spec.to_json()  # same text, key order included
    assert json.loads(spec.to_json()) == body
    assert RunSpec.from_json(spec.to_json()) == spec
    assert RunSpec.from_json(spec.to_json(indent=2)).to_dict() == body
    # Through the builder and back.
    assert Run.from_dict(body).compile().to_dict() == body
    assert Run.from_spec(spec).compile() == spec


@budget(30)
@given(bodies)
def test_emulator_accepts_every_valid_body(emulator: Emulator, http: requests.Session, body: dict[str, Any]) -> None:
    answer = assert_answer(post(http, emulator, json.dumps(body)), accepted=True)
    assert answer["run_id"] in emulator.run_ids()


# -- one mistake --------------------------------------------------------------------------------------


def _fresh(keys: tuple[str, ...], base: str) -> str:
    key, n = base, 0
    while key in keys:
        n += 1
        key = f"{base}_{n}"
    return key


def _builder_mistake(run: Run, drawn: Drawn, mistake: str, pick: Any) -> Run:
    """``run`` with one mistake added through the builder's own methods."""
    keys = run.compile().task_keys
    # Only keys the user gave can be named: a derived key gives way to any key given later.
    given = [p.key for p in drawn.tasks if p.key is not None]
    plain = [p.key for p in drawn.tasks if p.key is not None and p.kind != "condition"]
    fresh = _fresh(keys, "added")
    if not given or (mistake == "outcome-not-condition" and not plain):
        run = run.task(RunJobTask(2), key=fresh)
        given, plain = [*given, fresh], [*plain, fresh]
        fresh = _fresh((*keys, fresh), "added")
    if mistake == "duplicate-task-key":
        return run.task(RunJobTask(1), key=pick(given))
    if mistake == "unknown-dependency":
        return run.task(RunJobTask(1), key=fresh, depends_on=[_fresh(keys, "missing")])
    if mistake == "dependency-cycle":
        target = pick(given)
        return run.task(RunJobTask(1), key=fresh, depends_on=[target]).update_task(
            target, depends_on=[TaskDependency(fresh)]
        )
    if mistake == "outcome-not-condition":
        return run.task(RunJobTask(1), key=fresh, depends_on=[TaskDependency(pick(plain), outcome="true")])
    if mistake == "invalid-enum":
        return run.task(RunJobTask(1), key=fresh, depends_on=[pick(given)], run_if="ALL_SUCESS")
    if mistake == "too-long":
        return run.idempotency_token("t" * 65)
    if mistake == "multiple-task-types":
        return run.task(SubmitTask(fresh, notebook_task=NotebookTask("/x"), run_job_task=RunJobTask(3)))
    if mistake == "unknown-cluster":
        return run.task(NotebookTask("/x"), key=fresh, cluster="no_such_cluster")
    if mistake == "unused-cluster":
        return run.cluster("spare", NewCluster(spark_version="15.4.x-scala2.12", num_workers=1))
    if mistake == "compute-not-allowed":
        return run.task(ConditionTask("a", "EQUAL_TO", "b"), key=fresh, libraries=[PyPI("pandas")])
    raise AssertionError(mistake)


BUILDER_MISTAKES = (
    "duplicate-task-key",
    "unknown-dependency",
    "dependency-cycle",
    "outcome-not-condition",
    "invalid-enum",
    "too-long",
    "multiple-task-types",
    "unknown-cluster",
    "unused-cluster",
    "compute-not-allowed",
)


@pytest.mark.parametrize("mistake", BUILDER_MISTAKES)
@budget(8)
@given(drawn=runs(max_tasks=6), data=st.data())
def test_a_builder_mistake_is_rejected_with_its_code(drawn: Drawn, mistake: str, data: st.DataObject) -> None:
    before = drawn.run.compile()
    broken = _builder_mistake(drawn.run, drawn, mistake, lambda seq: data.draw(st.sampled_from(list(seq))))
    with pytest.raises(SpecError) as caught:
        broken.compile()
    assert mistake in codes_of(caught.value)
    assert mistake in {p.code for p in broken.check()}
    # The run the mistake was added to is untouched: builders share their past, never mutate it.
    assert drawn.run.compile() == before


@pytest.mark.parametrize("name", MISTAKE_NAMES)
@budget(6)
@given(st.data())
def test_a_body_mistake_is_rejected_with_its_code(
    emulator: Emulator, http: requests.Session, name: str, data: st.DataObject
) -> None:
    body, code = data.draw(mistakes(name))
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(body)
    assert code in codes_of(caught.value)
    with pytest.raises(SpecError) as again:
        RunSpec.from_json(json.dumps(body))
    assert codes_of(again.value) == codes_of(caught.value)

    # The emulator refuses it as a workspace would (unknown keys alone pass, as they do there).
    accepted = loads_lax(body)
    assert accepted == (code == "unknown-field")
    answer = assert_answer(post(http, emulator, json.dumps(body)), accepted=accepted)
    if not accepted and code != "shared-cluster-unsupported":
        violations = [v["description"] for d in answer.get("details", []) for v in d.get("field_violations", [])]
        assert any(v.endswith(f"[{code}]") for v in violations), answer


def test_task_key_with_trailing_newline_is_rejected(emulator: Emulator, http: requests.Session) -> None:
    # Task keys match ^[\w\-]+$ on the whole key; "$" alone also matches before a final newline.
    body = {"run_name": "nl", "tasks": [{"task_key": "ingest\n", "run_job_task": {"job_id": 1}}]}
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(body)
    assert codes_of(caught.value) == {"invalid-task-key"}
    assert_answer(post(http, emulator, json.dumps(body)), accepted=False)


# -- damage and random JSON -----------------------------------------------------------------------


def _load_or_spec_error(body: Any, *, strict: bool) -> RunSpec | None:
    """``RunSpec.from_dict``: a RunSpec that reloads to itself, or a SpecError; anything else fails."""
    try:
        spec = RunSpec.from_dict(body, strict=strict)
    except SpecError as error:
        codes_of(error)
        return None
    assert RunSpec.from_dict(spec.to_dict(), strict=strict) == spec
    assert json.loads(spec.to_json()) == spec.to_dict()
    return spec


@budget(150)
@given(mutated_bodies())
def test_damaged_bodies_raise_only_spec_error(emulator: Emulator, http: requests.Session, body: Any) -> None:
    strict = _load_or_spec_error(body, strict=True)
    lax = _load_or_spec_error(body, strict=False)
    if strict is not None:
        assert lax == strict
    try:
        Run.from_dict(body).compile()
    except SpecError as error:
        codes_of(error)
    text = json.dumps(body)
    try:
        RunSpec.from_json(text)
    except SpecError as error:
        codes_of(error)
    assert_answer(post(http, emulator, text), accepted=emulator_accepts(body))


@budget(60)
@given(json_values)
def test_random_json_raises_only_spec_error(emulator: Emulator, http: requests.Session, value: Any) -> None:
    text = json.dumps(value)
    try:
        RunSpec.from_json(text, strict=False)
    except SpecError as error:
        codes_of(error)
    assert_answer(post(http, emulator, text), accepted=emulator_accepts(value) and _in_int64(value))


@budget(40)
@given(st.binary(max_size=64) | st.text(max_size=64).map(lambda s: s.encode("utf-8")))
def test_bytes_that_are_not_a_body_get_a_400(emulator: Emulator, http: requests.Session, data: bytes) -> None:
    try:
        RunSpec.from_json(data)
    except SpecError as error:
        codes_of(error)
        accepted = False
    else:
        accepted = True
    assert_answer(post(http, emulator, data), accepted=accepted)


@pytest.mark.parametrize("field", ["depends_on", "condition_task", "for_each_task", "libraries", "run_if"])
def test_emulator_reads_a_null_field_as_absent(emulator: Emulator, http: requests.Session, field: str) -> None:
    # RunSpec.from_dict drops keys whose value is null, as a workspace does; the emulator must agree.
    body: dict[str, Any] = {
        "run_name": "nulls",
        "tasks": [
            {"task_key": "a", "notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": "c"},
            {"task_key": "b", "notebook_task": {"notebook_path": "/b"}, "existing_cluster_id": "c", field: None},
        ],
    }
    assert loads_lax(body)
    run_id = assert_answer(post(http, emulator, json.dumps(body)), accepted=True)["run_id"]
    finished = emulator.wait(run_id, timeout=3600)
    assert finished is not None
    assert finished["state"]["result_state"] == "SUCCESS", finished["state"]
    got = http.get(
        f"{emulator.url}/api/2.2/jobs/runs/get",
        params={"run_id": run_id},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert got.status_code == 200, got.text[:300]
    assert [t["state"]["result_state"] for t in got.json()["tasks"]] == ["SUCCESS", "SUCCESS"]


def test_emulator_refuses_a_null_inside_a_map_as_runspec_does(emulator: Emulator, http: requests.Session) -> None:
    # A null field is absent, but a null map value is not a string: both sides must say 400.
    body = {
        "run_name": "nulls",
        "tasks": [
            {
                "task_key": "a",
                "notebook_task": {"notebook_path": "/a", "base_parameters": {"day": None}},
                "existing_cluster_id": "c",
            }
        ],
    }
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(body)
    assert [p.path for p in caught.value.problems] == ["$.tasks[0].notebook_task.base_parameters.day"]
    assert_answer(post(http, emulator, json.dumps(body)), accepted=False)


@pytest.mark.parametrize("value", [[1], "loop", 5, True])
def test_emulator_answers_a_for_each_task_of_the_wrong_type_with_400(
    emulator: Emulator, http: requests.Session, value: Any
) -> None:
    # Found by the long profile: the shared-cluster check read for_each_task as a dict before any check.
    body = {"run_name": "loop", "tasks": [{"task_key": "a", "for_each_task": value}]}
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(body)
    assert "wrong-type" in codes_of(caught.value)
    assert_answer(post(http, emulator, json.dumps(body)), accepted=False)


@pytest.mark.parametrize("opener", ["[", '{"tasks":'])
def test_json_nested_too_deeply_gets_a_400(emulator: Emulator, http: requests.Session, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    text = opener * 100_000 + "1" + closer * 100_000
    with pytest.raises(SpecError) as caught:
        RunSpec.from_json(text)
    assert codes_of(caught.value) == {"invalid-json"}
    try:
        response = post(http, emulator, text)
    except requests.ConnectionError as exc:
        pytest.fail(f"the emulator closed the connection instead of answering 400 ({exc})")
    assert_answer(response, accepted=False)
