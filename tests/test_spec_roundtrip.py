"""
Lossless loading: ``RunSpec.from_dict(body).to_dict() == body`` for bodies that use every field of
every request-body type reachable from ``RunsSubmitRequest``.

The bodies are generated from the shipped ``runspec/spec/schema/schema.json``, not written by hand: a value
for every field of every type, arranged so that each body passes all whole-run checks (one git
reference per body, one storage kind per init script, one principal per access entry, ...). A walk
over the bodies counts the fields they cover, so a field added to the schema without a way into the
corpus fails ``test_corpus_covers_every_request_field``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runspec
from runspec import NotebookTask, PyPI, Run, RunSpec, SpecError, SubmitTask, Task
from runspec.spec import ForEachTask, TaskDependency

SCHEMA_PATH = Path(runspec.__file__).resolve().parent / "spec" / "schema" / "schema.json"
SCHEMA: dict[str, dict[str, dict[str, Any]]] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
TYPE_NAME = re.compile(r"[A-Z]\w*")


def reachable_types(root: str = "RunsSubmitRequest") -> set[str]:
    """Every schema type a request body can contain, following non-rejected fields from ``root``."""
    seen: set[str] = set()
    stack = [root]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in SCHEMA[name].values():
            if spec.get("rejected"):
                continue
            stack.extend(t for t in TYPE_NAME.findall(spec["type"]) if t in SCHEMA)
    return seen


REQUEST_TYPES = reachable_types()
REQUEST_FIELDS = {
    (type_name, field)
    for type_name in REQUEST_TYPES
    for field, spec in SCHEMA[type_name].items()
    if not spec.get("rejected")
}
#: Fields the whole-run checks forbid inside a valid run: the task a for_each task repeats cannot depend
#: on other tasks, nor be a for_each task itself. They round-trip at the object level instead.
FORBIDDEN_IN_A_RUN = {("Task", "depends_on"), ("Task", "for_each_task")}


# --------------------------------------------------------------------------------------------------
# Generating values from the schema.
# --------------------------------------------------------------------------------------------------

#: Values for fields whose meaning the whole-run checks look at; every other field gets a plain value
#: of its wire type (first enum value, "<field>-1", 1, 0.5, true).
OVERRIDES: dict[tuple[str, str], Any] = {
    ("AutoScale", "min_workers"): 1,
    ("AutoScale", "max_workers"): 4,
    ("DbtTask", "commands"): ["dbt deps", "dbt run"],
    ("ForEachTask", "inputs"): '["a", "b"]',
    ("ForEachTask", "concurrency"): 2,
    ("RunsSubmitRequest", "performance_target"): "COST_OPTIMIZED",
    ("RunsSubmitRequest", "duration_target"): "4h",
    ("RunsSubmitRequest", "idempotency_token"): "roundtrip-token-1",
    ("RunsSubmitRequest", "timeout_seconds"): 3600,
    ("JobsHealthRule", "value"): 600,
    ("JobEnvironmentVariablesSpec", "variables"): {"MY_VAR": "value"},
    ("JobEnvironmentVariables", "environment_variables_key"): "vars-1",
    ("JobEnvironment", "environment_key"): "env-1",
    ("SubmitTask", "environment_key"): "env-1",
    ("Task", "environment_key"): "env-1",
    ("SubmitTask", "environment_variables_key"): "vars-1",
    ("Task", "environment_variables_key"): "vars-1",
    ("Environment", "environment_version"): "4",
    ("AwsAttributes", "spot_bid_price_percent"): 100,
    ("AzureAttributes", "spot_bid_max_price"): 0.5,
    ("TaskDependency", "outcome"): "true",
    ("ClusterSpec", "kind"): "CLASSIC_PREVIEW",
    # A stand-in for the task a for_each repeats (Task is built by hand; corpus_body replaces this one).
    ("ForEachTask", "task"): {
        "task_key": "placeholder",
        "condition_task": {"left": "1", "op": "EQUAL_TO", "right": "1"},
    },
}

#: Types whose fields exclude each other: each variant is a set of fields left out. A single object
#: uses variant 0; an array of the type holds one element per variant.
VARIANTS: dict[str, list[set[str]]] = {
    "GitSource": [{"git_tag", "git_commit"}, {"git_branch", "git_commit"}, {"git_branch", "git_tag"}],
    "JobRunAs": [
        {"group_name", "service_principal_name"},
        {"user_name", "service_principal_name"},
        {"user_name", "group_name"},
    ],
    "ClusterLogConf": [{"s3", "volumes"}, {"dbfs", "volumes"}, {"dbfs", "s3"}],
    "InitScriptInfo": [
        set(SCHEMA["InitScriptInfo"]) - {kind}
        for kind in ("workspace", "volumes", "s3", "abfss", "gcs", "file", "dbfs")
    ],
    "Library": [set(SCHEMA["Library"]) - {kind} for kind in sorted(SCHEMA["Library"])],
    "JobAccessControlRequest": [
        {"group_name", "service_principal_name"},
        {"user_name", "service_principal_name"},
        {"user_name", "group_name"},
    ],
    "SqlTaskSubscription": [{"destination_id"}, {"user_name"}],
    "SubscriptionSubscriber": [{"destination_id"}, {"user_name"}],
    "ClusterSpec": [{"autoscale"}, {"num_workers"}],
    "PythonWheelTask": [{"named_parameters"}, {"parameters"}],
    "SqlTask": [
        {"file", "dashboard", "alert"},
        {"query", "dashboard", "alert"},
        {"query", "file", "alert"},
        {"query", "file", "dashboard", "parameters"},  # parameters do not apply to alerts
    ],
    "DbtTask": [{"profiles_directory"}, {"catalog", "warehouse_id"}],
    "NotebookTask": [{"warehouse_id"}, set()],  # with warehouse_id the notebook runs on a SQL warehouse
}

#: Types a generated value never nests into (the corpus builds these by hand, below).
BUILT_BY_HAND = {"SubmitTask", "Task", "RunsSubmitRequest"}


def value_for(type_text: str, owner: str, field: str, variant: int = 0) -> Any:
    """A valid value of wire type ``type_text`` for ``owner.field``."""
    key = (owner, field)
    if key in OVERRIDES:
        return copy.deepcopy(OVERRIDES[key])
    spec = SCHEMA.get(owner, {}).get(field, {})
    if type_text == "string":
        enum = spec.get("enum")
        return enum[0] if enum else f"{field}-1"
    if type_text == "integer":
        return 1
    if type_text == "number":
        return 0.5
    if type_text == "boolean":
        return True
    if type_text == "any":
        return {"free": ["form", 1]}
    if type_text.startswith("array<"):
        inner = type_text[6:-1]
        if inner in VARIANTS:
            return [make(inner, v) for v in range(len(VARIANTS[inner]))]
        return [value_for(inner, owner, field)]
    if type_text.startswith("map<string,"):
        return {"key": value_for(type_text[11:-1], owner, field)}
    return make(type_text, variant)


def make(type_name: str, variant: int = 0, **changes: Any) -> dict[str, Any]:
    """An object of ``type_name`` with every field set except those its variant leaves out."""
    assert type_name not in BUILT_BY_HAND, type_name
    omit = VARIANTS.get(type_name, [set()])[variant]
    out: dict[str, Any] = {}
    for field, spec in SCHEMA[type_name].items():
        if spec.get("rejected") or field in omit:
            continue
        out[field] = value_for(spec["type"], type_name, field)
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


def cluster(n: int) -> dict[str, Any]:
    """The n-th full cluster: it alternates num_workers/autoscale and the three log destinations."""
    return make("ClusterSpec", n % 2, cluster_log_conf=make("ClusterLogConf", n % 3))


#: Each task-type field of SubmitTask and the schema type of its value.
TASK_KINDS = {
    field: spec["type"]
    for field, spec in SCHEMA["SubmitTask"].items()
    if field.endswith("_task") and not spec.get("rejected") and spec["type"] in SCHEMA
}
CLUSTER_KINDS = {
    "notebook_task",
    "spark_jar_task",
    "spark_python_task",
    "spark_submit_task",
    "python_wheel_task",
    "dbt_task",
}
#: Types that may run on a cluster but need none.
EITHER_KINDS = {"python_operator_task", "ai_function_task"}


def task(
    wire: str,
    kind: str,
    key: str,
    *,
    variant: int = 0,
    n: int = 0,
    existing_cluster: bool = False,
) -> dict[str, Any]:
    """A SubmitTask (or, with ``wire="Task"``, a for_each's inner Task) of ``kind`` with every common field."""
    body: dict[str, Any] = {"task_key": key, kind: make(TASK_KINDS[kind], variant)}
    for field in (
        "description",
        "disabled",
        "timeout_seconds",
        "max_retries",
        "min_retry_interval_millis",
        "retry_on_timeout",
        "run_if",
        "email_notifications",
        "webhook_notifications",
        "notification_settings",
        "health",
        "compute",
        "disable_auto_optimization",
        "environment_variables_key",
    ):
        body[field] = value_for(SCHEMA[wire][field]["type"], wire, field)
    warehouse_notebook = kind == "notebook_task" and "warehouse_id" in body[kind]
    if (kind in CLUSTER_KINDS and not warehouse_notebook) or kind in EITHER_KINDS:
        if existing_cluster:
            body["existing_cluster_id"] = f"0101-{n:06d}-cluster"
        else:
            body["new_cluster"] = cluster(n)
        body["libraries"] = value_for("array<Library>", wire, "libraries")
        body["environment_key"] = value_for("string", wire, "environment_key")
    return body


def variants_of(kind: str) -> int:
    return len(VARIANTS.get(TASK_KINDS[kind], [set()]))


def corpus_body(index: int) -> dict[str, Any]:
    """The ``index``-th corpus body (0, 1 or 2): every top-level field, every task type in every variant."""
    body: dict[str, Any] = {}
    for field, spec in SCHEMA["RunsSubmitRequest"].items():
        if spec.get("rejected") or field == "tasks":
            continue
        body[field] = value_for(spec["type"], "RunsSubmitRequest", field)
    body["run_name"] = f"roundtrip-{index}"
    body["git_source"] = make("GitSource", index)
    body["run_as"] = make("JobRunAs", index)
    tasks: list[dict[str, Any]] = []
    n = index * 100
    for kind in sorted(TASK_KINDS):
        for v in range(variants_of(kind)):
            n += 1
            tasks.append(task("SubmitTask", kind, f"{kind}-{v}", variant=v, n=n, existing_cluster=n % 5 == 0))
    # A dependency with an outcome, on the condition task.
    tasks[-1]["depends_on"] = [{"task_key": "condition_task-0", "outcome": "true"}]
    if index == 0:
        # The task a for_each repeats, once for each type it can be.
        for kind in sorted(TASK_KINDS):
            if kind == "for_each_task":
                continue
            for v in range(variants_of(kind)):
                n += 1
                inner = task("Task", kind, f"inner-{kind}-{v}", variant=v, n=n, existing_cluster=n % 5 == 0)
                inner["email_notifications"] = make("TaskEmailNotifications")
                loop = task("SubmitTask", "for_each_task", f"each-{kind}-{v}", n=n)
                loop["for_each_task"]["task"] = inner
                tasks.append(loop)
    else:
        loop = task("SubmitTask", "for_each_task", "each", n=n)
        loop["for_each_task"]["task"] = task("Task", "condition_task", "inner-condition")
        tasks.append(loop)
    body["tasks"] = tasks
    return body


CORPUS = [corpus_body(i) for i in range(3)]


def covered_fields(value: Any, type_text: str, acc: set[tuple[str, str]]) -> None:
    """Record every (type, field) that ``value``, read as wire type ``type_text``, sets."""
    if type_text.startswith("array<"):
        for item in value:
            covered_fields(item, type_text[6:-1], acc)
    elif type_text.startswith("map<string,"):
        for item in value.values():
            covered_fields(item, type_text[11:-1], acc)
    elif type_text in SCHEMA:
        for field, item in value.items():
            acc.add((type_text, field))
            covered_fields(item, SCHEMA[type_text][field]["type"], acc)


def walk_paths(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    """Every (path, value) in a JSON value, parents before children."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk_paths(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk_paths(v, f"{path}[{i}]")


# --------------------------------------------------------------------------------------------------
# The tests.
# --------------------------------------------------------------------------------------------------


def test_schema_has_the_96_request_types() -> None:
    """The request body reaches 96 schema types, with 456 fields that are not rejected."""
    assert len(REQUEST_TYPES) == 96
    assert len(REQUEST_FIELDS) == 456


def test_corpus_covers_every_request_field() -> None:
    """Together the corpus bodies set every non-rejected field of every request type, bar two forbidden in a run."""
    covered: set[tuple[str, str]] = set()
    for body in CORPUS:
        covered_fields(body, "RunsSubmitRequest", covered)
    assert covered - REQUEST_FIELDS == set()
    assert REQUEST_FIELDS - covered == FORBIDDEN_IN_A_RUN
    assert len(covered) == 454


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_corpus_body_round_trips(index: int) -> None:
    """Each corpus body passes every check and comes back from from_dict/to_dict unchanged."""
    body = CORPUS[index]
    spec = RunSpec.from_dict(body)
    assert spec.to_dict() == body
    assert RunSpec.from_json(spec.to_json()).to_dict() == body
    assert json.loads(spec.to_json(indent=2)) == body


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_corpus_body_round_trips_through_the_builder(index: int) -> None:
    """Run.from_dict(body).compile() gives the same body back: loading into the builder loses nothing."""
    body = CORPUS[index]
    assert Run.from_dict(body).compile().to_dict() == body
    assert Run.from_spec(RunSpec.from_dict(body)).compile().to_dict() == body


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_corpus_body_is_stable_under_a_second_load(index: int) -> None:
    """Loading the output of to_dict() again gives an equal RunSpec with an equal hash."""
    first = RunSpec.from_dict(CORPUS[index])
    second = RunSpec.from_dict(first.to_dict())
    assert first == second
    assert hash(first) == hash(second)


def test_fields_forbidden_in_a_run_round_trip_as_objects() -> None:
    """Task.depends_on and Task.for_each_task, which no valid run may use, still load and dump losslessly."""
    inner = {
        "task_key": "inner",
        "depends_on": [{"task_key": "other", "outcome": "false"}],
        "for_each_task": {"inputs": "[1]", "task": {"task_key": "deepest", "condition_task": make("ConditionTask")}},
    }
    assert Task.from_dict(inner).to_dict() == inner
    body = {"tasks": [{"task_key": "loop", "for_each_task": {"inputs": "[1]", "task": inner}}]}
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(body)
    assert {(p.path, p.code) for p in info.value.problems} >= {
        ("$.tasks[0].for_each_task.task.depends_on", "invalid-value"),
        ("$.tasks[0].for_each_task.task.for_each_task", "nested-for-each"),
    }


def test_null_valued_keys_are_dropped() -> None:
    """Keys whose value is null, at any depth, are dropped: to_dict() equals the body without them."""
    body = copy.deepcopy(CORPUS[1])
    clean = copy.deepcopy(body)
    body["budget_policy_id"] = None
    body["tasks"][0]["description"] = None
    first_cluster = next(t for t in body["tasks"] if "new_cluster" in t)
    first_cluster["new_cluster"]["policy_id"] = None
    first_cluster["new_cluster"]["docker_image"]["basic_auth"] = None
    del clean["budget_policy_id"]
    del clean["tasks"][0]["description"]
    clean_cluster = next(t for t in clean["tasks"] if "new_cluster" in t)
    del clean_cluster["new_cluster"]["policy_id"]
    del clean_cluster["new_cluster"]["docker_image"]["basic_auth"]
    assert RunSpec.from_dict(body).to_dict() == clean


def test_null_for_a_required_field_is_a_missing_field() -> None:
    """A required field given as null is reported as missing, with its path."""
    body = {"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": None}, "existing_cluster_id": "c"}]}
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(body)
    assert [(p.path, p.code) for p in info.value.problems] == [
        ("$.tasks[0].notebook_task.notebook_path", "missing-field")
    ]
    assert "required" in info.value.problems[0].message


def unknown_keys_body() -> dict[str, Any]:
    body = copy.deepcopy(CORPUS[2])
    body["brand_new_top"] = {"nested": [1, 2, {"x": None}]}
    body["tasks"][0]["brand_new_task_field"] = True
    body["tasks"][0][next(k for k in body["tasks"][0] if k.endswith("_task"))]["brand_new_inner"] = "v"
    body["git_source"]["brand_new_git"] = 3
    return body


def test_non_strict_load_keeps_unknown_keys_and_warns() -> None:
    """from_dict(strict=False) sends unknown keys unchanged, at every depth, and warns about each."""
    body = unknown_keys_body()
    spec = RunSpec.from_dict(body, strict=False)
    assert spec.to_dict() == body
    unknown = sorted(w.path for w in spec.warnings if w.code == "unknown-field")
    kind = next(k for k in body["tasks"][0] if k.endswith("_task"))
    assert unknown == sorted(
        [
            "$.brand_new_top",
            "$.tasks[0].brand_new_task_field",
            f"$.tasks[0].{kind}.brand_new_inner",
            "$.git_source.brand_new_git",
        ]
    )


def test_non_strict_load_keeps_unknown_keys_in_the_builder() -> None:
    """Run.from_dict(strict=False) keeps unknown keys through compile(), and a change leaves them in place."""
    body = unknown_keys_body()
    run = Run.from_dict(body, strict=False)
    assert run.compile().to_dict() == body
    changed = run.timeout(5).compile().to_dict()
    assert changed["brand_new_top"] == body["brand_new_top"]
    assert changed["tasks"][0]["brand_new_task_field"] is True
    assert changed["timeout_seconds"] == 5


def test_strict_load_reports_unknown_keys_with_the_closest_name() -> None:
    """Under strict loading a misspelled key is unknown-field, at its path, naming the closest known field."""
    body = {
        "run_nme": "x",
        "tasks": [
            {
                "task_key": "a",
                "notebook_task": {"notebok_path": "/a"},
                "existing_cluster": "c",
            }
        ],
    }
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(body)
    problems = {p.path: p for p in info.value.problems if p.code == "unknown-field"}
    assert set(problems) == {"$.run_nme", "$.tasks[0].notebook_task.notebok_path", "$.tasks[0].existing_cluster"}
    assert "did you mean 'run_name'?" in problems["$.run_nme"].message
    assert "did you mean 'notebook_path'?" in problems["$.tasks[0].notebook_task.notebok_path"].message
    assert "did you mean 'existing_cluster_id'?" in problems["$.tasks[0].existing_cluster"].message
    # The required field the misspelling hid is missing as well.
    assert ("$.tasks[0].notebook_task.notebook_path", "missing-field") in {
        (p.path, p.code) for p in info.value.problems
    }


def test_extra_round_trips_on_every_level() -> None:
    """extra={...} on a spec object reaches the body unchanged, and a non-strict load gives the same object back."""
    task = SubmitTask(
        "a",
        notebook_task=NotebookTask("/a", extra={"new_notebook_option": {"deep": [1, "two", None]}}),
        existing_cluster_id="c",
        libraries=[PyPI("pandas", extra={"index_hint": "x"})],
        extra={"new_task_option": 7},
    )
    spec = RunSpec(tasks=[task], extra={"new_top_option": ["a"]})
    body = spec.to_dict()
    assert body == {
        "tasks": [
            {
                "task_key": "a",
                "notebook_task": {"notebook_path": "/a", "new_notebook_option": {"deep": [1, "two", None]}},
                "existing_cluster_id": "c",
                "libraries": [{"pypi": {"package": "pandas", "index_hint": "x"}}],
                "new_task_option": 7,
            }
        ],
        "new_top_option": ["a"],
    }
    again = RunSpec.from_dict(body, strict=False)
    assert again == spec
    assert again.to_dict() == body
    assert again.task("a").extra == {"new_task_option": 7}


def test_extra_survives_the_builder() -> None:
    """extra given to Run.task and Run.set is sent unchanged by compile()."""
    body = (
        Run("x")
        .task(NotebookTask("/a"), existing_cluster_id="c", extra={"new_task_option": {"on": True}})
        .set(extra={"new_top_option": 1})
        .to_dict()
    )
    assert body["tasks"][0]["new_task_option"] == {"on": True}
    assert body["new_top_option"] == 1


def test_numbers_as_strings_load_with_a_warning_and_round_trip() -> None:
    """An integer field given as a numeric string loads, is sent as given, and warns number-as-string."""
    body = {"timeout_seconds": "600", "tasks": [{"task_key": "p", "pipeline_task": {"pipeline_id": "x"}}]}
    spec = RunSpec.from_dict(body)
    assert spec.to_dict() == body
    assert [(w.path, w.code) for w in spec.warnings] == [("$.timeout_seconds", "number-as-string")]


def test_corpus_builds_for_each_with_the_classes_too() -> None:
    """The classes accept the corpus's objects as mappings: a ForEachTask built from dicts equals the loaded one."""
    loop_body = next(t for t in CORPUS[0]["tasks"] if t["task_key"] == "each-notebook_task-0")["for_each_task"]
    built = ForEachTask(loop_body["inputs"], loop_body["task"], concurrency=loop_body["concurrency"])
    assert built.to_dict() == loop_body
    assert built == ForEachTask.from_dict(loop_body)
    assert TaskDependency.from_dict({"task_key": "a", "outcome": "true"}) == TaskDependency("a", "true")
