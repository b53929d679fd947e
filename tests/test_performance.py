"""
Performance bounds of issue 4, and the shortcuts that meet them giving exactly what the slow paths give.

Build + compile + to_json() of a 1000-task run must cost at most twice building the identical body as
plain dicts and ``json.dumps`` (measured here, in the same process, in the same round), and 1000 tasks
at most 12 times 100 tasks. No absolute seconds are asserted. Each figure is the best of several
interleaved runs after a full collection, with the garbage collector on, as a user's program has it; a
shared machine is noisy, so a bound that one round misses gets two more rounds before the test fails.

The shortcuts (tasks the rules need not look at, task keys checked all at once, a task's findings flag
worked out by Run.task(), shared clusters written once into the JSON) are each checked against the
full path they stand in for.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runspec import (
    NewCluster,
    NotebookTask,
    PyPI,
    Run,
    RunSpec,
    SpecError,
)
from runspec.spec import SubmitTask, TaskDependency

GROWTH_LIMIT = 12.0
ROUNDS = 3
SHAPES = ("chain", "fanout")

# The bodies timed are exactly the ones benchmarks/build.py times, so the test and the benchmark agree.
_BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(_BENCHMARKS))
try:
    from build import floor as plain
    from build import with_runspec
finally:
    sys.path.remove(str(_BENCHMARKS))


def best(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best time of each function over ``repeat`` interleaved runs, each after a full collection."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


@pytest.mark.parametrize("shape", SHAPES)
def test_builder_body_matches_the_plain_floor(shape: str) -> None:
    """Both sides of the comparison make the same body, so they do the same job."""
    for n in (1, 2, 50):
        assert json.loads(with_runspec(n, shape)) == json.loads(plain(n, shape))


@pytest.mark.parametrize("shape", SHAPES)
def test_thousand_tasks_cost_at_most_twelve_times_a_hundred(shape: str) -> None:
    """time(1000) / time(100) of build + compile + to_json stays at most 12: no quadratic work."""
    seen = []
    for _ in range(ROUNDS):
        t = best({"100": lambda: with_runspec(100, shape), "1000": lambda: with_runspec(1000, shape)}, repeat=7)
        growth = t["1000"] / t["100"]
        seen.append(round(growth, 1))
        if growth <= GROWTH_LIMIT:
            return
    pytest.fail(f"time(1000)/time(100) per round: {seen} (limit {GROWTH_LIMIT})")


# -- the shortcuts give what the full paths give ---------------------------------------------------------


def test_findings_flag_from_run_task_matches_a_full_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """compile() gives each task the flag Run.task() worked out; it is the flag a full look gives."""
    warned = NewCluster(spark_version="x", autotermination_minutes=5)  # a warning: flagged
    run = (
        Run("r")
        .cluster("c", NewCluster(spark_version="x"))
        .cluster("warned", warned)
        .task(NotebookTask("/a"), key="a", cluster="c")
        .task(NotebookTask("/b", source="BAD"), key="b", cluster="c")  # type: ignore[arg-type]  # an enum problem
        .task(NotebookTask("/c"), key="c", cluster="warned")
        .task(NotebookTask("/d"), key="d", cluster="c", run_if="ALL_DONE", libraries=[PyPI("p")])
        .task(NotebookTask("/e"), key="e", cluster="c", depends_on=["a", TaskDependency("b", outcome="true")])
    )
    made: list[RunSpec] = []
    # Keep the spec compile() makes, problems or not.
    monkeypatch.setattr(RunSpec, "_finish", lambda spec, *args, **kwargs: made.append(spec))
    run.compile()
    tasks = made[0].tasks or ()
    for task in tasks:
        assert task._f == SubmitTask._new(dict(task.__dict__))._f, task.task_key
    assert {t.task_key: t._f for t in tasks} == {"a": False, "b": True, "c": True, "d": False, "e": False}


def _plain_json(spec: RunSpec) -> str:
    return json.dumps(spec.to_dict(), separators=(",", ":"), ensure_ascii=False)


MARKER = "\x00runspec-shared-cluster-0\x00"


@pytest.mark.parametrize(
    "run",
    [
        Run("x").cluster("c", NewCluster(spark_version="x")).task(NotebookTask("/a")).task(NotebookTask("/b")),
        # The marker text in the body itself: written plainly.
        Run(MARKER)
        .cluster("c", NewCluster(spark_version=MARKER, custom_tags={MARKER: MARKER}))
        .task(NotebookTask(MARKER), key="a")
        .task(NotebookTask("/b", base_parameters={"k": MARKER}), key="b"),
        Run("x")
        .cluster("c", NewCluster(spark_version="x"))
        .cluster("d", NewCluster(spark_version="\x00runspec-shared-cluster-1\x00"))
        .task(NotebookTask("/a"), cluster="c")
        .task(NotebookTask("/a"), cluster="d")
        .task(NotebookTask("/a"), cluster="c")
        .task(NotebookTask("/a"), cluster="d"),
    ],
)
def test_shared_clusters_are_written_as_plain_json_would_write_them(run: Run) -> None:
    """to_json() writes a shared cluster once and splices it in: the text json.dumps would write."""
    spec = run.compile()
    assert spec.to_json() == _plain_json(spec)
    assert json.loads(spec.to_json(indent=2)) == spec.to_dict()


def test_many_distinct_clusters_are_written_plainly() -> None:
    """More distinct clusters than splicing pays for: the same text, dumped plainly."""
    run = Run("x")
    for i in range(40):
        run = run.cluster(f"c{i}", NewCluster(spark_version=f"v{i}"))
    for i in range(80):
        run = run.task(NotebookTask(f"/n{i}"), cluster=f"c{i % 40}")
    spec = run.compile()
    assert spec.to_json() == _plain_json(spec)


def test_loaded_body_round_trips_through_the_quick_loader() -> None:
    """A valid body loads quickly and says exactly what it said; an invalid one is reported in full."""
    text = plain(20, "chain")
    assert json.loads(RunSpec.from_json(text).to_json()) == json.loads(text)
    body = json.loads(text)
    dependency = body["tasks"][3]["depends_on"][0]
    dependency["task_kee"] = dependency.pop("task_key")
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(body)
    assert [(p.path, p.code) for p in err.value.problems] == [
        ("$.tasks[3].depends_on[0].task_kee", "unknown-field"),
        ("$.tasks[3].depends_on[0].task_key", "missing-field"),
    ]


def _objects(value: Any) -> list[Any]:
    """Every spec object in a frozen value, depth first."""
    from runspec.spec._base import SpecObject

    if isinstance(value, SpecObject):
        return [value, *(o for v in value.__dict__.values() for o in _objects(v))]
    if isinstance(value, tuple):
        return [o for v in value for o in _objects(v)]
    return []


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).parent / "golden" / "bodies").glob("*.json")))
def test_quick_loader_flags_match_a_full_look(name: str) -> None:
    """Every object the quick loader makes has the findings flag a full look at its fields gives."""
    body = json.loads((Path(__file__).parent / "golden" / "bodies" / name).read_text())
    spec = RunSpec.from_dict(body, strict=False)
    objects = _objects(spec)
    assert len(objects) >= 3
    for obj in objects:
        assert obj._f == type(obj)._new(dict(obj.__dict__), obj._extra_map())._f, obj
