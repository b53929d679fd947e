"""
Performance guard: building, compiling and serialising a 1000-task run costs about ten times a
100-task run, not a hundred (no quadratic work, for example a ``.task()`` that copies all earlier tasks).

No absolute seconds are asserted. Each figure is the best of several runs with the garbage collector
paused, and the 1000/100 growth is compared with 20 (linear is 10), loose enough that a loaded machine
cannot fail it. On a busy machine even plain dicts grow more than tenfold (memory and cache effects), so
the bound widens by however much the plain-dict floor itself grows beyond ten in the same round; a
quadratic term (a ``.task()`` copying every earlier task) shows as a growth near 100 and still fails.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable
from typing import Any

from runspec import NewCluster, NotebookTask, PyPI, Run, RunSpec, Whl

CLUSTER: dict[str, Any] = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}
LIMIT = 20.0
ROUNDS = 5


def plain(n: int) -> str:
    """The body as plain dicts and json.dumps: the floor any client pays."""
    tasks: list[dict[str, Any]] = []
    for i in range(n):
        task: dict[str, Any] = {
            "task_key": f"t{i}",
            "notebook_task": {"notebook_path": f"/Repos/etl/step_{i}", "base_parameters": {"i": str(i)}},
            "new_cluster": CLUSTER,
            "libraries": [{"pypi": {"package": "pandas==2.2.2"}}, {"whl": "/Volumes/etl/libs/etl.whl"}],
        }
        if i:
            task["depends_on"] = [{"task_key": f"t{i - 1}"}]
        tasks.append(task)
    return json.dumps({"run_name": "perf", "tasks": tasks, "timeout_seconds": 3600})


def with_builder(n: int) -> str:
    """The same body through Run(...).task(...)...compile().to_json()."""
    run = Run("perf").cluster("etl", NewCluster(**CLUSTER))
    for i in range(n):
        run = run.task(
            NotebookTask(f"/Repos/etl/step_{i}", base_parameters={"i": str(i)}),
            key=f"t{i}",
            depends_on=[f"t{i - 1}"] if i else (),
            cluster="etl",
            libraries=[PyPI("pandas==2.2.2"), Whl("/Volumes/etl/libs/etl.whl")],
        )
    return run.timeout(3600).compile().to_json()


def best(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls, with the cyclic garbage collector paused for the whole series."""
    times = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return min(times)


def growth(fn: Callable[[int], object]) -> float:
    small = best(lambda: fn(100), 15)
    large = best(lambda: fn(1000), 5)
    return large / small


def within_limit(fn: Callable[[int], object]) -> tuple[bool, list[tuple[float, float]]]:
    """Whether some round's growth of ``fn`` stays within the limit; each round's (growth, floor growth)."""
    seen = []
    for _ in range(ROUNDS):
        ours, floor = growth(fn), growth(plain)
        seen.append((round(ours, 1), round(floor, 1)))
        if ours <= LIMIT * max(1.0, floor / 10):
            return True, seen
    return False, seen


def test_builder_bodies_match_the_plain_floor() -> None:
    """The timed builder run makes exactly the plain-dict body, so both sides do the same job."""
    assert json.loads(with_builder(50)) == json.loads(plain(50))


def test_build_compile_serialise_grows_linearly() -> None:
    """Build + compile + to_json of 1000 tasks costs less than 20 times 100 tasks."""
    ok, seen = within_limit(with_builder)
    assert ok, f"time(1000)/time(100) per round (runspec, plain dicts): {seen}"


def test_load_with_checks_grows_linearly() -> None:
    """RunSpec.from_json of 1000 tasks, with every check, costs less than 20 times 100 tasks."""
    texts = {n: plain(n) for n in (100, 1000)}
    ok, seen = within_limit(lambda n: RunSpec.from_json(texts[n]))
    assert ok, f"time(1000)/time(100) per round (runspec, plain dicts): {seen}"
