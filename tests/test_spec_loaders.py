"""
The loader on the hidden corners of JSON.

``RunSpec.from_dict``, ``from_json``, ``Run.from_dict`` and every class's ``from_dict`` share one loader.
These tests change one value of a valid body at a time (nulls, bools where ints are expected, floats for
ints, numeric strings, int64 bounds, unknown fields strict and lenient, depth, enum misses, wrong types
inside lists and maps, huge numbers) and check what a caller sees: the problems with their paths and
codes, or the loaded body and its warnings.
"""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest

from runspec import Run, RunSpec, SpecError
from runspec.spec import NewCluster, NotebookTask, SubmitTask

BASE: dict[str, Any] = {
    "run_name": "corners",
    "timeout_seconds": 60,
    "tasks": [
        {
            "task_key": "a",
            "notebook_task": {"notebook_path": "/n", "base_parameters": {"k": "v"}, "source": "WORKSPACE"},
            "new_cluster": {
                "spark_version": "15.4.x-scala2.12",
                "num_workers": 1,
                "spark_conf": {"x": "y"},
                "aws_attributes": {"first_on_demand": 1, "spot_bid_price_percent": 100},
                "custom_tags": {"team": "t"},
            },
            "libraries": [{"pypi": {"package": "p"}}, {"whl": "/w.whl"}],
            "max_retries": 1,
            "run_if": "ALL_SUCCESS",
        },
        {"task_key": "b", "depends_on": [{"task_key": "a"}], "pipeline_task": {"pipeline_id": "p"}},
    ],
    "queue": {"enabled": True},
}


def _set(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _pairs(problems: Any) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in problems]


T0 = ("tasks", 0)
NC = (*T0, "new_cluster")
TS = "$.timeout_seconds"
#: (where, value, what loading says): a list of (path, code) problems, or ``OK`` and the warnings.
OK = "ok"
CORNERS: list[tuple[tuple[Any, ...], Any, Any]] = [
    (("timeout_seconds",), None, (OK, [])),
    (("timeout_seconds",), True, [(TS, "wrong-type")]),
    (("timeout_seconds",), 1.0, [(TS, "wrong-type")]),
    (("timeout_seconds",), 1.5, [(TS, "wrong-type")]),
    (("timeout_seconds",), "60", (OK, [(TS, "number-as-string")])),
    (("timeout_seconds",), " 60 ", (OK, [(TS, "number-as-string")])),
    (("timeout_seconds",), "sixty", [(TS, "wrong-type")]),
    (("timeout_seconds",), 10**5000, [(TS, "out-of-range")]),
    (("timeout_seconds",), -(10**30), [(TS, "out-of-range")]),
    (("timeout_seconds",), 2**63, [(TS, "out-of-range")]),
    (("timeout_seconds",), 2**63 - 1, (OK, [])),
    (("timeout_seconds",), -(2**63) - 1, [(TS, "out-of-range")]),
    (("timeout_seconds",), "9223372036854775808", [(TS, "out-of-range")]),
    (("timeout_seconds",), float("1e400"), [(TS, "wrong-type")]),
    (("timeout_seconds",), [], [(TS, "wrong-type")]),
    (("run_name",), 5, [("$.run_name", "wrong-type")]),
    (("run_name",), None, (OK, [])),
    (("unknown_top",), 1, [("$.unknown_top", "unknown-field")]),
    (("queue",), None, (OK, [])),
    (("queue",), {"enabled": 1}, [("$.queue.enabled", "wrong-type")]),
    (("queue",), {"enabled": None}, [("$.queue.enabled", "missing-field")]),
    (("queue",), {}, [("$.queue.enabled", "missing-field")]),
    (("queue",), [], [("$.queue", "wrong-type")]),
    (
        (*T0, "task_key"),
        None,
        [("$.tasks[0].task_key", "missing-field"), ("$.tasks[1].depends_on[0].task_key", "unknown-dependency")],
    ),
    ((*T0, "run_if"), "SOMETIMES", [("$.tasks[0].run_if", "invalid-enum")]),
    ((*T0, "run_if"), 3, [("$.tasks[0].run_if", "wrong-type")]),
    ((*T0, "max_retries"), False, [("$.tasks[0].max_retries", "wrong-type")]),
    ((*T0, "notebook_task", "source"), "git", [("$.tasks[0].notebook_task.source", "invalid-enum")]),
    (
        (*T0, "notebook_task", "base_parameters"),
        {"k": 1},
        [("$.tasks[0].notebook_task.base_parameters.k", "wrong-type")],
    ),
    (
        (*T0, "notebook_task", "base_parameters"),
        {"k": None},
        [("$.tasks[0].notebook_task.base_parameters.k", "wrong-type")],
    ),
    (
        (*T0, "notebook_task", "base_parameters"),
        {"a b": 1},
        [("$.tasks[0].notebook_task.base_parameters['a b']", "wrong-type")],
    ),
    ((*T0, "notebook_task", "base_parameters"), ["k"], [("$.tasks[0].notebook_task.base_parameters", "wrong-type")]),
    ((*T0, "notebook_task", "notebook_pth"), "/typo", [("$.tasks[0].notebook_task.notebook_pth", "unknown-field")]),
    ((*T0, "notebook_task", "notebook_path"), None, [("$.tasks[0].notebook_task.notebook_path", "missing-field")]),
    ((*T0, "notebook_task"), {}, [("$.tasks[0].notebook_task.notebook_path", "missing-field")]),
    ((*NC, "num_workers"), "2", (OK, [("$.tasks[0].new_cluster.num_workers", "number-as-string")])),
    (
        (*NC, "num_workers"),
        2.0,
        [("$.tasks[0].new_cluster.num_workers", "wrong-type"), ("$.tasks[0].new_cluster", "missing-cluster-size")],
    ),
    ((*NC, "spark_conf"), {"x": None}, [("$.tasks[0].new_cluster.spark_conf.x", "wrong-type")]),
    (
        (*NC, "aws_attributes", "first_on_demand"),
        True,
        [("$.tasks[0].new_cluster.aws_attributes.first_on_demand", "wrong-type")],
    ),
    (
        (*NC, "aws_attributes", "spot_bid_price_percent"),
        "100",
        (OK, [("$.tasks[0].new_cluster.aws_attributes.spot_bid_price_percent", "number-as-string")]),
    ),
    ((*NC, "custom_tags"), {"team": 5}, [("$.tasks[0].new_cluster.custom_tags.team", "wrong-type")]),
    ((*T0, "libraries"), [None], [("$.tasks[0].libraries[0]", "wrong-type")]),
    ((*T0, "libraries"), [{"pypi": {"package": "p"}, "whl": "/w"}], [("$.tasks[0].libraries[0]", "library-kind")]),
    ((*T0, "libraries"), [{"whl": 5}], [("$.tasks[0].libraries[0].whl", "wrong-type")]),
    ((*T0, "libraries"), [{"egg": "/e.egg"}], (OK, [("$.tasks[0].libraries[0]", "deprecated")])),
    ((*T0, "libraries"), [{"wheel": "/w.whl"}], [("$.tasks[0].libraries[0].wheel", "unknown-field")]),
    (
        (*T0, "libraries"),
        [{"pypi": {"pkg": "p"}}],
        [
            ("$.tasks[0].libraries[0].pypi.pkg", "unknown-field"),
            ("$.tasks[0].libraries[0].pypi.package", "missing-field"),
        ],
    ),
    ((*T0, "libraries"), [{}], [("$.tasks[0].libraries[0]", "library-kind")]),
    ((*T0, "libraries"), {"pypi": {"package": "p"}}, [("$.tasks[0].libraries", "wrong-type")]),
    ((*T0, "libraries"), [{"pypi": {"package": "p", "repo": None}}], (OK, [])),
    (("tasks", 1, "depends_on"), [{"task_key": 5}], [("$.tasks[1].depends_on[0].task_key", "wrong-type")]),
    (("tasks", 1, "depends_on"), ["a"], [("$.tasks[1].depends_on[0]", "wrong-type")]),
    (
        ("tasks", 1, "depends_on"),
        [{"task_key": "a", "outcome": "maybe"}],
        [
            ("$.tasks[1].depends_on[0].outcome", "invalid-outcome"),
            ("$.tasks[1].depends_on[0].outcome", "outcome-not-condition"),
        ],
    ),
    (("tasks",), [], [("$.tasks", "no-tasks")]),
    (("tasks",), None, [("$.tasks", "no-tasks")]),
    (("tasks",), [None], [("$.tasks[0]", "wrong-type"), ("$.tasks", "no-tasks")]),
    (("job_clusters",), [], [("$.job_clusters", "shared-cluster-unsupported")]),
    (("genie_task",), {}, [("$.genie_task", "unknown-field")]),
]
IDS = [f"{'.'.join(map(str, p))}-{i}" for i, (p, _, _) in enumerate(CORNERS)]


@pytest.mark.parametrize(("where", "value", "expected"), CORNERS, ids=IDS)
def test_each_corner_loads_or_is_reported_at_its_path(where: tuple[Any, ...], value: Any, expected: Any) -> None:
    body = _set(BASE, where, value)
    if isinstance(expected, tuple):
        spec = RunSpec.from_dict(body)
        assert spec.to_dict() == _without_nulls(body)
        assert _pairs(spec.warnings) == expected[1]
    else:
        with pytest.raises(SpecError) as err:
            RunSpec.from_dict(body)
        assert _pairs(err.value.problems) == expected
        # Run.from_dict and from_json load with the same loader: the same load problems, at the same paths.
        load_problems = [p for p in expected if p[1] not in _CHECK_CODES]
        if load_problems:
            with pytest.raises(SpecError) as run_err:
                Run.from_dict(body)
            assert _pairs(run_err.value.problems) == load_problems
        if value != 10**5000:  # json.dumps refuses an integer this long
            with pytest.raises(SpecError) as json_err:
                RunSpec.from_json(json.dumps(body))
            assert _pairs(json_err.value.problems) == expected


#: The codes the whole-run checks give (``compile()``), not the loader.
_CHECK_CODES = {
    "unknown-dependency",
    "invalid-enum",
    "missing-cluster-size",
    "deprecated",
    "invalid-outcome",
    "outcome-not-condition",
    "no-tasks",
}


MESSAGES: list[tuple[tuple[Any, ...], Any, str]] = [
    (("timeout_seconds",), True, "expected an integer, got a boolean"),
    (("timeout_seconds",), 1.5, "expected an integer, got a number"),
    (
        ("timeout_seconds",),
        10**5000,
        "an integer of about 5000 digits is outside the 64-bit integers the API takes (-2**63 to 2**63 - 1)",
    ),
    (
        ("timeout_seconds",),
        2**63,
        "9223372036854775808 is outside the 64-bit integers the API takes (-2**63 to 2**63 - 1)",
    ),
    (("queue",), {"enabled": None}, "'enabled' is required and cannot be null"),
    (("queue",), {}, "QueueSettings needs 'enabled' (bool)"),
    (("queue",), [], "expected an object (QueueSettings), got an array"),
    ((*T0, "notebook_task", "base_parameters"), {"k": None}, "null is not allowed here; expected str"),
    (
        (*T0, "notebook_task", "notebook_pth"),
        "/typo",
        "NotebookTask has no field 'notebook_pth'; did you mean 'notebook_path'? "
        "(extra={...} or strict=False passes it through)",
    ),
    ((*T0, "libraries"), [None], "null is not allowed in a list of Library object"),
    ((*T0, "libraries"), [{"whl": 5}], "expected a string path, got an integer"),
    (
        (*T0, "libraries"),
        [{"wheel": "/w.whl"}],
        "a library has no kind 'wheel'; did you mean 'whl'? (kinds: cran, egg, jar, maven, pypi, requirements, whl)",
    ),
    (("tasks", 1, "depends_on"), ["a"], "expected an object (TaskDependency), got a string"),
]


@pytest.mark.parametrize(("where", "value", "message"), MESSAGES, ids=[m[2][:40] for m in MESSAGES])
def test_each_load_problem_says_what_is_wrong(where: tuple[Any, ...], value: Any, message: str) -> None:
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(_set(BASE, where, value))
    assert [p.message for p in err.value.problems] == [message]


LENIENT: list[tuple[tuple[Any, ...], Any, str]] = [
    (("unknown_top",), 1, "$.unknown_top"),
    (("genie_task",), {}, "$.genie_task"),
    ((*T0, "notebook_task", "notebook_pth"), "/typo", "$.tasks[0].notebook_task.notebook_pth"),
    ((*T0, "libraries"), [{"wheel": "/w.whl"}], "$.tasks[0].libraries[0].wheel"),
]


@pytest.mark.parametrize(("where", "value", "path"), LENIENT)
def test_unknown_fields_pass_through_with_a_warning_when_lenient(where: tuple[Any, ...], value: Any, path: str) -> None:
    body = _set(BASE, where, value)
    spec = RunSpec.from_dict(body, strict=False)
    assert spec.to_dict() == body
    assert _pairs(spec.warnings) == [(path, "unknown-field")]
    assert json.loads(RunSpec.from_json(spec.to_json(), strict=False).to_json()) == body


def test_lenient_loading_still_refuses_values_that_are_not_json() -> None:
    body = _set(BASE, ("unknown_top",), {1: "x"})
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(body, strict=False)
    assert _pairs(err.value.problems) == [("$.unknown_top", "wrong-type")]


def test_a_clean_body_loads_as_it_was_written() -> None:
    spec = RunSpec.from_dict(BASE)
    assert spec.warnings == ()
    assert json.loads(spec.to_json()) == BASE
    assert spec == RunSpec.from_json(json.dumps(BASE)) == Run.from_dict(BASE).compile()
    task = spec.tasks[0]  # type: ignore[index]
    assert type(task) is SubmitTask and type(task.notebook_task) is NotebookTask
    assert type(task.new_cluster) is NewCluster and task.new_cluster.num_workers == 1


def test_a_map_key_that_is_not_a_string_is_reported_beside_its_wrong_values() -> None:
    """A dict the caller made may have keys JSON cannot carry; the caller's dict is left as it was."""
    params: dict[Any, Any] = {"k": "v", 1: "x", "j": 2}
    body = _set(BASE, (*T0, "notebook_task", "base_parameters"), params)
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(body)
    assert [(p.path, p.code, p.message) for p in err.value.problems] == [
        ("$.tasks[0].notebook_task.base_parameters['1']", "wrong-type", "object keys must be strings"),
        ("$.tasks[0].notebook_task.base_parameters.j", "wrong-type", "expected a string, got an integer"),
    ]
    assert params == {"k": "v", 1: "x", "j": 2}


def test_every_problem_of_a_body_is_reported_at_once() -> None:
    body = _set(BASE, ("timeout_seconds",), "sixty")
    body = _set(body, (*T0, "notebook_task", "base_parameters"), {"k": 1, "j": None})
    body = _set(body, ("tasks", 1, "depends_on"), [{"task_key": 5}, None])
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(body)
    assert _pairs(err.value.problems) == [
        ("$.timeout_seconds", "wrong-type"),
        ("$.tasks[0].notebook_task.base_parameters.k", "wrong-type"),
        ("$.tasks[0].notebook_task.base_parameters.j", "wrong-type"),
        ("$.tasks[1].depends_on[0].task_key", "wrong-type"),
        ("$.tasks[1].depends_on[1]", "wrong-type"),
    ]


def test_deep_nesting_is_reported_once_at_the_limit() -> None:
    inner: dict[str, Any] = {"task_key": "x", "notebook_task": {"notebook_path": "/n"}}
    for _ in range(40):
        inner = {"task_key": "x", "for_each_task": {"inputs": "[1]", "task": inner}}
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict({"tasks": [inner]})
    deep = [p.path for p in err.value.problems if p.code == "too-deep"]
    assert deep == ["$.tasks[0]" + ".for_each_task.task" * 12]


@pytest.mark.parametrize("value", [[], "x", 1, True, 1.5])
def test_a_value_that_is_not_an_object_where_one_is_expected(value: Any) -> None:
    for key, name in (("notebook_task", "NotebookTask"), ("new_cluster", "ClusterSpec")):
        with pytest.raises(SpecError) as err:
            SubmitTask.from_dict({"task_key": "a", key: value})
        assert _pairs(err.value.problems) == [(f"$.{key}", "wrong-type")]
        assert err.value.problems[0].message.startswith(f"expected an object ({name}), got ")
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(_set(BASE, T0, value))
    assert _pairs(err.value.problems)[0] == ("$.tasks[0]", "wrong-type")
    assert err.value.problems[0].message.startswith("expected an object (SubmitTask), got ")


@pytest.mark.parametrize("strict", [True, False])
def test_loading_leaves_the_callers_body_as_it_was(strict: bool) -> None:
    """from_dict and Run.from_dict copy what they keep; only a body parsed by from_json is taken apart."""
    messy = _set(_set(BASE, ("unknown_top",), {"a": [1]}), (*T0, "notebook_task", "base_parameters"), {"k": None})
    loads: list[Any] = [
        lambda body: RunSpec.from_dict(body, strict=strict),
        lambda body: Run.from_dict(body, strict=strict),
        lambda body: SubmitTask.from_dict(body["tasks"][0], strict=strict),
    ]
    for body in (copy.deepcopy(BASE), _set(messy, ("run_name",), None)):
        before = copy.deepcopy(body)
        for load in loads:
            with contextlib.suppress(SpecError):
                load(body)
            assert body == before
