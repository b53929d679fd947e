"""
Bad input gives ``SpecError`` (or ``TypeError`` for a wrong Python type at the call), never a
``KeyError``, ``AttributeError``, ``RecursionError`` or other crash from deep inside the loader or the checks.

Hypothesis feeds random JSON-like values and mutated valid bodies to ``RunSpec.from_dict``,
``Run.from_dict`` (then ``compile()``) and ``RunSpec.from_json``. The profile is bounded for CI;
``HYPOTHESIS_PROFILE=long`` runs many more examples (see tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_spec_roundtrip import CORPUS, SCHEMA

from runspec import ForEachTask, NotebookTask, Run, RunSpec, SpecError, SubmitTask, Task

GOLDEN = [
    json.loads(p.read_text(encoding="utf-8"))
    for p in sorted((Path(__file__).resolve().parent / "golden" / "bodies").glob("*.json"))
]
VALID_BODIES = [*GOLDEN, *CORPUS]

FIELD_NAMES = sorted({field for fields in SCHEMA.values() for field in fields})
ENUM_VALUES = sorted({v for fields in SCHEMA.values() for spec in fields.values() for v in spec.get("enum", ())})

keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from([*ENUM_VALUES, "GIT", "[1, 2]", "{{input}}", "dbt run", "600", "", "a" * 101]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)


def load_every_way(body: Any, *, strict: bool = True) -> None:
    """Load ``body`` with each loader; only SpecError may escape, and what loads must dump and reload."""
    if not isinstance(body, dict):
        with pytest.raises(TypeError):
            RunSpec.from_dict(body)
        with pytest.raises(TypeError):
            Run.from_dict(body)
    else:
        try:
            spec = RunSpec.from_dict(body, strict=strict)
        except SpecError:
            pass
        else:
            again = RunSpec.from_dict(spec.to_dict(), strict=strict)
            assert again == spec
            assert json.loads(spec.to_json()) == spec.to_dict()
        try:
            run = Run.from_dict(body, strict=strict)
        except SpecError:
            pass
        else:
            with contextlib.suppress(SpecError):
                run.compile().to_json()
    try:
        text = json.dumps(body)
    except (TypeError, ValueError, RecursionError):
        return
    with contextlib.suppress(SpecError):
        RunSpec.from_json(text, strict=strict).to_dict()


@given(json_values)
def test_random_json_only_gives_spec_error(value: Any) -> None:
    """Any JSON value given as a body loads, or gives SpecError (TypeError when it is not an object)."""
    load_every_way(value)


@given(
    st.fixed_dictionaries({"tasks": st.lists(st.dictionaries(keys, json_values, max_size=6), max_size=3)}),
    st.booleans(),
)
def test_random_task_lists_only_give_spec_error(value: dict[str, Any], strict: bool) -> None:
    """Bodies with task-shaped objects of random fields load, or give SpecError, strict or not."""
    load_every_way(value, strict=strict)


def _containers(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every dict and list inside ``value``."""
    out = []
    if isinstance(value, (dict, list)):
        out.append(path)
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            out.extend(_containers(v, (*path, k)))
    return out


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


@st.composite
def mutated_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body with a few random edits: a value replaced, a key dropped or added, an item duplicated."""
    body: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(VALID_BODIES)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        where = _at(body, draw(st.sampled_from(_containers(body))))
        if isinstance(where, dict):
            change_existing: bool = draw(st.booleans())
            if where and change_existing:
                key = draw(st.sampled_from(sorted(where)))
                if draw(st.booleans()):
                    del where[key]
                else:
                    where[key] = draw(json_values)
            else:
                where[draw(keys)] = draw(json_values)
        elif where:
            i = draw(st.integers(min_value=0, max_value=len(where) - 1))
            choice = draw(st.integers(min_value=0, max_value=2))
            if choice == 0:
                where[i] = draw(json_values)
            elif choice == 1:
                where.append(copy.deepcopy(where[i]))
            else:
                del where[i]
        else:
            where.append(draw(json_values))
    return body


@given(mutated_bodies(), st.booleans())
def test_mutated_valid_bodies_only_give_spec_error(body: dict[str, Any], strict: bool) -> None:
    """A valid body with random edits loads, or gives SpecError, through every loader."""
    load_every_way(body, strict=strict)


# --------------------------------------------------------------------------------------------------
# Deep nesting.
# --------------------------------------------------------------------------------------------------

DEPTH = 10_000


def deep_list(depth: int = DEPTH) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def deep_dict(depth: int = DEPTH) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def small_body() -> dict[str, Any]:
    return {"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": "c"}]}


def deep_bodies() -> dict[str, Callable[[], dict[str, Any]]]:
    def at(path: tuple[Any, ...], value: Any) -> Callable[[], dict[str, Any]]:
        def make() -> dict[str, Any]:
            body = small_body()
            _at(body, path[:-1])[path[-1]] = value
            return body

        return make

    return {
        "tasks-list": lambda: {"tasks": deep_list()},
        "tasks-dict": lambda: {"tasks": [deep_dict()]},
        "map-value": at(("tasks", 0, "notebook_task", "base_parameters"), deep_dict()),
        "array-field": at(("tasks", 0, "depends_on"), deep_list()),
        "unknown-key": at(("brand_new",), deep_dict()),
        "unknown-nested-key": at(("tasks", 0, "notebook_task", "brand_new"), deep_list()),
        "rejected-field": at(("job_clusters",), deep_list()),
        "library": at(("tasks", 0, "libraries"), [{"pypi": deep_dict()}]),
    }


@pytest.mark.parametrize("where", sorted(deep_bodies()))
@pytest.mark.parametrize("strict", [True, False])
def test_deep_nesting_in_a_dict_gives_spec_error(where: str, strict: bool) -> None:
    """10,000 nested lists or dicts anywhere in a body give SpecError, strict or not, from both loaders."""
    body = deep_bodies()[where]()
    with pytest.raises(SpecError):
        RunSpec.from_dict(body, strict=strict)
    with pytest.raises(SpecError):
        Run.from_dict(body, strict=strict).compile()


@pytest.mark.parametrize(
    "text",
    [
        "[" * DEPTH + "]" * DEPTH,
        '{"a":' * DEPTH + "1" + "}" * DEPTH,
        '{"tasks": ' + "[" * DEPTH + "]" * DEPTH + "}",
        '{"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/a", "x": '
        + '{"a":' * DEPTH
        + "1"
        + "}" * DEPTH
        + "}}]}",
    ],
    ids=["list", "dict", "tasks", "inside-task"],
)
def test_deep_json_text_gives_spec_error(text: str) -> None:
    """JSON text nested 10,000 deep gives SpecError from RunSpec.from_json and Run.from_json."""
    for loader in (RunSpec.from_json, Run.from_json):
        with pytest.raises(SpecError) as info:
            loader(text)
        assert [(p.path, p.code) for p in info.value.problems] == [("$", "invalid-json")]


def for_each_nest(depth: int) -> dict[str, Any]:
    task: dict[str, Any] = {"task_key": "leaf", "notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": "c"}
    for i in range(depth):
        task = {"task_key": f"l{i}", "for_each_task": {"inputs": "[1]", "task": task}}
    return {"tasks": [task]}


def test_for_each_nested_fifty_deep_is_too_deep() -> None:
    """A for_each nested 50 deep gives one too-deep problem from every loader, not a RecursionError."""
    body = for_each_nest(50)
    for load in (RunSpec.from_dict, lambda b: RunSpec.from_json(json.dumps(b))):
        with pytest.raises(SpecError) as info:
            load(body)
        assert info.value.codes.count("too-deep") == 1
        assert set(info.value.codes) == {"too-deep", "nested-for-each"}
    with pytest.raises(SpecError) as builder_info:
        Run.from_dict(body)  # whole-run checks wait for compile(); the depth is a load problem
    assert builder_info.value.codes == ("too-deep",)


def test_for_each_nested_deep_through_the_classes_gives_spec_error() -> None:
    """A for_each nested 400 deep built with the classes gives SpecError, not RecursionError, when checked."""
    task = Task("leaf", notebook_task=NotebookTask("/a"), existing_cluster_id="c")
    for i in range(400):
        task = Task(f"l{i}", for_each_task=ForEachTask("[1]", task))
    with pytest.raises(SpecError) as info:
        RunSpec(tasks=[SubmitTask("top", for_each_task=ForEachTask("[1]", task))])
    assert "nested-for-each" in info.value.codes


def test_deeply_nested_for_each_inputs_give_spec_error() -> None:
    """for_each inputs holding JSON nested 100,000 deep give SpecError, not RecursionError."""
    body = small_body()
    body["tasks"] = [
        {"task_key": "loop", "for_each_task": {"inputs": "[" * 100_000 + "]" * 100_000, "task": body["tasks"][0]}}
    ]
    with pytest.raises(SpecError):
        RunSpec.from_dict(body)


# --------------------------------------------------------------------------------------------------
# Values JSON cannot carry.
# --------------------------------------------------------------------------------------------------


def test_lone_surrogate_in_run_name_gives_spec_error() -> None:
    """A run_name with a lone surrogate (valid JSON escape, not valid UTF-8) gives SpecError, not UnicodeEncodeError."""
    text = '{"run_name": "\\ud800", "tasks": [{"task_key": "p", "pipeline_task": {"pipeline_id": "x"}}]}'
    with pytest.raises(SpecError):
        RunSpec.from_json(text)
    with pytest.raises(SpecError):
        RunSpec.from_dict(json.loads(text))


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_give_spec_error(number: float) -> None:
    """NaN and infinity, which JSON cannot carry, are refused rather than sent as invalid JSON."""
    body = {
        "tasks": [
            {
                "task_key": "a",
                "notebook_task": {"notebook_path": "/a"},
                "new_cluster": {
                    "spark_version": "v",
                    "num_workers": 1,
                    "azure_attributes": {"spot_bid_max_price": number},
                },
            }
        ]
    }
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(body)
    assert [p.path for p in info.value.problems] == ["$.tasks[0].new_cluster.azure_attributes.spot_bid_max_price"]
