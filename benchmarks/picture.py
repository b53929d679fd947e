"""
How long runspec.picture takes to draw a 1000-task run, next to serialising the same run.

Run it as ``python benchmarks/picture.py``; the project's benchmark table calls :func:`measure` and
:func:`measure_spec`.

- :func:`measure`: a body built here as a plain dict, shaped like a real large run (conditions, wide
  fan-outs of load/validate pairs on a few shared cluster specs, for_each, run_if and a final join),
  drawn from the dict, against ``json.dumps`` of it.
- :func:`measure_spec`: a ``RunSpec`` built with ``Run``, a chain of notebook tasks each on
  ``existing_cluster_id``, drawn from the spec itself, against its own ``to_json()``.

Timings are the best of several repeats in CPU time (on a shared machine wall time also counts the
moments the process waits for a core); the baseline is measured in the same process, so the ratio is
comparable across machines while the seconds are not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from runspec import NotebookTask, Run, RunSpec, picture

# CPU time of this process: waiting for a core is noise for a single-threaded, CPU-bound case.
_clock = time.process_time


def large_body(tasks: int = 1000, domains: int = 4) -> dict[str, Any]:
    """A runs/submit body with exactly ``tasks`` tasks (at least 20)."""
    if tasks < 20:
        raise ValueError("tasks must be at least 20")
    clusters = [
        {
            "spark_version": "15.4.x-scala2.12",
            "node_type_id": node,
            "num_workers": 2 + d,
            "spark_conf": {"spark.sql.shuffle.partitions": str(64 * (d + 1))},
            "custom_tags": {"team": "data", "domain": f"d{d}"},
        }
        for d, node in enumerate(["i3.xlarge", "r5.2xlarge", "m5.4xlarge", "c5.2xlarge"][:domains])
    ]
    out: list[dict[str, Any]] = [
        {
            "task_key": "ingest",
            "notebook_task": {"notebook_path": "/Workspace/Repos/data/etl/ingest"},
            "new_cluster": dict(clusters[0]),
        }
    ]
    # per domain: check, merge, fan (for_each); plus report and notify at the end
    fixed = 1 + 3 * domains + 2
    pairs, extra = divmod(tasks - fixed, 2 * domains)
    single = extra  # leftovers become single load tasks in the first domain
    for d in range(domains):
        check = f"check_d{d}"
        out.append(
            {
                "task_key": check,
                "depends_on": [{"task_key": "ingest"}],
                "condition_task": {
                    "op": "GREATER_THAN",
                    "left": f"{{{{tasks.ingest.values.rows_d{d}}}}}",
                    "right": "0",
                },
            }
        )
        finals = []
        for i in range(pairs):
            load, validate = f"load_d{d}_{i:04d}", f"validate_d{d}_{i:04d}"
            out.append(
                {
                    "task_key": load,
                    "depends_on": [{"task_key": check, "outcome": "true"}],
                    "spark_python_task": {
                        "python_file": f"dbfs:/etl/d{d}/load.py",
                        "parameters": ["--part", str(i)],
                    },
                    "new_cluster": dict(clusters[d]),
                    "libraries": [{"pypi": {"package": "pyarrow==17.0.0"}}],
                    "max_retries": 2,
                }
            )
            out.append(
                {
                    "task_key": validate,
                    "depends_on": [{"task_key": load}],
                    "notebook_task": {
                        "notebook_path": f"/Workspace/Repos/data/etl/d{d}/validate",
                        "base_parameters": {"part": str(i)},
                    },
                    "new_cluster": dict(clusters[d]),
                }
            )
            finals.append(validate)
        if d == 0:
            for i in range(single):
                key = f"extra_d0_{i:04d}"
                out.append(
                    {
                        "task_key": key,
                        "depends_on": [{"task_key": check, "outcome": "true"}],
                        "notebook_task": {"notebook_path": "/Workspace/Repos/data/etl/extra"},
                        "new_cluster": dict(clusters[0]),
                    }
                )
                finals.append(key)
        out.append(
            {
                "task_key": f"merge_d{d}",
                "depends_on": [{"task_key": k} for k in finals],
                "run_if": "ALL_DONE",
                "notebook_task": {"notebook_path": f"/Workspace/Repos/data/etl/d{d}/merge"},
                "new_cluster": dict(clusters[d]),
            }
        )
        out.append(
            {
                "task_key": f"fan_d{d}",
                "depends_on": [{"task_key": f"merge_d{d}"}],
                "for_each_task": {
                    "inputs": '["eu", "us", "apac"]',
                    "concurrency": 3,
                    "task": {
                        "task_key": f"fan_d{d}_iteration",
                        "notebook_task": {"notebook_path": "/Workspace/Repos/data/etl/region"},
                        "new_cluster": dict(clusters[d]),
                    },
                },
            }
        )
    out.append(
        {
            "task_key": "report",
            "depends_on": [{"task_key": f"fan_d{d}"} for d in range(domains)],
            "sql_task": {"warehouse_id": "abc123", "query": {"query_id": "q-report"}},
        }
    )
    out.append(
        {
            "task_key": "notify",
            "depends_on": [{"task_key": "report"}],
            "run_if": "AT_LEAST_ONE_FAILED",
            "run_job_task": {"job_id": 987654321},
        }
    )
    assert len(out) == tasks, (len(out), tasks)
    return {"run_name": f"large-{tasks}", "timeout_seconds": 7200, "tasks": out}


def live_state(body: dict[str, Any]) -> dict[str, Any]:
    """A runs/get-shaped answer for ``body``: the first third succeeded, one failed, one running."""
    tasks = []
    count = len(body["tasks"])
    for i, task in enumerate(body["tasks"]):
        if i < count // 3:
            state = {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}
        elif i == count // 3:
            state = {"life_cycle_state": "TERMINATED", "result_state": "FAILED"}
        elif i == count // 3 + 1:
            state = {"life_cycle_state": "RUNNING"}
        else:
            state = {"life_cycle_state": "BLOCKED"}
        tasks.append({"task_key": task["task_key"], "run_id": 1000 + i, "state": state})
    return {"run_id": 1, "state": {"life_cycle_state": "RUNNING"}, "tasks": tasks}


def _best(function: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = _clock()
        function()
        best = min(best, _clock() - start)
    return best


def measure(tasks: int = 1000, repeats: int = 7) -> dict[str, float]:
    """
    Time each picture of a ``tasks``-task run and json.dumps of its body (best of ``repeats``).

    Returns seconds under ``json_dumps``, ``mermaid``, ``dot``, ``text``, ``mermaid_live`` (coloured
    from a runs/get answer), ``markdown`` (collapsed to 100 nodes), and ``<name>_ratio`` for each
    picture divided by the json.dumps time.
    """
    body = large_body(tasks)
    run = live_state(body)
    results = {"tasks": float(tasks), "json_dumps": _best(lambda: json.dumps(body), repeats)}
    cases: dict[str, Callable[[], object]] = {
        "mermaid": lambda: picture.to_mermaid(body),
        "dot": lambda: picture.to_dot(body),
        "text": lambda: picture.to_text(body),
        "mermaid_live": lambda: picture.to_mermaid(body, state=run),
        "markdown": lambda: picture.markdown(body),
    }
    for name, function in cases.items():
        seconds = _best(function, repeats)
        results[name] = seconds
        results[f"{name}_ratio"] = seconds / results["json_dumps"]
    return results


def chain_spec(tasks: int = 1000, cluster_id: str = "0101-123456-abcdef") -> RunSpec:
    """A chain of ``tasks`` notebook tasks, each on the existing cluster ``cluster_id``, built with ``Run``."""
    run = Run("chain")
    for i in range(tasks):
        run = run.task(
            NotebookTask(f"/Repos/etl/step_{i:04d}"),
            key=f"step_{i:04d}",
            depends_on=[f"step_{i - 1:04d}"] if i else None,
            existing_cluster_id=cluster_id,
        )
    return run.compile()


def measure_spec(tasks: int = 1000, repeats: int = 7) -> dict[str, float]:
    """
    Time drawing :func:`chain_spec` straight from the ``RunSpec`` against its ``to_json()``.

    Returns seconds under ``to_json``, ``mermaid``, ``dot``, ``text``, ``mermaid_100`` (Mermaid with
    ``max_nodes=100``: the chain's middle drawn as one segment), ``spec_to_mermaid`` (the
    ``RunSpec.to_mermaid()`` method) and ``<name>_ratio`` for each picture divided by the
    ``to_json()`` time. The cases are interleaved, each keeping its best time.
    """
    spec = chain_spec(tasks)
    cases: dict[str, Callable[[], object]] = {
        "to_json": spec.to_json,
        "mermaid": lambda: picture.to_mermaid(spec),
        "dot": lambda: picture.to_dot(spec),
        "text": lambda: picture.to_text(spec),
        "mermaid_100": lambda: picture.to_mermaid(spec, max_nodes=100),
        "spec_to_mermaid": spec.to_mermaid,
    }
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeats):
        for name, function in cases.items():
            start = _clock()
            function()
            best[name] = min(best[name], _clock() - start)
    results = {"tasks": float(tasks), **best}
    for name in ("mermaid", "dot", "text", "mermaid_100", "spec_to_mermaid"):
        results[f"{name}_ratio"] = best[name] / best["to_json"]
    return results


def main() -> None:
    results = measure()
    print(f"runspec.picture, {int(results['tasks'])}-task run as a dict (best of 7)")
    print(f"  {'json.dumps (baseline)':24} {results['json_dumps'] * 1000:8.2f} ms")
    for name in ("mermaid", "dot", "text", "mermaid_live", "markdown"):
        ms = results[name] * 1000
        print(f"  {name:24} {ms:8.2f} ms  {results[name + '_ratio']:6.1f}x json.dumps")
    chain = measure_spec(repeats=40)
    print(f"runspec.picture, {int(chain['tasks'])}-task RunSpec chain on existing_cluster_id (best of 40)")
    print(f"  {'to_json() (baseline)':24} {chain['to_json'] * 1000:8.2f} ms")
    for name in ("mermaid", "dot", "text", "mermaid_100", "spec_to_mermaid"):
        ms = chain[name] * 1000
        print(f"  {name:24} {ms:8.2f} ms  {chain[name + '_ratio']:6.1f}x to_json()")


if __name__ == "__main__":
    main()
