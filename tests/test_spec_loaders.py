"""
The quick loader and the full loader agree.

``RunSpec.from_dict`` first tries the quick loader, which gives up at the first thing it would have to
report; the full loader then reports everything with its path. These tests run both on the hidden
corners of JSON (nulls, bools where ints are expected, floats for ints, numeric strings, unknown fields,
depth, enum misses, wrong types inside lists and maps, huge numbers) and check that whenever the quick
loader returns an object, it is exactly the object the full loader makes with nothing to report; and
that whenever the full loader has something to report, the quick loader gave up.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from runspec import RunSpec
from runspec.spec import NewCluster, NotebookTask, SubmitTask
from runspec.spec.objects._load import Bail, LoadContext, load_object, quick_object

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


T0 = ("tasks", 0)
CORNERS: list[tuple[tuple[Any, ...], Any]] = [
    (("timeout_seconds",), None),
    (("timeout_seconds",), True),
    (("timeout_seconds",), 1.0),
    (("timeout_seconds",), 1.5),
    (("timeout_seconds",), "60"),
    (("timeout_seconds",), " 60 "),
    (("timeout_seconds",), "sixty"),
    (("timeout_seconds",), 10**5000),
    (("timeout_seconds",), -(10**30)),
    (("timeout_seconds",), 2**63),
    (("timeout_seconds",), float("1e400")),
    (("timeout_seconds",), []),
    (("run_name",), 5),
    (("run_name",), None),
    (("unknown_top",), 1),
    (("queue",), None),
    (("queue",), {"enabled": 1}),
    (("queue",), {"enabled": None}),
    (("queue",), []),
    ((*T0, "task_key"), None),
    ((*T0, "run_if"), "SOMETIMES"),
    ((*T0, "run_if"), 3),
    ((*T0, "max_retries"), False),
    ((*T0, "notebook_task", "source"), "git"),
    ((*T0, "notebook_task", "base_parameters"), {"k": 1}),
    ((*T0, "notebook_task", "base_parameters"), {"k": None}),
    ((*T0, "notebook_task", "base_parameters"), ["k"]),
    ((*T0, "notebook_task", "notebook_pth"), "/typo"),
    ((*T0, "notebook_task", "notebook_path"), None),
    ((*T0, "new_cluster", "num_workers"), "2"),
    ((*T0, "new_cluster", "num_workers"), 2.0),
    ((*T0, "new_cluster", "spark_conf"), {"x": None}),
    ((*T0, "new_cluster", "aws_attributes", "first_on_demand"), True),
    ((*T0, "new_cluster", "aws_attributes", "spot_bid_price_percent"), "100"),
    ((*T0, "new_cluster", "custom_tags"), {"team": 5}),
    ((*T0, "libraries"), [None]),
    ((*T0, "libraries"), [{"pypi": {"package": "p"}, "whl": "/w"}]),
    ((*T0, "libraries"), [{"whl": 5}]),
    ((*T0, "libraries"), [{"egg": "/e.egg"}]),
    ((*T0, "libraries"), [{"wheel": "/w.whl"}]),
    ((*T0, "libraries"), {"pypi": {"package": "p"}}),
    ((*T0, "libraries"), [{"pypi": {"package": "p", "repo": None}}]),
    (("tasks", 1, "depends_on"), [{"task_key": 5}]),
    (("tasks", 1, "depends_on"), ["a"]),
    (("tasks", 1, "depends_on"), [{"task_key": "a", "outcome": "maybe"}]),
    (("tasks",), []),
    (("tasks",), None),
    (("tasks",), [None]),
    (("job_clusters",), []),
    (("genie_task",), {}),
]


def _full(cls: Any, body: dict[str, Any], strict: bool = True) -> tuple[Any, LoadContext]:
    ctx = LoadContext(strict=strict)
    return load_object(cls, body, "$", ctx, 0), ctx


IDS = [f"{'.'.join(map(str, p))}-{i}" for i, (p, _) in enumerate(CORNERS)]


@pytest.mark.parametrize(("path", "value"), CORNERS, ids=IDS)
def test_quick_and_full_loader_agree(path: tuple[Any, ...], value: Any) -> None:
    body = _set(BASE, path, value)
    full, ctx = _full(RunSpec, body)
    try:
        quick = quick_object(RunSpec, body, 0)
    except Bail:
        quick = None
    if quick is not None:
        assert not ctx.problems and not ctx.warnings, "the quick loader took a body with something to report"
        assert quick == full
        assert quick.to_dict() == full.to_dict() == _without_nulls(body)
    else:
        # It gave up: the full loader has something to say, or (an enum miss, a warning) the checks do.
        assert ctx.problems or ctx.warnings or _checks_find_something(full), body


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _checks_find_something(spec: RunSpec) -> bool:
    from runspec.spec.checks._checks import check_run

    report = check_run(spec)
    return bool(report.errors or report.warnings)


def test_a_clean_body_loads_quickly_and_equals_the_full_load() -> None:
    quick = quick_object(RunSpec, BASE, 0)
    full, ctx = _full(RunSpec, BASE)
    assert not ctx.problems and not ctx.warnings
    assert quick == full and json.loads(quick.to_json()) == BASE


def test_deep_nesting_gives_up_quickly_and_is_reported_fully() -> None:
    inner: dict[str, Any] = {"task_key": "x", "notebook_task": {"notebook_path": "/n"}}
    for _ in range(40):
        inner = {"task_key": "x", "for_each_task": {"inputs": "[1]", "task": inner}}
    body = {"tasks": [inner]}
    with pytest.raises(Bail):
        quick_object(RunSpec, body, 0)
    _, ctx = _full(RunSpec, body)
    assert "too-deep" in {p.code for p in ctx.problems}


@pytest.mark.parametrize("cls", [SubmitTask, NotebookTask, NewCluster])
def test_non_dicts_give_up_quickly(cls: Any) -> None:
    for value in (None, [], "x", 1, True):
        with pytest.raises(Bail):
            quick_object(cls, value, 0)
        _, ctx = _full(cls, value)  # type: ignore[arg-type]
        assert [p.code for p in ctx.problems] == ["wrong-type"]
