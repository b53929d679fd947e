"""
Hypothesis strategies for runspec: valid runs built with the builder, one-mistake bodies, mutated bodies.

- ``runs()`` draws a ``Drawn``: a ``Run`` built with the chainable builder (a random DAG of mixed task
  types on named, inline or existing clusters or serverless environments, with libraries, conditions
  and outcomes, for_each, run_if, retries and top-level settings) and the plan it was built from, so a
  test can check the compiled body against what was asked for.
- ``mistakes()`` draws a valid body with exactly one mistake injected, and the problem code runspec
  must report for it.
- ``mutated_bodies()`` draws a valid body with random damage (keys removed or renamed, values of the
  wrong type or random JSON), and ``json_values`` any JSON value.

Example counts: ``budget(n)`` is ``n`` in the bounded profile that CI runs and ``20 * n`` under
``HYPOTHESIS_PROFILE=long``. The "ci" and "long" profiles are registered here when nobody registered
them first, and the profile named by ``HYPOTHESIS_PROFILE`` is loaded.
"""

from __future__ import annotations

import copy
import json
import os
import string
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from runspec import (
    AutoScale,
    AwsAttributes,
    ConditionTask,
    Cran,
    DbtTask,
    ForEachTask,
    Jar,
    Maven,
    NewCluster,
    NotebookTask,
    PipelineTask,
    PyPI,
    PythonWheelTask,
    Requirements,
    Run,
    RunJobTask,
    SparkJarTask,
    SparkPythonTask,
    SqlTask,
    SqlTaskFile,
    SqlTaskQuery,
    TaskDependency,
    Whl,
)
from runspec.spec import Task

# -- profiles ---------------------------------------------------------------------------------------

_PROFILES = {"ci": 60, "long": 3000}
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

for _name, _examples in _PROFILES.items():
    try:
        settings.get_profile(_name)
    except InvalidArgument:
        settings.register_profile(_name, max_examples=_examples, deadline=None, suppress_health_check=_SUPPRESS)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)

LONG = PROFILE == "long"


def budget(ci: int) -> settings:
    """Settings for one test: ``ci`` examples in CI, 20 times as many under the long profile."""
    return settings(max_examples=ci * 20 if LONG else ci, deadline=None, suppress_health_check=_SUPPRESS)


# -- names and values -------------------------------------------------------------------------------

KEY_CHARS = string.ascii_letters + string.digits + "_-"
RUN_IFS = ("ALL_SUCCESS", "ALL_DONE", "NONE_FAILED", "AT_LEAST_ONE_SUCCESS", "ALL_FAILED", "AT_LEAST_ONE_FAILED")
CONDITION_OPS = ("EQUAL_TO", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL", "NOT_EQUAL")
AVAILABILITIES = ("ON_DEMAND", "SPOT", "SPOT_WITH_FALLBACK")
NODE_TYPES = ("i3.xlarge", "r5.2xlarge", "m5d.large", "Standard_DS3_v2", "n2-highmem-4")

#: Task kinds that run on compute the task names (a cluster, or serverless for some).
CLUSTER_KINDS = ("notebook", "spark_python", "wheel", "jar", "dbt")
#: Kinds that bring their own compute or none.
OTHER_KINDS = ("sql", "condition", "run_job", "pipeline")
#: Interleaved: hypothesis leans towards the first entries of a sampled_from.
KINDS = ("condition", "notebook", "for_each", "spark_python", "sql", "wheel", "run_job", "jar", "pipeline", "dbt")
#: Kinds that may run on serverless with an environment_key.
ENV_KINDS = ("spark_python", "wheel", "dbt")

FIELD_OF_KIND = {
    "notebook": "notebook_task",
    "spark_python": "spark_python_task",
    "wheel": "python_wheel_task",
    "jar": "spark_jar_task",
    "dbt": "dbt_task",
    "sql": "sql_task",
    "condition": "condition_task",
    "run_job": "run_job_task",
    "pipeline": "pipeline_task",
    "for_each": "for_each_task",
}


def _schema_field_names() -> list[str]:
    schema = json.loads(resources.files("runspec.spec.schema").joinpath("schema.json").read_text(encoding="utf-8"))
    return sorted({name for fields in schema.values() for name in fields})


#: Every field name of the request body's schema, to make random JSON look like a body.
FIELD_NAMES = _schema_field_names()

text = st.text(max_size=16)
short_text = st.text(min_size=1, max_size=12)
task_keys = st.text(alphabet=KEY_CHARS, min_size=1, max_size=24)
small_maps = st.dictionaries(short_text, text, max_size=3)
params = st.lists(text, max_size=3)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


# -- valid runs -------------------------------------------------------------------------------------


@dataclass
class TaskPlan:
    """What one drawn ``.task(...)`` call asked for."""

    key: str | None
    kind: str
    deps: list[tuple[str, str | None]]
    compute: str | None  # "cluster:<name>", "existing", "inline", "env:<key>" or None
    libraries: int = 0
    run_if: str | None = None


@dataclass
class Drawn:
    """A run built with the builder and the plan it was built from."""

    run: Run
    tasks: list[TaskPlan]
    clusters: dict[str, NewCluster] = field(default_factory=dict)
    environments: list[str] = field(default_factory=list)


@st.composite
def clusters(draw: st.DrawFn) -> NewCluster:
    """A job cluster: fixed size or autoscale, Spark conf, tags, AWS attributes."""
    size: dict[str, Any]
    if draw(st.booleans()):
        size = {"num_workers": draw(st.integers(0, 16))}
    else:
        low = draw(st.integers(0, 8))
        size = {"autoscale": AutoScale(min_workers=low, max_workers=draw(st.integers(low + 1, low + 16)))}
    extra: dict[str, Any] = {}
    if draw(st.booleans()):
        extra["spark_conf"] = draw(st.dictionaries(short_text, text, max_size=3))
    if draw(st.booleans()):
        extra["custom_tags"] = draw(st.dictionaries(st.text(min_size=1, max_size=20), text, max_size=4))
    if draw(st.booleans()):
        extra["aws_attributes"] = AwsAttributes(
            availability=draw(st.sampled_from(AVAILABILITIES)),
            first_on_demand=draw(st.integers(0, 4)),
        )
    return NewCluster(
        spark_version=draw(st.sampled_from(["15.4.x-scala2.12", "14.3.x-scala2.12", "16.1.x-photon-scala2.12"])),
        node_type_id=draw(st.sampled_from(NODE_TYPES)),
        **size,
        **extra,
    )


libraries = st.lists(
    st.one_of(
        short_text.map(PyPI),
        short_text.map(lambda c: Maven(f"org.example:{c}:1.0")),
        short_text.map(Cran),
        short_text.map(lambda p: Jar(f"/Volumes/libs/{p}.jar")),
        short_text.map(lambda p: Whl(f"/Volumes/libs/{p}.whl")),
        short_text.map(lambda p: Requirements(f"/Workspace/{p}/requirements.txt")),
    ),
    min_size=1,
    max_size=3,
)


def _task_object(draw: st.DrawFn, kind: str, git: bool, index: int) -> Any:
    """The task-type object of ``kind``."""
    if kind == "notebook":
        source: Any = draw(st.sampled_from(["GIT", "WORKSPACE", None])) if git else None
        return NotebookTask(
            draw(text.map(lambda s: f"/Repos/etl/{s}")),
            base_parameters=draw(st.none() | small_maps),
            source=source,
        )
    if kind == "spark_python":
        return SparkPythonTask(draw(text.map(lambda s: f"dbfs:/etl/{s}.py")), parameters=draw(st.none() | params))
    if kind == "wheel":
        named = draw(st.booleans())
        return PythonWheelTask(
            draw(short_text),
            draw(short_text),
            named_parameters=draw(small_maps) if named else None,
            parameters=None if named else draw(st.none() | params),
        )
    if kind == "jar":
        return SparkJarTask(draw(short_text.map(lambda s: f"com.example.{s}")), parameters=draw(st.none() | params))
    if kind == "dbt":
        commands = draw(
            st.lists(st.sampled_from(["dbt run", "dbt test", "dbt deps", "dbt seed"]), min_size=1, max_size=4)
        )
        return DbtTask(commands, project_directory=draw(st.none() | short_text))
    if kind == "sql":
        warehouse = draw(short_text)
        if draw(st.booleans()):
            return SqlTask(warehouse, query=SqlTaskQuery(draw(short_text)), parameters=draw(st.none() | small_maps))
        return SqlTask(warehouse, file=SqlTaskFile(draw(text.map(lambda s: f"/Workspace/sql/{s}.sql"))))
    if kind == "condition":
        return ConditionTask(draw(text), draw(st.sampled_from(CONDITION_OPS)), draw(text))
    if kind == "run_job":
        return RunJobTask(draw(st.integers(1, 2**53)), job_parameters=draw(st.none() | small_maps))
    if kind == "pipeline":
        return PipelineTask(draw(short_text), full_refresh=draw(st.none() | st.booleans()))
    raise AssertionError(kind)


@st.composite
def runs(draw: st.DrawFn, max_tasks: int = 10) -> Drawn:
    """A valid run built with the builder, and its plan."""
    count = draw(st.integers(1, max_tasks))
    given_keys = draw(st.lists(task_keys, min_size=count, max_size=count, unique=True))
    git = draw(st.booleans())
    declared = {f"c{i}": draw(clusters()) for i in range(draw(st.integers(1, 3)))}
    run = Run(draw(text)) if draw(st.booleans()) else Run()
    plans: list[TaskPlan] = []
    used_clusters: set[str] = set()
    used_envs: list[str] = []
    kinds: dict[str, str] = {}
    for i in range(count):
        kind = draw(st.sampled_from(KINDS))
        # A task may leave its key out (compile() derives one); nothing can then depend on it.
        key: str | None = None if draw(st.integers(0, 5)) == 5 else given_keys[i]
        named = [p.key for p in plans if p.key is not None]
        ups = draw(st.lists(st.sampled_from(named), unique=True, max_size=3)) if named else []
        deps: list[tuple[str, str | None]] = []
        for up in ups:
            outcome = draw(st.sampled_from(["true", "false", None])) if kinds[up] == "condition" else None
            deps.append((up, outcome))
        options: dict[str, Any] = {}
        if len(deps) > 0 and draw(st.booleans()):
            options["run_if"] = draw(st.sampled_from(RUN_IFS))
        if kind != "condition" and draw(st.booleans()):
            options["max_retries"] = draw(st.integers(-1, 5))
        if draw(st.booleans()):
            options["timeout_seconds"] = draw(st.integers(0, 86_400))
        if draw(st.integers(0, 4)) == 0:
            options["description"] = draw(text)
        compute: str | None = None
        libs: list[Any] = []
        if kind == "for_each":
            inner_kind = draw(st.sampled_from(["notebook", "spark_python"]))
            inner_fields: dict[str, Any] = {FIELD_OF_KIND[inner_kind]: _task_object(draw, inner_kind, git, i)}
            if draw(st.booleans()):
                compute = f"cluster:{draw(st.sampled_from(sorted(declared)))}"
                options["cluster"] = compute.split(":", 1)[1]
            else:
                compute = "existing"
                inner_fields["existing_cluster_id"] = draw(short_text)
            inputs = draw(
                st.one_of(
                    st.lists(json_scalars, max_size=4).map(json.dumps),
                    st.sampled_from(["{{tasks.ingest.values.parts}}", "{{job.parameters.regions}}"]),
                )
            )
            obj: Any = ForEachTask(
                inputs,
                Task(task_key=draw(task_keys), **inner_fields),
                concurrency=draw(st.none() | st.integers(1, 100)),
            )
        else:
            obj = _task_object(draw, kind, git, i)
            if kind in CLUSTER_KINDS:
                choices = ["cluster", "existing", "inline"] + (["env"] if kind in ENV_KINDS else [])
                how = draw(st.sampled_from(choices))
                if how == "cluster":
                    name = draw(st.sampled_from(sorted(declared)))
                    compute = f"cluster:{name}"
                    options["cluster"] = name
                elif how == "existing":
                    compute = "existing"
                    options["existing_cluster_id"] = draw(short_text)
                elif how == "inline":
                    compute = "inline"
                    options["new_cluster"] = draw(clusters())
                else:
                    env = f"env{draw(st.integers(0, 2))}"
                    compute = f"env:{env}"
                    options["environment_key"] = env
                    if env not in used_envs:
                        used_envs.append(env)
                if how != "env" and draw(st.booleans()):
                    libs = draw(libraries)
                    options["libraries"] = libs
        if compute is not None and compute.startswith("cluster:"):
            used_clusters.add(compute.split(":", 1)[1])
        depends_on = [TaskDependency(up, outcome=o) if o is not None else up for up, o in deps]
        run = run.task(obj, key=key, depends_on=depends_on, **options)
        plans.append(TaskPlan(key, kind, deps, compute, len(libs), options.get("run_if")))
        if key is not None:
            kinds[key] = kind
    # Declare only the clusters and environments some task uses: unused ones are errors.
    for name in sorted(used_clusters):
        run = run.cluster(name, declared[name])
    for env in used_envs:
        run = run.environment(env, environment_version=draw(st.sampled_from(["1", "2", "3", "4"])))
    if draw(st.booleans()):
        run = run.timeout(draw(st.integers(0, 7 * 86_400)))
    if draw(st.booleans()):
        run = run.idempotency_token(draw(st.text(min_size=1, max_size=64)))
    if git:
        run = run.git("https://github.com/example/etl", branch=draw(short_text))
    if draw(st.integers(0, 3)) == 0:
        run = run.queue(draw(st.booleans()))
    if draw(st.integers(0, 3)) == 0:
        run = run.notify(
            on_failure=draw(st.lists(short_text.map(lambda u: f"{u}@example.com"), min_size=1, max_size=2))
        )
    if draw(st.integers(0, 3)) == 0:
        run = run.access("CAN_VIEW", group=draw(short_text))
    if draw(st.integers(0, 4)) == 0:
        run = run.health("RUN_DURATION_SECONDS", draw(st.integers(0, 86_400)))
    return Drawn(run, plans, {n: declared[n] for n in sorted(used_clusters)}, used_envs)


bodies = runs().map(lambda drawn: drawn.run.compile().to_dict())


# -- one mistake ------------------------------------------------------------------------------------


def _keys(body: dict[str, Any]) -> list[str]:
    return [t["task_key"] for t in body["tasks"]]


def _fresh(body: dict[str, Any], base: str) -> str:
    taken = set(_keys(body))
    key, n = base, 0
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


def _add_task(body: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    task = {
        "task_key": _fresh(body, task.get("task_key", "added")),
        **{k: v for k, v in task.items() if k != "task_key"},
    }
    body["tasks"].append(task)
    return task


def _run_job(key: str = "added") -> dict[str, Any]:
    return {"task_key": key, "run_job_task": {"job_id": 42}}


def _notebook(key: str = "added", **more: Any) -> dict[str, Any]:
    return {"task_key": key, "notebook_task": {"notebook_path": "/Repos/x/nb"}, **more}


def _pair(draw: st.DrawFn, body: dict[str, Any]) -> tuple[int, int]:
    """Two task indexes i < j (adding a task when the run has one)."""
    if len(body["tasks"]) < 2:
        _add_task(body, _run_job())
    i = draw(st.integers(0, len(body["tasks"]) - 2))
    j = draw(st.integers(i + 1, len(body["tasks"]) - 1))
    return i, j


def _depends(task: dict[str, Any], key: str, outcome: str | None = None) -> None:
    deps = [d for d in task.get("depends_on", []) if d["task_key"] != key]
    dep: dict[str, Any] = {"task_key": key}
    if outcome is not None:
        dep["outcome"] = outcome
    task["depends_on"] = [*deps, dep]


def _not_one_of(allowed: tuple[str, ...] | set[str]) -> st.SearchStrategy[str]:
    return st.text(max_size=14).filter(lambda s: s not in allowed)


def _mistake_cycle(draw: st.DrawFn, body: dict[str, Any]) -> None:
    i, j = _pair(draw, body)
    tasks = body["tasks"]
    # tasks[j] depends on tasks[i] (added if needed), and now tasks[i] on tasks[j]: a cycle.
    if not any(d["task_key"] == tasks[i]["task_key"] for d in tasks[j].get("depends_on", [])):
        _depends(tasks[j], tasks[i]["task_key"])
    _depends(tasks[i], tasks[j]["task_key"])


def _mistake_self_dependency(draw: st.DrawFn, body: dict[str, Any]) -> None:
    task = draw(st.sampled_from(body["tasks"]))
    _depends(task, task["task_key"])


def _mistake_unknown_dependency(draw: st.DrawFn, body: dict[str, Any]) -> None:
    task = draw(st.sampled_from(body["tasks"]))
    _depends(task, _fresh(body, draw(task_keys)))


def _mistake_duplicate_dependency(draw: st.DrawFn, body: dict[str, Any]) -> None:
    i, j = _pair(draw, body)
    task = body["tasks"][j]
    task["depends_on"] = [*task.get("depends_on", []), {"task_key": body["tasks"][i]["task_key"]}] * 2


def _mistake_duplicate_key(draw: st.DrawFn, body: dict[str, Any]) -> None:
    i, j = _pair(draw, body)
    body["tasks"][j]["task_key"] = body["tasks"][i]["task_key"]


def _mistake_bad_key(draw: st.DrawFn, body: dict[str, Any]) -> None:
    task = draw(st.sampled_from(body["tasks"]))
    bad = draw(st.sampled_from([" ", ".", "/", ":", "!", "ü ", "\t", "\n"]))
    key = task["task_key"]
    # A newline at the very end is its own test (test_fuzz.py::test_task_key_with_trailing_newline_is_rejected).
    cut = draw(st.integers(0, len(key) - 1 if bad == "\n" else len(key)))
    task["task_key"] = key[:cut] + bad + key[cut:]


def _mistake_long_key(draw: st.DrawFn, body: dict[str, Any]) -> None:
    draw(st.sampled_from(body["tasks"]))["task_key"] = "k" * draw(st.integers(101, 300))


def _mistake_two_types(draw: st.DrawFn, body: dict[str, Any]) -> None:
    task = draw(st.sampled_from(body["tasks"]))
    if "run_job_task" in task:
        task["pipeline_task"] = {"pipeline_id": "p-1"}
    else:
        task["run_job_task"] = {"job_id": 7}


def _mistake_no_type(draw: st.DrawFn, body: dict[str, Any]) -> None:
    task = draw(st.sampled_from(body["tasks"]))
    for name in [k for k in task if k.endswith("_task")]:
        del task[name]


def _mistake_bad_run_if(draw: st.DrawFn, body: dict[str, Any]) -> None:
    draw(st.sampled_from(body["tasks"]))["run_if"] = draw(_not_one_of(RUN_IFS))


def _mistake_bad_op(draw: st.DrawFn, body: dict[str, Any]) -> None:
    _add_task(
        body,
        {"task_key": "check", "condition_task": {"left": "1", "op": draw(_not_one_of(CONDITION_OPS)), "right": "1"}},
    )


def _mistake_bad_availability(draw: st.DrawFn, body: dict[str, Any]) -> None:
    cluster = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
    cluster["aws_attributes"] = {"availability": draw(_not_one_of(AVAILABILITIES))}
    _add_task(body, _notebook(new_cluster=cluster))


def _mistake_long_token(draw: st.DrawFn, body: dict[str, Any]) -> None:
    body["idempotency_token"] = draw(st.text(min_size=65, max_size=120))


def _mistake_empty_token(draw: st.DrawFn, body: dict[str, Any]) -> None:
    body["idempotency_token"] = ""


def _mistake_outcome_not_condition(draw: st.DrawFn, body: dict[str, Any]) -> None:
    candidates = [t for t in body["tasks"] if "condition_task" not in t]
    upstream = draw(st.sampled_from(candidates)) if candidates else _add_task(body, _run_job())
    _add_task(body, _run_job("after"))["depends_on"] = [
        {"task_key": upstream["task_key"], "outcome": draw(st.sampled_from(["true", "false"]))}
    ]


def _mistake_bad_outcome(draw: st.DrawFn, body: dict[str, Any]) -> None:
    check = _add_task(body, {"task_key": "check", "condition_task": {"left": "a", "op": "EQUAL_TO", "right": "b"}})
    after = _add_task(body, _run_job("after"))
    after["depends_on"] = [{"task_key": check["task_key"], "outcome": draw(_not_one_of({"true", "false"}))}]


def _mistake_no_tasks(draw: st.DrawFn, body: dict[str, Any]) -> None:
    body["tasks"] = []


def _mistake_too_many_tasks(draw: st.DrawFn, body: dict[str, Any]) -> None:
    body["tasks"] = [_run_job(f"t{i}") for i in range(1001)]


def _mistake_libraries_off_cluster(draw: st.DrawFn, body: dict[str, Any]) -> None:
    task = _add_task(
        body, draw(st.sampled_from([_run_job(), {"task_key": "p", "pipeline_task": {"pipeline_id": "x"}}]))
    )
    task["libraries"] = [{"pypi": {"package": "pandas"}}]


def _mistake_cluster_off_cluster(draw: st.DrawFn, body: dict[str, Any]) -> None:
    task = _add_task(body, {"task_key": "check", "condition_task": {"left": "a", "op": "EQUAL_TO", "right": "b"}})
    task["existing_cluster_id"] = "0101-abc"


def _mistake_missing_compute(draw: st.DrawFn, body: dict[str, Any]) -> None:
    kind = draw(st.sampled_from(["spark_python_task", "python_wheel_task"]))
    inner = {"python_file": "dbfs:/x.py"} if kind == "spark_python_task" else {"package_name": "p", "entry_point": "m"}
    _add_task(body, {"task_key": "py", kind: inner})


def _mistake_two_computes(draw: st.DrawFn, body: dict[str, Any]) -> None:
    _add_task(body, _notebook(existing_cluster_id="0101-abc", new_cluster={"spark_version": "15.4.x-scala2.12"}))


def _mistake_libraries_serverless(draw: st.DrawFn, body: dict[str, Any]) -> None:
    _add_task(body, _notebook(libraries=[{"whl": "/Volumes/x.whl"}]))


def _mistake_unknown_environment(draw: st.DrawFn, body: dict[str, Any]) -> None:
    env = draw(task_keys).upper() + "_nope"
    _add_task(body, {"task_key": "py", "spark_python_task": {"python_file": "x.py"}, "environment_key": env})


def _mistake_nested_for_each(draw: st.DrawFn, body: dict[str, Any]) -> None:
    inner = {
        "task_key": "inner",
        "for_each_task": {"inputs": "[1]", "task": _notebook("deepest", existing_cluster_id="c")},
    }
    _add_task(body, {"task_key": "loop", "for_each_task": {"inputs": "[1, 2]", "task": inner}})


def _bad_inputs(value: str) -> bool:
    if "{{" in value:
        return False
    try:
        return not isinstance(json.loads(value), list)
    except ValueError:
        return True


def _mistake_bad_inputs(draw: st.DrawFn, body: dict[str, Any]) -> None:
    inputs = draw(st.text(max_size=20).filter(_bad_inputs))
    _add_task(
        body,
        {"task_key": "loop", "for_each_task": {"inputs": inputs, "task": _notebook("it", existing_cluster_id="c")}},
    )


def _mistake_wrong_type(draw: st.DrawFn, body: dict[str, Any]) -> None:
    where, name = draw(
        st.sampled_from([("top", "timeout_seconds"), ("top", "tasks"), ("task", "max_retries"), ("task", "depends_on")])
    )
    value = draw(st.sampled_from(["ten", [1], {"a": 1}, True, 1.5]))
    if name in ("tasks", "depends_on") and isinstance(value, list):
        value = "not a list"
    target = body if where == "top" else draw(st.sampled_from(body["tasks"]))
    target[name] = value


def _mistake_unknown_field(draw: st.DrawFn, body: dict[str, Any]) -> None:
    target = draw(st.sampled_from([body, *body["tasks"]]))
    known = set(FIELD_NAMES)
    target[
        draw(st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12).filter(lambda k: k not in known))
    ] = 1


def _mistake_missing_field(draw: st.DrawFn, body: dict[str, Any]) -> None:
    task = _add_task(body, _notebook(existing_cluster_id="c"))
    del task["notebook_task"]["notebook_path"]
    task["notebook_task"]["base_parameters"] = {"a": "b"}


def _mistake_negative(draw: st.DrawFn, body: dict[str, Any]) -> None:
    value = draw(st.integers(max_value=-1))
    if draw(st.booleans()):
        body["timeout_seconds"] = value
    else:
        draw(st.sampled_from(body["tasks"]))["max_retries"] = min(value, -2)


def _mistake_shared_cluster(draw: st.DrawFn, body: dict[str, Any]) -> None:
    _add_task(body, _notebook(job_cluster_key="shared"))


def _mistake_size_conflict(draw: st.DrawFn, body: dict[str, Any]) -> None:
    cluster = {"spark_version": "15.4.x-scala2.12", "num_workers": 2, "autoscale": {"min_workers": 1, "max_workers": 4}}
    _add_task(body, _notebook(new_cluster=cluster))


def _mistake_wheel_parameters(draw: st.DrawFn, body: dict[str, Any]) -> None:
    wheel = {"package_name": "p", "entry_point": "m", "parameters": ["a"], "named_parameters": {"b": "c"}}
    _add_task(body, {"task_key": "whl", "python_wheel_task": wheel, "existing_cluster_id": "c"})


def _mistake_sql_form(draw: st.DrawFn, body: dict[str, Any]) -> None:
    sql = {"warehouse_id": "w", "query": {"query_id": "q"}, "file": {"path": "/x.sql"}}
    if draw(st.booleans()):
        sql = {"warehouse_id": "w"}
    _add_task(body, {"task_key": "sql", "sql_task": sql})


def _mistake_git_source(draw: st.DrawFn, body: dict[str, Any]) -> None:
    body.pop("git_source", None)
    _add_task(
        body, {"task_key": "nb", "notebook_task": {"notebook_path": "nb", "source": "GIT"}, "existing_cluster_id": "c"}
    )


#: Each mistake and the problem code runspec must report for it.
MISTAKES = {
    "dependency-cycle": [_mistake_cycle, _mistake_self_dependency],
    "unknown-dependency": [_mistake_unknown_dependency],
    "duplicate-dependency": [_mistake_duplicate_dependency],
    "duplicate-task-key": [_mistake_duplicate_key],
    "invalid-task-key": [_mistake_bad_key, _mistake_long_key],
    "multiple-task-types": [_mistake_two_types],
    "no-task-type": [_mistake_no_type],
    "invalid-enum": [_mistake_bad_run_if, _mistake_bad_op, _mistake_bad_availability],
    "too-long": [_mistake_long_token],
    "invalid-value": [_mistake_empty_token],
    "outcome-not-condition": [_mistake_outcome_not_condition],
    "invalid-outcome": [_mistake_bad_outcome],
    "no-tasks": [_mistake_no_tasks],
    "too-many-tasks": [_mistake_too_many_tasks],
    "compute-not-allowed": [_mistake_libraries_off_cluster, _mistake_cluster_off_cluster],
    "missing-compute": [_mistake_missing_compute],
    "multiple-compute": [_mistake_two_computes],
    "libraries-need-cluster": [_mistake_libraries_serverless],
    "unknown-environment": [_mistake_unknown_environment],
    "nested-for-each": [_mistake_nested_for_each],
    "invalid-for-each-inputs": [_mistake_bad_inputs],
    "wrong-type": [_mistake_wrong_type],
    "unknown-field": [_mistake_unknown_field],
    "missing-field": [_mistake_missing_field],
    "out-of-range": [_mistake_negative],
    "shared-cluster-unsupported": [_mistake_shared_cluster],
    "cluster-size-conflict": [_mistake_size_conflict],
    "wheel-parameters-conflict": [_mistake_wheel_parameters],
    "sql-task-form": [_mistake_sql_form],
    "git-source-missing": [_mistake_git_source],
}
#: ``"<code>:<mistake>"`` for every mistake, to parametrize over.
MISTAKE_NAMES = [f"{code}:{fn.__name__.removeprefix('_mistake_')}" for code, fns in MISTAKES.items() for fn in fns]
_BY_NAME = {f"{code}:{fn.__name__.removeprefix('_mistake_')}": fn for code, fns in MISTAKES.items() for fn in fns}


@st.composite
def mistakes(draw: st.DrawFn, name: str | None = None) -> tuple[dict[str, Any], str]:
    """A valid body with one mistake (``name`` from ``MISTAKE_NAMES``, or any): ``(body, expected code)``."""
    body = copy.deepcopy(draw(runs(max_tasks=6)).run.compile().to_dict())
    name = name or draw(st.sampled_from(MISTAKE_NAMES))
    _BY_NAME[name](draw, body)
    return body, name.split(":", 1)[0]


# -- random damage ----------------------------------------------------------------------------------


def _places(value: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a JSON value, depth first."""
    if isinstance(value, dict):
        for k in list(value):
            out.append((value, k))
            _places(value[k], out)
    elif isinstance(value, list):
        for i in range(len(value)):
            out.append((value, i))
            _places(value[i], out)
    return out


def _retype(value: Any) -> Any:
    """The same information in another JSON type."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    """A valid body after one to four random edits, or random JSON shaped like a body."""
    if draw(st.integers(0, 5)) == 0:
        return draw(st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=6))
    body = copy.deepcopy(draw(bodies))
    for _ in range(draw(st.integers(1, 4))):
        places = _places(body, [])
        if not places:
            break
        container, key = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["remove", "rename", "retype", "random", "null", "wrap"]))
        if action == "remove":
            del container[key]
        elif action == "rename" and isinstance(container, dict):
            new = draw(st.sampled_from(FIELD_NAMES) | st.text(max_size=10) | st.just(key + "s") | st.just(key[:-1]))
            container[new] = container.pop(key)
        elif action == "retype":
            container[key] = _retype(container[key])
        elif action == "random":
            container[key] = draw(json_values)
        elif action == "null":
            container[key] = None
        else:
            container[key] = [container[key]]
    return body
