"""
Growth bounds, and the shortcuts that remain giving exactly what the plain paths give.

Build + compile + to_json() of 1000 tasks costs less than 20 times 100 tasks (no quadratic work), the
bound widened by the plain-dict floor's own growth in the same round on a loaded machine. No
absolute seconds and no ratio against another library are asserted here: those live in
``benchmarks/run.py``, where a loaded machine cannot fail a test. Each figure is the best of several
interleaved runs; a bound that one round misses gets two more rounds before the test fails.

The shortcut (shared clusters written once into the JSON) is checked against the plain path it stands
in for, and a large body loads back as it was written.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runspec import (
    NewCluster,
    NotebookTask,
    Run,
    RunSpec,
    SpecError,
)

GROWTH_LIMIT = 20.0
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
    """
    Best time of each function over ``repeat`` interleaved runs, with the cyclic collector paused.

    One collection before the series, not one per run: in a process that has run many tests already, a
    full collection walks every object left alive and costs more than the builds being timed.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    finally:
        gc.enable()
    return {name: min(values) for name, values in times.items()}


@pytest.mark.parametrize("shape", SHAPES)
def test_builder_body_matches_the_plain_floor(shape: str) -> None:
    """Both sides of the comparison make the same body, so they do the same job."""
    for n in (1, 2, 50):
        assert json.loads(with_runspec(n, shape)) == json.loads(plain(n, shape))


@pytest.mark.parametrize("shape", SHAPES)
def test_thousand_tasks_cost_at_most_twenty_times_a_hundred(shape: str) -> None:
    """
    time(1000) / time(100) of build + compile + to_json stays under 20: no quadratic work.

    On a loaded machine even plain dicts grow more than tenfold (memory and cache effects), so the bound
    widens by however much the plain-dict floor grows beyond ten in the same round; a quadratic term (a
    ``.task()`` copying every earlier task) grows near 100 and still fails.
    """
    seen = []
    for _ in range(ROUNDS):
        t = best(
            {
                "100": lambda: with_runspec(100, shape),
                "1000": lambda: with_runspec(1000, shape),
                "floor 100": lambda: plain(100, shape),
                "floor 1000": lambda: plain(1000, shape),
            },
            repeat=7,
        )
        growth, floor = t["1000"] / t["100"], t["floor 1000"] / t["floor 100"]
        seen.append((round(growth, 1), round(floor, 1)))
        if growth <= GROWTH_LIMIT * max(1.0, floor / 10):
            return
    pytest.fail(f"time(1000)/time(100) per round (runspec, plain dicts): {seen} (limit {GROWTH_LIMIT})")


# -- the shortcuts give what the full paths give ---------------------------------------------------------


def _plain_json(spec: RunSpec) -> str:
    return json.dumps(spec.to_dict(), separators=(",", ":"), ensure_ascii=False)


MARKER = "\x000\x00"


@pytest.mark.parametrize(
    "run",
    [
        Run("x")
        .cluster("c", NewCluster(spark_version="x", num_workers=1))
        .task(NotebookTask("/a"))
        .task(NotebookTask("/b")),
        # The marker text in the body itself: written plainly.
        Run(MARKER)
        .cluster("c", NewCluster(spark_version=MARKER, num_workers=1, custom_tags={MARKER: MARKER}))
        .task(NotebookTask(MARKER), key="a")
        .task(NotebookTask("/b", base_parameters={"k": MARKER}), key="b"),
        Run("x")
        .cluster("c", NewCluster(spark_version="x", num_workers=1))
        .cluster("d", NewCluster(spark_version="\x001\x00", num_workers=1))
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
        run = run.cluster(f"c{i}", NewCluster(spark_version=f"v{i}", num_workers=1))
    for i in range(80):
        run = run.task(NotebookTask(f"/n{i}"), cluster=f"c{i % 40}")
    spec = run.compile()
    assert spec.to_json() == _plain_json(spec)


def test_loaded_body_round_trips_through_the_loader() -> None:
    """A valid body loads and says exactly what it said; an invalid one is reported in full."""
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
