"""
Count the instructions of one 1000-task build, load and import, with cachegrind.

    python benchmarks/instructions.py [--tasks 1000] [--k 3] [--json out.json] [--parts]

Instructions do not move with the machine's load as CPU time does, so small changes can be compared.
Each figure is ``valgrind --tool=cachegrind --cache-sim=no`` around a child Python that does the work
once (imports, first-use set-up, warm caches), freezes the collector's view of what exists, then does it
K more times; the count with K repeats minus the count with none, over K, is one repeat's instructions
(the collector's share included). ``PYTHONHASHSEED=0`` keeps set and dict layouts the same every run.

The body (1000 tasks in a chain): a ``NotebookTask`` with two ``base_parameters``, ``depends_on`` the
task before, one PyPI library, and either one named cluster copied into every task's ``new_cluster``
(``spark_version``, ``node_type_id``, ``num_workers``, one ``spark_conf`` entry, one custom tag) or
``existing_cluster_id`` on every task. It is built four ways and checked equal as JSON first:

- ``runspec``: ``Run(...).cluster(...).task(...) ... .compile().to_json()`` (every check runs);
- ``floor``: the same body as plain dicts and ``json.dumps``, the least any client can do;
- ``sdk``: ``databricks-sdk`` dataclasses, ``as_dict()`` per task as ``jobs.submit()`` does, ``json.dumps``;

and loaded two ways: ``RunSpec.from_json`` (strict, with every check) against the SDK's ``json.loads``
and ``SubmitTask.from_dict`` per task (which checks nothing). The import rows count ``import runspec``
and ``import databricks.sdk`` beyond ``import typing`` (each in a fresh interpreter).

``--parts`` counts runspec's build in parts instead: the ``Run.task`` calls alone (the task objects made
ahead), ``compile()``, the checks it runs and ``to_json()``. ``--no-gc`` counts the build and load rows
with the cyclic collector off in the child (``gc.disable()`` before the first build): the difference from a
count with it on is the collector's share.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER_ID = "0923-164208-meows279"
CLUSTER: dict[str, Any] = {
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 2,
    "spark_conf": {"spark.speculation": "true"},
    "custom_tags": {"team": "etl"},
}
PACKAGE = "pandas==2.2.2"
STYLES = ("named", "existing")
VALGRIND = ("valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null")


def _params(i: int) -> dict[str, str]:
    return {"date": "2026-01-01", "part": str(i)}


def floor(n: int, style: str) -> str:
    """The body as plain dicts, serialised."""
    tasks = []
    for i in range(n):
        task: dict[str, Any] = {
            "task_key": f"t{i}",
            "notebook_task": {"notebook_path": f"/Repos/etl/step_{i}", "base_parameters": _params(i)},
        }
        if style == "named":
            task["new_cluster"] = CLUSTER
        else:
            task["existing_cluster_id"] = CLUSTER_ID
        task["libraries"] = [{"pypi": {"package": PACKAGE}}]
        if i:
            task["depends_on"] = [{"task_key": f"t{i - 1}"}]
        tasks.append(task)
    return json.dumps({"run_name": "bench", "tasks": tasks, "timeout_seconds": 3600})


def with_runspec(n: int, style: str) -> str:
    """The body through runspec's builder, ``compile()`` and ``to_json()``."""
    return runspec_run(n, style).compile().to_json()


def task_objects(n: int) -> list[tuple[Any, Any]]:
    """Each task's ``NotebookTask`` and library list, made ahead for ``runspec_run`` (the builder's share alone)."""
    from runspec import NotebookTask, PyPI

    return [(NotebookTask(f"/Repos/etl/step_{i}", base_parameters=_params(i)), [PyPI(PACKAGE)]) for i in range(n)]


def runspec_run(n: int, style: str, made: list[tuple[Any, Any]] | None = None) -> Any:
    """The body as a runspec ``Run``, before ``compile()``; with ``made``, from task objects made ahead."""
    from runspec import NewCluster, NotebookTask, PyPI, Run

    run = Run("bench")
    if style == "named":
        run = run.cluster("etl", NewCluster(**CLUSTER))
    for i in range(n):
        if made is None:
            notebook, libraries = NotebookTask(f"/Repos/etl/step_{i}", base_parameters=_params(i)), [PyPI(PACKAGE)]
        else:
            notebook, libraries = made[i]
        if style == "named":
            run = run.task(
                notebook, key=f"t{i}", depends_on=[f"t{i - 1}"] if i else (), cluster="etl", libraries=libraries
            )
        else:
            run = run.task(
                notebook,
                key=f"t{i}",
                depends_on=[f"t{i - 1}"] if i else (),
                existing_cluster_id=CLUSTER_ID,
                libraries=libraries,
            )
    return run.timeout(3600)


def with_sdk(n: int, style: str) -> str:
    """The body through databricks-sdk dataclasses, ``as_dict()`` and ``json.dumps``, as ``jobs.submit()`` does."""
    from databricks.sdk.service import compute, jobs

    cluster = compute.ClusterSpec(**CLUSTER) if style == "named" else None
    tasks = []
    for i in range(n):
        tasks.append(
            jobs.SubmitTask(
                task_key=f"t{i}",
                notebook_task=jobs.NotebookTask(notebook_path=f"/Repos/etl/step_{i}", base_parameters=_params(i)),
                new_cluster=cluster,
                existing_cluster_id=None if style == "named" else CLUSTER_ID,
                libraries=[compute.Library(pypi=compute.PythonPyPiLibrary(package=PACKAGE))],
                depends_on=[jobs.TaskDependency(task_key=f"t{i - 1}")] if i else None,
            )
        )
    body: dict[str, Any] = {"run_name": "bench", "tasks": [t.as_dict() for t in tasks], "timeout_seconds": 3600}
    return json.dumps(body)


def load_runspec(text: str) -> object:
    from runspec import RunSpec

    return RunSpec.from_json(text)


def load_sdk(text: str) -> object:
    from databricks.sdk.service import jobs

    return [jobs.SubmitTask.from_dict(t) for t in json.loads(text)["tasks"]]


BUILDERS = {"runspec": with_runspec, "floor": floor, "sdk": with_sdk}
LOADERS = {"runspec": load_runspec, "sdk": load_sdk}

_CHILD = """
import gc, sys
sys.path.insert(0, {here!r})
import instructions as b
{collector}
{setup}
gc.freeze()
for _ in range({k}):
    {work}
"""


def _env() -> dict[str, str]:
    """The children's environment: fixed hash seed, and bytecode written so imports read it, not compile."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def count_instructions(code: str) -> int:
    """Instructions of a child Python running ``code`` under cachegrind (bytecode cached, hash seed 0)."""
    env = _env()
    out = subprocess.run(
        [*VALGRIND, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if found is None:  # pragma: no cover - valgrind always prints it
        raise RuntimeError(out.stderr)
    return int(found.group(1).replace(",", ""))


#: Set by ``--no-gc``: the children count with the cyclic collector off.
COLLECTOR_OFF = False


def per_repeat(setup: str, work: str, k: int) -> float:
    """Instructions of one ``work`` after ``setup`` (which does it once): (count with k repeats - count with 0) / k."""

    def child(repeats: int) -> str:
        collector = "gc.disable()" if COLLECTOR_OFF else ""
        return _CHILD.format(here=HERE, collector=collector, setup=setup, k=repeats, work=work)

    # A plain run first writes any missing bytecode, so neither count below includes compiling it.
    subprocess.run([sys.executable, "-c", child(0)], check=True, env=_env(), capture_output=True)
    return (count_instructions(child(k)) - count_instructions(child(0))) / k


def import_count(module: str) -> int:
    """Instructions of ``import module`` beyond ``import typing``, in a fresh interpreter (bytecode written first)."""
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=_env())
    return count_instructions(f"import typing, {module}") - count_instructions("import typing")


def measure(n: int = 1000, k: int = 3, sdk: bool = True) -> dict[str, Any]:
    builders = dict(BUILDERS)
    loaders = dict(LOADERS)
    if not sdk:
        builders.pop("sdk")
        loaders.pop("sdk")
    for style in STYLES:
        want = json.loads(floor(n, style))
        for name, build in builders.items():
            assert json.loads(build(n, style)) == want, f"{name} builds a different {style} body"
    out: dict[str, Any] = {"tasks": n, "k": k, "build": {}, "load": {}, "import": {}}
    for style in STYLES:
        row = {}
        for name in builders:
            call = f"b.{build_name(name)}({n}, {style!r})"
            row[name] = per_repeat(call, call, k)
        out["build"][style] = row
    text_setup = f"t = b.floor({n}, 'named')"
    for name in loaders:
        call = f"b.load_{name}(t)"
        out["load"][name] = per_repeat(f"{text_setup}\n{call}", call, k)
    out["import"]["runspec"] = import_count("runspec")
    if sdk:
        out["import"]["databricks.sdk"] = import_count("databricks.sdk")
    return out


def measure_parts(n: int = 1000, k: int = 3) -> dict[str, dict[str, float]]:
    """
    runspec's build in parts, per style: ``n`` ``Run.task`` calls (the task objects made ahead), ``compile()``,
    the checks it runs (``check_run`` of the compiled spec) and ``to_json()``. ``compile()`` minus the checks
    is the builder's fold: keys, named clusters, each ``SubmitTask``.
    """
    out: dict[str, dict[str, float]] = {}
    for style in STYLES:
        made = f"made = b.task_objects({n})\nr = b.runspec_run({n}, {style!r}, made)\ns = r.compile()"
        checks = "from runspec.spec.checks._checks import check_run\ncheck_run(s)"
        out[style] = {
            "Run.task": per_repeat(made, f"b.runspec_run({n}, {style!r}, made)", k),
            "compile": per_repeat(made, "r.compile()", k),
            "checks": per_repeat(f"{made}\n{checks}", "check_run(s)", k),
            "to_json": per_repeat(f"{made}\ns.to_json()", "s.to_json()", k),
        }
    return out


def report_parts(parts: dict[str, dict[str, float]], n: int) -> str:
    lines = [
        f"runspec's build of the {n}-task chain in parts (instructions)",
        "",
        f"| style | {n} Run.task | compile() | of which checks | fold (compile - checks) | to_json() |",
        "|---|---|---|---|---|---|",
    ]
    for style, row in parts.items():
        fold = row["compile"] - row["checks"]
        lines.append(
            f"| {style} | {row['Run.task'] / 1e6:.1f}M | {row['compile'] / 1e6:.1f}M | {row['checks'] / 1e6:.1f}M | "
            f"{fold / 1e6:.1f}M | {row['to_json'] / 1e6:.1f}M |"
        )
    return "\n".join(lines)


def build_name(name: str) -> str:
    return {"runspec": "with_runspec", "floor": "floor", "sdk": "with_sdk"}[name]


def report(result: dict[str, Any]) -> str:
    def m(x: float) -> str:
        return f"{x / 1e6:.1f}M"

    lines = [f"instructions per {result['tasks']}-task chain (cachegrind, K={result['k']})", ""]
    lines.append("| build+compile+to_json | runspec | floor | databricks-sdk | runspec / floor | runspec / SDK |")
    lines.append("|---|---|---|---|---|---|")
    for style, row in result["build"].items():
        sdk = row.get("sdk")
        vs_sdk = f"{row['runspec'] / sdk:.2f}x" if sdk else "-"
        lines.append(
            f"| {style} | {m(row['runspec'])} | {m(row['floor'])} | {m(sdk) if sdk else '-'} | "
            f"{row['runspec'] / row['floor']:.2f}x | {vs_sdk} |"
        )
    load = result["load"]
    sdk_load = load.get("sdk")
    lines.append("")
    lines.append(
        f"from_json + checks: runspec {m(load['runspec'])}, SDK json.loads + from_dict "
        f"{m(sdk_load) if sdk_load else '-'}" + (f" ({load['runspec'] / sdk_load:.2f}x)" if sdk_load else "")
    )
    imp = result["import"]
    sdk_imp = imp.get("databricks.sdk")
    lines.append(
        f"import runspec {m(imp['runspec'])}, import databricks.sdk {m(sdk_imp) if sdk_imp else '-'}"
        + (f" (1/{sdk_imp / imp['runspec']:.0f})" if sdk_imp else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--k", type=int, default=3, help="repeats counted after the first (default 3)")
    parser.add_argument("--no-sdk", action="store_true", help="leave databricks-sdk out")
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument(
        "--parts", action="store_true", help="runspec's build in parts instead (Run.task, compile, ...)"
    )
    parser.add_argument("--no-gc", action="store_true", help="count with the cyclic collector off (its share)")
    args = parser.parse_args(argv)
    global COLLECTOR_OFF
    COLLECTOR_OFF = args.no_gc
    if args.parts:
        parts = measure_parts(args.tasks, args.k)
        print(report_parts(parts, args.tasks))
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(parts, f, indent=2)
        return 0
    result = measure(args.tasks, args.k, sdk=not args.no_sdk)
    print(report(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
