"""
Time building a run with runspec against building the identical body as plain dicts.

    python benchmarks/build.py [--repeat N]

For 10, 100 and 1000 tasks, as a chain (each task depends on the one before) and as a wide fan-out
(every task depends on the first), each task with two libraries and, in the two cluster styles, on a
named cluster (``Run.cluster``, copied into each task's ``new_cluster``) or on ``existing_cluster_id``:

- runspec: ``Run(...).cluster(...).task(...) ... .compile().to_json()``
- floor:   the same body as nested dicts + ``json.dumps``
- load:    ``RunSpec.from_json()`` (with every check) against ``json.loads`` of the same text

Each figure is the best of N repeats, in the same process and run; ratios are runspec / floor. Timings
on a shared machine are noisy, so read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from runspec import NewCluster, NotebookTask, PyPI, Run, RunSpec, Whl
from runspec.spec import AwsAttributes

SIZES = (10, 100, 1000)
SHAPES = ("chain", "fanout")
#: How each task gets its compute: a named cluster copied into new_cluster, or an existing cluster's id.
STYLES = ("named", "existing")
CLUSTER_ID = "0923-164208-meows279"

CLUSTER = {
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 2,
    "spark_conf": {"spark.speculation": "true"},
    "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1},
    "custom_tags": {"team": "etl"},
}


def _upstream(shape: str, i: int) -> str | None:
    if i == 0:
        return None
    return f"t{i - 1}" if shape == "chain" else "t0"


def floor(n: int, shape: str, style: str = "named") -> str:
    """The body as plain dicts, serialised: the least any client can do."""
    tasks = []
    for i in range(n):
        task: dict[str, Any] = {
            "task_key": f"t{i}",
            "notebook_task": {"notebook_path": f"/Repos/etl/step_{i}", "base_parameters": {"i": str(i)}},
        }
        if style == "named":
            task["new_cluster"] = CLUSTER
        else:
            task["existing_cluster_id"] = CLUSTER_ID
        task["libraries"] = [{"pypi": {"package": "pandas==2.2.2"}}, {"whl": "/Volumes/etl/libs/etl.whl"}]
        up = _upstream(shape, i)
        if up is not None:
            task["depends_on"] = [{"task_key": up}]
        tasks.append(task)
    return json.dumps({"run_name": "bench", "tasks": tasks, "timeout_seconds": 3600})


def with_runspec(n: int, shape: str, style: str = "named") -> str:
    """The same body through the builder, compile() (every check) and to_json()."""
    if style != "named":
        run = Run("bench")
        for i in range(n):
            up = _upstream(shape, i)
            run = run.task(
                NotebookTask(f"/Repos/etl/step_{i}", base_parameters={"i": str(i)}),
                key=f"t{i}",
                depends_on=[up] if up is not None else (),
                existing_cluster_id=CLUSTER_ID,
                libraries=[PyPI("pandas==2.2.2"), Whl("/Volumes/etl/libs/etl.whl")],
            )
        return run.timeout(3600).compile().to_json()
    run = Run("bench").cluster(
        "etl",
        NewCluster(
            spark_version="15.4.x-scala2.12",
            node_type_id="i3.xlarge",
            num_workers=2,
            spark_conf={"spark.speculation": "true"},
            aws_attributes=AwsAttributes(availability="SPOT_WITH_FALLBACK", first_on_demand=1),
            custom_tags={"team": "etl"},
        ),
    )
    for i in range(n):
        up = _upstream(shape, i)
        run = run.task(
            NotebookTask(f"/Repos/etl/step_{i}", base_parameters={"i": str(i)}),
            key=f"t{i}",
            depends_on=[up] if up is not None else (),
            cluster="etl",
            libraries=[PyPI("pandas==2.2.2"), Whl("/Volumes/etl/libs/etl.whl")],
        )
    return run.timeout(3600).compile().to_json()


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(repeat: int = 15, sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    """Return one row per (style, shape, size) with seconds and ratios."""
    rows = []
    for style in STYLES:
        for shape in SHAPES:
            for n in sizes:
                text = floor(n, shape, style)
                assert json.loads(with_runspec(n, shape, style)) == json.loads(text), "bodies differ"
                t_floor = best(lambda n=n, shape=shape, style=style: floor(n, shape, style), repeat)
                t_rs = best(lambda n=n, shape=shape, style=style: with_runspec(n, shape, style), repeat)
                t_loads = best(lambda text=text: json.loads(text), repeat)
                t_from = best(lambda text=text: RunSpec.from_json(text), repeat)
                rows.append(
                    {
                        "style": style,
                        "shape": shape,
                        "tasks": n,
                        "floor_s": t_floor,
                        "runspec_s": t_rs,
                        "build_ratio": t_rs / t_floor,
                        "loads_s": t_loads,
                        "from_json_s": t_from,
                        "load_ratio": t_from / t_loads,
                    }
                )
    return rows


def growth(rows: list[dict[str, Any]], shape: str, style: str = "named") -> float:
    """time(1000) / time(100) for runspec's build + compile + to_json (linear is about 10)."""
    by_n = {r["tasks"]: r["runspec_s"] for r in rows if r["shape"] == shape and r["style"] == style}
    return float(by_n[1000] / by_n[100])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rows = measure(args.repeat)
    head = f"{'style':9} {'shape':8} {'tasks':>6} {'floor ms':>9} {'runspec ms':>11} {'ratio':>6}"
    print(head + f"   {'loads ms':>9} {'from_json ms':>13} {'ratio':>6}")
    for r in rows:
        print(
            f"{r['style']:9} {r['shape']:8} {r['tasks']:>6} {r['floor_s'] * 1e3:>9.2f} {r['runspec_s'] * 1e3:>11.2f} "
            f"{r['build_ratio']:>6.2f}   {r['loads_s'] * 1e3:>9.2f} {r['from_json_s'] * 1e3:>13.2f} "
            f"{r['load_ratio']:>6.2f}"
        )
    for style in STYLES:
        for shape in SHAPES:
            print(f"growth {style} {shape}: time(1000)/time(100) = {growth(rows, shape, style):.1f}")


if __name__ == "__main__":
    main()
