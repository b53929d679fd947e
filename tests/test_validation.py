"""
Every problem code runspec reports, with the JSON path, the code and the gist of the message.

Each case makes one mistake in an otherwise valid run and asserts the one problem (or warning) it
causes. ``test_every_code_in_the_source_has_a_case`` reads the codes out of the package source, so a
rule added without a test here fails.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import runspec
from runspec import (
    ForEachTask,
    NewCluster,
    NotebookTask,
    PipelineTask,
    Problem,
    Run,
    RunSpec,
    SparkPythonTask,
    SpecError,
    SubmitTask,
    Task,
    submit,
)

PACKAGE = Path(runspec.__file__).resolve().parent
ALL_PURPOSE = "0101-123456-abcdef"


def nb(key: str = "a", **fields: Any) -> dict[str, Any]:
    """A valid notebook task on an all-purpose cluster."""
    return {
        "task_key": key,
        "notebook_task": {"notebook_path": f"/Repos/x/{key}"},
        "existing_cluster_id": ALL_PURPOSE,
        **fields,
    }


def cluster(**fields: Any) -> dict[str, Any]:
    return {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1, **fields}


def on_cluster(key: str = "a", **cluster_fields: Any) -> dict[str, Any]:
    """A valid notebook task on its own new cluster."""
    return {
        "task_key": key,
        "notebook_task": {"notebook_path": f"/Repos/x/{key}"},
        "new_cluster": cluster(**cluster_fields),
    }


def body(*tasks: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"run_name": "checks", "tasks": list(tasks) if tasks else [nb()], **top}


def pipeline(key: str = "p", **fields: Any) -> dict[str, Any]:
    return {"task_key": key, "pipeline_task": {"pipeline_id": "p-1"}, **fields}


def sql(**form: Any) -> dict[str, Any]:
    return {"task_key": "s", "sql_task": {"warehouse_id": "wh", **form}}


def dbt(**fields: Any) -> dict[str, Any]:
    return {"task_key": "d", "dbt_task": {"commands": ["dbt run"], **fields}, "existing_cluster_id": ALL_PURPOSE}


def loop(inner: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "task_key": "loop",
        "for_each_task": {"inputs": "[1, 2]", "task": inner if inner is not None else nb("inner"), **fields},
    }


def nested_for_each(depth: int) -> dict[str, Any]:
    task = nb("leaf")
    for i in range(depth):
        task = {"task_key": f"level{i}", "for_each_task": {"inputs": "[1]", "task": task}}
    return body(task)


C = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1)


@dataclass
class Case:
    """One mistake: what to load or compile, and the problem it must give."""

    id: str
    make: Callable[[], Any]  # a body dict, a JSON string, or a Run
    path: str
    code: str
    message: str  # a regex searched in the message
    warning: bool = False
    alone: bool = True  # the only error (for a warning: no errors at all)


def outcome(thing: Any) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of loading or compiling ``thing``."""
    try:
        if isinstance(thing, Run):
            spec = thing.compile()
        elif isinstance(thing, str):
            spec = RunSpec.from_json(thing)
        else:
            spec = RunSpec.from_dict(thing)
    except SpecError as exc:
        return list(exc.problems), list(exc.warnings)
    return [], list(spec.warnings)


LOAD_CASES = [
    Case(
        "unknown-field",
        lambda: body(run_nme="x"),
        "$.run_nme",
        "unknown-field",
        r"no field 'run_nme'; did you mean 'run_name'\?",
    ),
    Case(
        "unknown-field-nested",
        lambda: body(nb(notebook_task={"notebook_path": "/a", "base_parameter": {}})),
        "$.tasks[0].notebook_task.base_parameter",
        "unknown-field",
        r"NotebookTask has no field 'base_parameter'; did you mean 'base_parameters'\?",
    ),
    Case(
        "unknown-field-non-strict",
        lambda: None,  # replaced in the test below: a non-strict load warns instead
        "$.new_top_field",
        "unknown-field",
        r"no field 'new_top_field'.*sent as given",
        warning=True,
    ),
    Case(
        "wrong-type",
        lambda: body(timeout_seconds=True),
        "$.timeout_seconds",
        "wrong-type",
        r"expected an integer, got a boolean",
    ),
    Case(
        "wrong-type-map-value",
        lambda: body(nb(notebook_task={"notebook_path": "/a", "base_parameters": {"n": 1}})),
        "$.tasks[0].notebook_task.base_parameters.n",
        "wrong-type",
        r"expected a string, got an integer",
    ),
    Case(
        "wrong-type-null-in-array",
        lambda: body(nb(depends_on=[None])),
        "$.tasks[0].depends_on[0]",
        "wrong-type",
        r"null is not allowed",
    ),
    Case("wrong-type-top", lambda: "[1]", "$", "wrong-type", r"must be a JSON object"),
    Case("invalid-json", lambda: "{", "$", "invalid-json", r"not valid JSON"),
    Case("invalid-json-deep", lambda: "[" * 100_000 + "]" * 100_000, "$", "invalid-json", r"nests too deeply"),
    Case(
        "missing-field",
        lambda: body(nb(notebook_task={})),
        "$.tasks[0].notebook_task.notebook_path",
        "missing-field",
        r"NotebookTask needs 'notebook_path' \(str\)",
    ),
    Case(
        "missing-field-task-key",
        lambda: body({"pipeline_task": {"pipeline_id": "p"}}),
        "$.tasks[0].task_key",
        "missing-field",
        r"needs 'task_key'",
    ),
    Case(
        "shared-cluster-unsupported",
        lambda: body(job_clusters=[{"job_cluster_key": "c", "new_cluster": cluster()}]),
        "$.job_clusters",
        "shared-cluster-unsupported",
        r"Shared job cluster feature is not supported in runs/submit API.*Run\.cluster",
    ),
    Case(
        "shared-cluster-unsupported-task",
        lambda: body(nb(job_cluster_key="c")),
        "$.tasks[0].job_cluster_key",
        "shared-cluster-unsupported",
        r"does not accept shared job clusters",
    ),
    Case(
        "removed-field",
        lambda: body(tags={"a": "b"}),
        "$.tags",
        "removed-field",
        r"no longer part of the runs/submit body.*custom_tags",
    ),
    Case(
        "number-as-string",
        lambda: body(timeout_seconds="600"),
        "$.timeout_seconds",
        "number-as-string",
        r"'600' is a string; the API reads it as an integer",
        warning=True,
    ),
    Case(
        "conf-not-string",
        lambda: body(on_cluster(spark_conf={"spark.speculation": True})),
        "$.tasks[0].new_cluster.spark_conf['spark.speculation']",
        "conf-not-string",
        r"true is not a string; the service reads it as the setting 'true'",
        warning=True,
    ),
    Case(
        "too-deep",
        lambda: nested_for_each(50),
        "$.tasks[0]" + ".for_each_task.task" * 12,
        "too-deep",
        r"nest more than 24 levels",
        alone=False,  # each for_each inside a for_each is also nested-for-each
    ),
    Case(
        "library-kind-two",
        lambda: body(nb(libraries=[{"jar": "/a.jar", "whl": "/b.whl"}])),
        "$.tasks[0].libraries[0]",
        "library-kind",
        r"exactly one kind \(cran, egg, jar, maven, pypi, requirements, whl\); this one has 'jar', 'whl'",
    ),
    Case(
        "library-kind-none",
        lambda: body(nb(libraries=[{}])),
        "$.tasks[0].libraries[0]",
        "library-kind",
        r"this one has none",
    ),
    Case(
        "library-unknown-kind",
        lambda: body(nb(libraries=[{"jarr": "/a.jar"}])),
        "$.tasks[0].libraries[0].jarr",
        "unknown-field",
        r"no kind 'jarr'; did you mean 'jar'\?",
    ),
    Case(
        "library-path-type",
        lambda: body(nb(libraries=[{"whl": {"path": "/a.whl"}}])),
        "$.tasks[0].libraries[0].whl",
        "wrong-type",
        r"expected a string path, got an object",
    ),
]

BUILDER_CASES = [
    Case(
        "unknown-cluster",
        lambda: Run("b").cluster("etl", C).task(NotebookTask("/a"), cluster="elt").task(NotebookTask("/b")),
        "$.tasks[0]",
        "unknown-cluster",
        r"task 'a' names cluster 'elt', which is not declared; did you mean 'etl'\? declared: 'etl'",
    ),
    Case(
        "unused-cluster",
        lambda: Run("b").cluster("etl", C).cluster("spare", C).task(NotebookTask("/a"), cluster="etl"),
        "$",
        "unused-cluster",
        r"cluster 'spare' is declared but no task uses it",
    ),
    Case(
        "duplicate-cluster",
        lambda: Run("b").cluster("etl", C).cluster("etl", C.replace(num_workers=2)).task(NotebookTask("/a")),
        "$",
        "duplicate-cluster",
        r"cluster 'etl' is declared twice",
    ),
    Case(
        "multiple-compute-builder",
        lambda: Run("b").cluster("etl", C).task(NotebookTask("/a"), cluster="etl", existing_cluster_id=ALL_PURPOSE),
        "$.tasks[0]",
        "multiple-compute",
        r"task 'a' names cluster 'etl' and also sets its own cluster",
    ),
    Case(
        "multiple-compute-for-each",
        lambda: (
            Run("b")
            .cluster("etl", C)
            .task(ForEachTask("[1]", Task("inner", notebook_task=NotebookTask("/i"), new_cluster=C)), cluster="etl")
        ),
        "$.tasks[0].for_each_task.task",
        "multiple-compute",
        r"the task inside 'for_each_inner' already has a cluster; drop cluster='etl'",
    ),
    Case(
        "unknown-task-update",
        lambda: Run("b").task(PipelineTask("p"), key="p").update_task("q", timeout_seconds=1),
        "$",
        "unknown-task",
        r"update_task\('q'\): no task has that key",
    ),
    Case(
        "unknown-task-remove",
        lambda: Run("b").task(PipelineTask("p"), key="p").remove_task("q"),
        "$",
        "unknown-task",
        r"remove_task\('q'\): no task has that key",
    ),
    Case(
        "cluster-per-task",
        lambda: Run("b").cluster("etl", C).task(NotebookTask("/a")).task(NotebookTask("/b")),
        "$.tasks[0].new_cluster",
        "cluster-per-task",
        r"cluster 'etl' is copied into 2 tasks \('a', 'b'\); runs/submit starts a separate cluster for each",
        warning=True,
    ),
]

RUN_CASES = [
    Case("no-tasks", lambda: {"run_name": "x"}, "$.tasks", "no-tasks", r"at least one task"),
    Case("no-tasks-empty", lambda: {"tasks": []}, "$.tasks", "no-tasks", r"at least one task"),
    Case(
        "too-many-tasks",
        lambda: body(*(pipeline(f"p{i}") for i in range(1001))),
        "$.tasks",
        "too-many-tasks",
        r"at most 1000 tasks \(got 1001\)",
    ),
    Case(
        "too-long-token",
        lambda: body(idempotency_token="t" * 65),
        "$.idempotency_token",
        "too-long",
        r"at most 64 characters \(got 65\)",
    ),
    Case("empty-token", lambda: body(idempotency_token=""), "$.idempotency_token", "invalid-value", r"empty"),
    Case(
        "too-long-run-name",
        lambda: body(run_name="é" * 2049),  # 2049 characters, 4098 bytes
        "$.run_name",
        "too-long",
        r"at most 4096 bytes of UTF-8 \(got 4098\)",
    ),
    Case(
        "negative-run-timeout",
        lambda: body(timeout_seconds=-1),
        "$.timeout_seconds",
        "out-of-range",
        r"0 \(no limit\) or more",
    ),
    Case(
        "too-many-environment-variables",
        lambda: body(environment_variables=[{"environment_variables_key": f"v{i}"} for i in range(11)]),
        "$.environment_variables",
        "too-many-entries",
        r"at most 10",
    ),
    Case(
        "duration-target-enum",
        lambda: body(performance_target="COST_OPTIMIZED", duration_target="4H"),
        "$.duration_target",
        "invalid-enum",
        r"'4H' is not one of NO_FLEXIBILITY, 4h, 12h, 24h, 72h; did you mean '4h'\?",
    ),
    Case(
        "duration-target-alone",
        lambda: body(duration_target="4h"),
        "$.duration_target",
        "invalid-value",
        r"only applies with performance_target='COST_OPTIMIZED'",
    ),
    Case(
        "invalid-enum",
        lambda: body(nb(run_if="ALL_SUCCES")),
        "$.tasks[0].run_if",
        "invalid-enum",
        r"'ALL_SUCCES' is not one of .*; did you mean 'ALL_SUCCESS'\?",
    ),
    Case(
        "invalid-enum-in-array",
        lambda: body(
            {
                "task_key": "ai",
                "ai_function_task": {
                    "output": {"table": "t"},
                    "ai_parse_document": {
                        "version": "1",
                        "description_element_types": ["DESCRIPTION_ELEMENT_TYPE_ALL", "ALL"],
                    },
                },
            }
        ),
        "$.tasks[0].ai_function_task.ai_parse_document.description_element_types[1]",
        "invalid-enum",
        r"'ALL' is not one of",
    ),
    Case(
        "duplicate-task-key",
        lambda: body(nb("a"), nb("a")),
        "$.tasks[1].task_key",
        "duplicate-task-key",
        r"task key 'a' is already used by \$\.tasks\[0\]",
    ),
    Case(
        "invalid-task-key",
        lambda: body(nb("a b")),
        "$.tasks[0].task_key",
        "invalid-task-key",
        r"'a b' must have 1 to 100 characters",
    ),
    Case(
        "too-long-task-key",
        lambda: body(nb("k" * 101)),
        "$.tasks[0].task_key",
        "invalid-task-key",
        r"1 to 100 characters",
    ),
    Case(
        "task-key-trailing-newline",  # "$" alone also matches before a final newline
        lambda: body(nb("ingest\n")),
        "$.tasks[0].task_key",
        "invalid-task-key",
        r"'ingest\\n' must have 1 to 100 characters",
    ),
    Case(
        "duplicate-environment-key",
        lambda: body(
            pipeline(),
            {"task_key": "w", "python_wheel_task": {"package_name": "p", "entry_point": "m"}, "environment_key": "e"},
            environments=[
                {"environment_key": "e", "spec": {"environment_version": "4"}},
                {"environment_key": "e", "spec": {"environment_version": "3"}},
            ],
        ),
        "$.environments[1].environment_key",
        "duplicate-environment-key",
        r"environment key 'e' is declared twice",
    ),
    Case(
        "environment-without-spec",
        lambda: body(nb(environment_key="e"), environments=[{"environment_key": "e"}]),
        "$.environments[0]",
        "environment-version-missing",
        r"environment 'e' needs a spec with environment_version",
    ),
    Case(
        "environment-spec-without-version",
        lambda: body(nb(environment_key="e"), environments=[{"environment_key": "e", "spec": {"dependencies": ["x"]}}]),
        "$.environments[0].spec",
        "environment-version-missing",
        r"needs environment_version \(for example '4'\) or base_environment",
    ),
    Case(
        "unused-environment",
        lambda: body(environments=[{"environment_key": "spare", "spec": {"environment_version": "4"}}]),
        "$.environments[0].environment_key",
        "unused-environment",
        r"environment 'spare' is declared but no task uses it",
    ),
    Case(
        "unknown-environment",
        lambda: body(
            nb(environment_key="defualt"),
            nb("b", environment_key="default"),
            environments=[{"environment_key": "default", "spec": {"environment_version": "4"}}],
        ),
        "$.tasks[0].environment_key",
        "unknown-environment",
        r"environment 'defualt' is not declared .*did you mean 'default'\?",
    ),
    Case(
        "too-long-description",
        lambda: body(nb(description="d" * 4097)),
        "$.tasks[0].description",
        "too-long",
        r"at most 4096 characters",
    ),
    Case(
        "self-dependency",
        lambda: body(nb("a", depends_on=[{"task_key": "a"}])),
        "$.tasks[0].depends_on[0].task_key",
        "dependency-cycle",
        r"task 'a' depends on itself",
    ),
    Case(
        "dependency-cycle",
        lambda: body(
            nb("a", depends_on=[{"task_key": "c"}]),
            nb("b", depends_on=[{"task_key": "a"}]),
            nb("c", depends_on=[{"task_key": "b"}]),
        ),
        "$.tasks[0].depends_on[0].task_key",
        "dependency-cycle",
        r"in a cycle: a -> c -> b -> a \(each arrow reads 'depends on'\)",
    ),
    Case(  # the later task is a second dependency: the cycle is still looked for
        "dependency-cycle-second-dependency",
        lambda: body(
            nb("a"),
            nb("b", depends_on=[{"task_key": "a"}, {"task_key": "c"}]),
            nb("c", depends_on=[{"task_key": "b"}]),
        ),
        "$.tasks[1].depends_on[1].task_key",
        "dependency-cycle",
        r"in a cycle: b -> c -> b ",
    ),
    Case(  # a dependency with an outcome on a later condition task
        "dependency-cycle-outcome",
        lambda: body(
            {
                "task_key": "c",
                "depends_on": [{"task_key": "b"}],
                "condition_task": {"left": "1", "op": "EQUAL_TO", "right": "1"},
            },
            nb("b", depends_on=[{"task_key": "c", "outcome": "true"}]),
        ),
        "$.tasks[0].depends_on[0].task_key",
        "dependency-cycle",
        r"in a cycle: c -> b -> c ",
    ),
    Case(
        "duplicate-dependency",
        lambda: body(nb("a"), nb("b", depends_on=[{"task_key": "a"}, {"task_key": "a"}])),
        "$.tasks[1].depends_on[1].task_key",
        "duplicate-dependency",
        r"task 'b' lists 'a' twice",
    ),
    Case(
        "unknown-dependency",
        lambda: body(nb("ingest"), nb("b", depends_on=[{"task_key": "injest"}])),
        "$.tasks[1].depends_on[0].task_key",
        "unknown-dependency",
        r"task 'b' depends on 'injest', which is not a task of this run; did you mean 'ingest'\? known: 'ingest', 'b'",
    ),
    Case(
        "invalid-outcome",
        lambda: body(
            {"task_key": "c", "condition_task": {"left": "1", "op": "EQUAL_TO", "right": "1"}},
            nb("b", depends_on=[{"task_key": "c", "outcome": "yes"}]),
        ),
        "$.tasks[1].depends_on[0].outcome",
        "invalid-outcome",
        r"'true' or 'false' \(got 'yes'\)",
    ),
    Case(
        "outcome-not-condition",
        lambda: body(nb("a"), nb("b", depends_on=[{"task_key": "a", "outcome": "true"}])),
        "$.tasks[1].depends_on[0].outcome",
        "outcome-not-condition",
        r"'a' is not one; remove outcome",
    ),
    Case(
        "max-retries",
        lambda: body(nb(max_retries=-2)),
        "$.tasks[0].max_retries",
        "out-of-range",
        r"-1 \(retry forever\), 0 or more \(got -2\)",
    ),
    Case(
        "retry-interval",
        lambda: body(nb(min_retry_interval_millis=-1)),
        "$.tasks[0].min_retry_interval_millis",
        "out-of-range",
        r"0 or more",
    ),
    Case(
        "task-timeout",
        lambda: body(nb(timeout_seconds=-5)),
        "$.tasks[0].timeout_seconds",
        "out-of-range",
        r"\(got -5\)",
    ),
    Case(
        "condition-retries",
        lambda: body(
            {"task_key": "c", "condition_task": {"left": "1", "op": "EQUAL_TO", "right": "1"}, "max_retries": 2}
        ),
        "$.tasks[0].max_retries",
        "ignored-field",
        r"condition tasks are not retried",
        warning=True,
    ),
    Case(
        "no-task-type",
        lambda: body({"task_key": "a", "existing_cluster_id": ALL_PURPOSE}),
        "$.tasks[0]",
        "no-task-type",
        r"the task has no type",
    ),
    Case(
        "multiple-task-types",
        lambda: body(nb(spark_python_task={"python_file": "/a.py"})),
        "$.tasks[0]",
        "multiple-task-types",
        r"exactly one type; this one has notebook_task, spark_python_task",
    ),
    Case(
        "deprecated-task-type",
        lambda: body(on_cluster() | {"notebook_task": None, "spark_submit_task": {"parameters": ["x"]}}),
        "$.tasks[0].spark_submit_task",
        "deprecated",
        r"spark_submit_task is deprecated",
        warning=True,
    ),
    Case(
        "multiple-compute",
        lambda: body(on_cluster() | {"existing_cluster_id": ALL_PURPOSE}),
        "$.tasks[0]",
        "multiple-compute",
        r"new_cluster or existing_cluster_id, not both",
    ),
    Case(
        "cluster-on-pipeline",
        lambda: body(pipeline(existing_cluster_id=ALL_PURPOSE)),
        "$.tasks[0].existing_cluster_id",
        "compute-not-allowed",
        r"a pipeline_task does not run on a cluster; remove existing_cluster_id",
    ),
    Case(
        "libraries-on-condition",
        lambda: body(
            {
                "task_key": "c",
                "condition_task": {"left": "1", "op": "EQUAL_TO", "right": "1"},
                "libraries": [{"pypi": {"package": "x"}}],
            }
        ),
        "$.tasks[0].libraries",
        "compute-not-allowed",
        r"a condition_task does not run on a cluster; remove libraries",
    ),
    Case(
        "warehouse-notebook-on-cluster",
        lambda: body(nb(notebook_task={"notebook_path": "/a", "warehouse_id": "wh"})),
        "$.tasks[0]",
        "compute-not-allowed",
        r"warehouse_id runs on the SQL warehouse; remove the cluster",
    ),
    Case(
        "libraries-need-cluster",
        lambda: body(
            {"task_key": "a", "notebook_task": {"notebook_path": "/a"}, "libraries": [{"pypi": {"package": "x"}}]}
        ),
        "$.tasks[0].libraries",
        "libraries-need-cluster",
        r"classic compute only",
    ),
    Case(
        "missing-compute",
        lambda: body({"task_key": "a", "spark_python_task": {"python_file": "/a.py"}}),
        "$.tasks[0]",
        "missing-compute",
        r"a spark_python_task needs compute: .* environment_key",
    ),
    Case(
        "spark-submit-on-existing-cluster",
        lambda: body({"task_key": "s", "spark_submit_task": {"parameters": ["x"]}, "existing_cluster_id": ALL_PURPOSE}),
        "$.tasks[0]",
        "spark-submit-needs-new-cluster",
        r"only on a new job cluster",
        warning=True,
        alone=False,  # spark_submit_task is also deprecated
    ),
    Case(
        "git-source-missing",
        lambda: body(nb(notebook_task={"notebook_path": "etl/a", "source": "GIT"})),
        "$.tasks[0].notebook_task.source",
        "git-source-missing",
        r"source is 'GIT' but the run has no git_source",
    ),
    Case(
        "git-source-missing-sql-file",
        lambda: body(sql(file={"path": "q.sql", "source": "GIT"})),
        "$.tasks[0].sql_task.file.source",
        "git-source-missing",
        r"add one with Run\.git",
    ),
    Case(
        "for-each-inner-key",
        lambda: body(loop(nb("bad key"))),
        "$.tasks[0].for_each_task.task.task_key",
        "invalid-task-key",
        r"'bad key'",
    ),
    Case(
        "for-each-inner-depends-on",
        lambda: body(loop(nb("inner", depends_on=[{"task_key": "x"}]))),
        "$.tasks[0].for_each_task.task.depends_on",
        "invalid-value",
        r"cannot depend on other tasks",
    ),
    Case(
        "for-each-inner-compute",
        lambda: body(loop({"task_key": "i", "spark_python_task": {"python_file": "/a.py"}})),
        "$.tasks[0].for_each_task.task",
        "missing-compute",
        r"a spark_python_task needs compute",
    ),
    Case(
        "for-each-inputs",
        lambda: body(loop(inputs="1, 2, 3")),
        "$.tasks[0].for_each_task.inputs",
        "invalid-for-each-inputs",
        r"a JSON array as a string",
    ),
    Case(
        "for-each-concurrency",
        lambda: body(loop(concurrency=0)),
        "$.tasks[0].for_each_task.concurrency",
        "out-of-range",
        r"1 or more \(got 0\)",
    ),
    Case(
        "nested-for-each",
        lambda: body(loop(loop(nb("deep")))),
        "$.tasks[0].for_each_task.task.for_each_task",
        "nested-for-each",
        r"cannot repeat another for_each task",
    ),
    Case(
        "git-reference-two",
        lambda: body(
            git_source={
                "git_url": "https://github.com/a/b",
                "git_provider": "gitHub",
                "git_branch": "main",
                "git_tag": "v1",
            }
        ),
        "$.git_source",
        "git-reference",
        r"exactly one of git_branch, git_tag, git_commit; this one sets git_branch, git_tag",
    ),
    Case(
        "git-reference-none",
        lambda: body(git_source={"git_url": "https://github.com/a/b", "git_provider": "gitHub"}),
        "$.git_source",
        "git-reference",
        r"needs exactly one of git_branch, git_tag, git_commit; this one sets none",
    ),
    Case(
        "git-snapshot",
        lambda: body(
            git_source={
                "git_url": "u",
                "git_provider": "gitHub",
                "git_branch": "m",
                "git_snapshot": {"used_commit": "abc"},
            }
        ),
        "$.git_source.git_snapshot",
        "read-only-field",
        r"filled in by the workspace",
        warning=True,
    ),
    Case(
        "git-job-source",
        lambda: body(
            git_source={
                "git_url": "u",
                "git_provider": "gitHub",
                "git_branch": "m",
                "job_source": {"job_config_path": "a.yml", "import_from_git_branch": "m"},
            }
        ),
        "$.git_source.job_source",
        "ignored-field",
        r"saved jobs, not to one-time runs",
        warning=True,
    ),
    Case(
        "log-destination",
        lambda: body(
            on_cluster(cluster_log_conf={"dbfs": {"destination": "dbfs:/l"}, "volumes": {"destination": "/Volumes/l"}})
        ),
        "$.tasks[0].new_cluster.cluster_log_conf",
        "storage-kind",
        r"cluster_log_conf takes exactly one of dbfs, s3, volumes; this one sets dbfs, volumes",
    ),
    Case(
        "init-script-kind",
        lambda: body(on_cluster(init_scripts=[{"workspace": {"destination": "/a.sh"}}, {}])),
        "$.tasks[0].new_cluster.init_scripts[1]",
        "storage-kind",
        r"an init script needs exactly one of workspace, volumes, s3, abfss, gcs, file, dbfs",
    ),
    Case(
        "init-script-dbfs",
        lambda: body(on_cluster(init_scripts=[{"dbfs": {"destination": "dbfs:/a.sh"}}])),
        "$.tasks[0].new_cluster.init_scripts[0].dbfs",
        "deprecated",
        r"DBFS are deprecated",
        warning=True,
    ),
    Case(
        "acl-principal",
        lambda: body(access_control_list=[{"user_name": "a@x", "group_name": "g", "permission_level": "CAN_VIEW"}]),
        "$.access_control_list[0]",
        "acl-principal",
        r"exactly one of user_name, group_name, service_principal_name; this one sets user_name, group_name",
    ),
    Case(
        "acl-permission",
        lambda: body(access_control_list=[{"group_name": "g"}]),
        "$.access_control_list[0]",
        "missing-field",
        r"needs a permission_level",
    ),
    Case(
        "run-as-principal",
        lambda: body(run_as={}),
        "$.run_as",
        "run-as-principal",
        r"run_as needs exactly one of user_name, service_principal_name, group_name",
    ),
    Case(
        "subscriber-kind",
        lambda: body(
            sql(dashboard={"dashboard_id": "d", "subscriptions": [{"user_name": "a@x", "destination_id": "d1"}]})
        ),
        "$.tasks[0].sql_task.dashboard.subscriptions[0]",
        "subscriber-kind",
        r"a subscriber takes exactly one of user_name, destination_id",
    ),
    Case(
        "autoscale-min",
        lambda: body(on_cluster(num_workers=None, autoscale={"min_workers": -1, "max_workers": 2})),
        "$.tasks[0].new_cluster.autoscale.min_workers",
        "out-of-range",
        r"min_workers must be 0 or more \(got -1\)",
    ),
    Case(
        "autoscale-max",
        lambda: body(on_cluster(num_workers=None, autoscale={"min_workers": 4, "max_workers": 4})),
        "$.tasks[0].new_cluster.autoscale.max_workers",
        "out-of-range",
        r"greater than min_workers \(got 4 <= 4\)",
    ),
    Case(
        "autoscale-no-max",
        lambda: body(on_cluster(num_workers=None, autoscale={"min_workers": 1})),
        "$.tasks[0].new_cluster.autoscale",
        "missing-field",
        r"autoscale needs max_workers",
    ),
    Case(
        "cluster-size-conflict",
        lambda: body(on_cluster(autoscale={"min_workers": 1, "max_workers": 2})),
        "$.tasks[0].new_cluster",
        "cluster-size-conflict",
        r"num_workers or autoscale, not both",
    ),
    Case(
        "missing-cluster-size",
        lambda: body(on_cluster(num_workers=None)),
        "$.tasks[0].new_cluster",
        "missing-cluster-size",
        r"needs num_workers \(0 for a single node\) or autoscale",
    ),
    Case(
        "int64",
        lambda: body(nb(timeout_seconds=2**63)),
        "$.tasks[0].timeout_seconds",
        "out-of-range",
        r"9223372036854775808 is outside the 64-bit integers the API takes",
    ),
    Case(
        "single-task-form",
        lambda: {"run_name": "x", "notebook_task": {"notebook_path": "/n"}, "existing_cluster_id": ALL_PURPOSE},
        "$",
        "single-task-form",
        r"spec.with_tasks_form\(\) gives the same run with tasks\[\]",
        warning=True,
    ),
    Case(
        "num-workers",
        lambda: body(on_cluster(num_workers=-1)),
        "$.tasks[0].new_cluster.num_workers",
        "out-of-range",
        r"0 or more \(got -1\)",
    ),
    Case(
        "too-many-tags",
        lambda: body(on_cluster(custom_tags={f"t{i}": "v" for i in range(46)})),
        "$.tasks[0].new_cluster.custom_tags",
        "too-many-tags",
        r"at most 45 custom tags \(got 46\)",
    ),
    Case(
        "tag-key-length",
        lambda: body(on_cluster(custom_tags={"cost center " + "k" * 120: "v"})),
        "$.tasks[0].new_cluster.custom_tags['cost center " + "k" * 120 + "']",
        "invalid-tag",
        r"tag keys have 1 to 127 characters",
    ),
    Case(
        "tag-value-length",
        lambda: body(on_cluster(custom_tags={"team": "v" * 256})),
        "$.tasks[0].new_cluster.custom_tags.team",
        "invalid-tag",
        r"at most 255 characters",
    ),
    Case(
        "too-many-ssh-keys",
        lambda: body(on_cluster(ssh_public_keys=[f"ssh-ed25519 k{i}" for i in range(11)])),
        "$.tasks[0].new_cluster.ssh_public_keys",
        "too-many-entries",
        r"at most 10 SSH public keys \(got 11\)",
    ),
    Case(
        "needs-kind",
        lambda: body(on_cluster(is_single_node=True)),
        "$.tasks[0].new_cluster.is_single_node",
        "needs-kind",
        r"is_single_node only applies with kind='CLASSIC_PREVIEW'",
    ),
    Case(
        "autotermination",
        lambda: body(on_cluster(autotermination_minutes=30)),
        "$.tasks[0].new_cluster.autotermination_minutes",
        "ignored-field",
        r"autotermination_minutes does not apply",
        warning=True,
    ),
    Case(
        "missing-spark-version",
        lambda: body({"task_key": "a", "notebook_task": {"notebook_path": "/a"}, "new_cluster": {"num_workers": 1}}),
        "$.tasks[0].new_cluster",
        "missing-spark-version",
        r"no spark_version and no policy_id",
        warning=True,
    ),
    Case(
        "aws-spot-bid",
        lambda: body(on_cluster(aws_attributes={"spot_bid_price_percent": 0})),
        "$.tasks[0].new_cluster.aws_attributes.spot_bid_price_percent",
        "out-of-range",
        r"between 1 and 10000",
    ),
    Case(
        "aws-ebs-count",
        lambda: body(on_cluster(aws_attributes={"ebs_volume_count": 11})),
        "$.tasks[0].new_cluster.aws_attributes.ebs_volume_count",
        "out-of-range",
        r"between 0 and 10",
    ),
    Case(
        "aws-first-on-demand",
        lambda: body(on_cluster(aws_attributes={"first_on_demand": -1})),
        "$.tasks[0].new_cluster.aws_attributes.first_on_demand",
        "out-of-range",
        r"0 or more",
    ),
    Case(
        "azure-spot-price",
        lambda: body(on_cluster(azure_attributes={"spot_bid_max_price": -2})),
        "$.tasks[0].new_cluster.azure_attributes.spot_bid_max_price",
        "out-of-range",
        r"-1 \(pay up to on-demand\) or above 0",
    ),
    Case(
        "gcp-preemptible",
        lambda: body(on_cluster(gcp_attributes={"use_preemptible_executors": True})),
        "$.tasks[0].new_cluster.gcp_attributes.use_preemptible_executors",
        "deprecated",
        r"use availability",
        warning=True,
    ),
    Case(
        "too-many-webhooks",
        lambda: body(webhook_notifications={"on_failure": [{"id": f"d{i}"} for i in range(4)]}),
        "$.webhook_notifications.on_failure",
        "too-many-entries",
        r"at most 3 destinations per event \(got 4\)",
    ),
    Case(
        "email-skipped-runs",
        lambda: body(email_notifications={"no_alert_for_skipped_runs": True}),
        "$.email_notifications.no_alert_for_skipped_runs",
        "deprecated",
        r"use notification_settings",
        warning=True,
    ),
    Case(
        "health-value",
        lambda: body(health={"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": -1}]}),
        "$.health.rules[0].value",
        "out-of-range",
        r"0 or more \(got -1\)",
    ),
    Case(
        "environment-client",
        lambda: body(nb(environment_key="e"), environments=[{"environment_key": "e", "spec": {"client": "2"}}]),
        "$.environments[0].spec.client",
        "deprecated",
        r"use environment_version",
        warning=True,
    ),
    Case(
        "env-var-name",
        lambda: body(environment_variables=[{"environment_variables_key": "v", "spec": {"variables": {"1BAD": "x"}}}]),
        "$.environment_variables[0].spec.variables['1BAD']",
        "invalid-value",
        r"variable names match",
    ),
    Case(
        "env-var-name-trailing-newline",
        lambda: body(
            environment_variables=[{"environment_variables_key": "v", "spec": {"variables": {"GOOD\n": "x"}}}]
        ),
        "$.environment_variables[0].spec.variables['GOOD\n']",
        "invalid-value",
        r"variable names match",
    ),
    Case(
        "env-var-value",
        lambda: body(
            environment_variables=[{"environment_variables_key": "v", "spec": {"variables": {"GOOD": "x" * 513}}}]
        ),
        "$.environment_variables[0].spec.variables.GOOD",
        "too-long",
        r"at most 512 characters",
    ),
    Case(
        "env-var-count",
        lambda: body(
            environment_variables=[
                {"environment_variables_key": "v", "spec": {"variables": {f"V{i}": "x" for i in range(21)}}}
            ]
        ),
        "$.environment_variables[0].spec.variables",
        "too-many-entries",
        r"at most 20 variables per entry \(got 21\)",
    ),
    Case(
        "env-var-files",
        lambda: body(
            environment_variables=[
                {"environment_variables_key": "v", "spec": {"files": [f"/f{i}.env" for i in range(6)]}}
            ]
        ),
        "$.environment_variables[0].spec.files",
        "too-many-entries",
        r"at most 5 \.env files per entry \(got 6\)",
    ),
    Case(
        "notebook-parameters-size",
        lambda: body(nb(notebook_task={"notebook_path": "/a", "base_parameters": {"blob": "x" * (1024 * 1024)}})),
        "$.tasks[0].notebook_task.base_parameters",
        "payload-too-large",
        r"at most 1 MB",
    ),
    Case(
        # 200,000 control characters: 0.2 M characters, 1.2 MB as JSON (each one written as \u00XX).
        "notebook-parameters-size-escaped",
        lambda: body(nb(notebook_task={"notebook_path": "/a", "base_parameters": {"ctl": "\x01" * 200_000}})),
        "$.tasks[0].notebook_task.base_parameters",
        "payload-too-large",
        r"at most 1 MB",
    ),
    Case(
        "run-job-legacy-size",
        lambda: body({"task_key": "r", "run_job_task": {"job_id": 1, "notebook_params": {"p": "x" * 10_001}}}),
        "$.tasks[0].run_job_task.notebook_params",
        "payload-too-large",
        r"at most 10,000 bytes",
        alone=False,
    ),
    Case(
        "run-job-legacy",
        lambda: body({"task_key": "r", "run_job_task": {"job_id": 1, "jar_params": ["x"]}}),
        "$.tasks[0].run_job_task.jar_params",
        "deprecated",
        r"jar_params is deprecated; pass job_parameters",
        warning=True,
    ),
    Case(
        "run-job-python-ascii",
        lambda: body({"task_key": "r", "run_job_task": {"job_id": 1, "python_params": ["ok", "naïve"]}}),
        "$.tasks[0].run_job_task.python_params[1]",
        "invalid-value",
        r"must be ASCII",
    ),
    Case(
        "pipeline-parameters-size",
        lambda: body(pipeline(pipeline_task={"pipeline_id": "p", "parameters": {"k": "v" * 10_000}})),
        "$.tasks[0].pipeline_task.parameters",
        "payload-too-large",
        r"at most 10,000 characters",
    ),
    Case(
        "spark-jar-uri",
        lambda: body(nb(notebook_task=None, spark_jar_task={"main_class_name": "M", "jar_uri": "/a.jar"})),
        "$.tasks[0].spark_jar_task.jar_uri",
        "deprecated",
        r"list the JAR in the task's libraries",
        warning=True,
    ),
    Case(
        "spark-jar-repl",
        lambda: body(nb(notebook_task=None, spark_jar_task={"main_class_name": "M", "run_as_repl": True})),
        "$.tasks[0].spark_jar_task.run_as_repl",
        "deprecated",
        r"run_as_repl is deprecated",
        warning=True,
    ),
    Case(
        "egg-library",
        lambda: body(nb(libraries=[{"egg": "/a.egg"}])),
        "$.tasks[0].libraries[0]",
        "deprecated",
        r"use a wheel",
        warning=True,
    ),
    Case(
        "wheel-parameters-conflict",
        lambda: body(
            nb(
                notebook_task=None,
                python_wheel_task={
                    "package_name": "p",
                    "entry_point": "m",
                    "parameters": ["a"],
                    "named_parameters": {"a": "b"},
                },
            )
        ),
        "$.tasks[0].python_wheel_task",
        "wheel-parameters-conflict",
        r"parameters or named_parameters, not both",
    ),
    Case(
        "sql-task-form-none",
        lambda: body(sql()),
        "$.tasks[0].sql_task",
        "sql-task-form",
        r"a sql_task needs exactly one of query, file, dashboard, alert; this one sets none",
    ),
    Case(
        "sql-task-form-two",
        lambda: body(sql(query={"query_id": "q"}, alert={"alert_id": "a"})),
        "$.tasks[0].sql_task",
        "sql-task-form",
        r"takes exactly one of query, file, dashboard, alert; this one sets query, alert",
    ),
    Case(
        "sql-alert-parameters",
        lambda: body(sql(alert={"alert_id": "a"}, parameters={"p": "1"})),
        "$.tasks[0].sql_task.parameters",
        "invalid-value",
        r"parameters do not apply to a SQL alert task",
    ),
    Case(
        "dbt-no-commands",
        lambda: body(dbt(commands=[])),
        "$.tasks[0].dbt_task.commands",
        "out-of-range",
        r"1 to 10 commands \(got 0\)",
    ),
    Case(
        "dbt-too-many-commands",
        lambda: body(dbt(commands=["dbt run"] * 11)),
        "$.tasks[0].dbt_task.commands",
        "out-of-range",
        r"1 to 10 commands \(got 11\)",
    ),
    Case(
        "dbt-command",
        lambda: body(dbt(commands=["dbt deps", "run"])),
        "$.tasks[0].dbt_task.commands[1]",
        "invalid-value",
        r"dbt commands start with 'dbt' \(got 'run'\)",
    ),
    Case(
        "dbt-catalog",
        lambda: body(dbt(catalog="main")),
        "$.tasks[0].dbt_task.catalog",
        "invalid-value",
        r"catalog needs warehouse_id",
    ),
    Case(
        "dbt-profiles",
        lambda: body(dbt(warehouse_id="wh", profiles_directory="p")),
        "$.tasks[0].dbt_task.profiles_directory",
        "invalid-value",
        r"only applies without warehouse_id",
    ),
]

CASES = LOAD_CASES + BUILDER_CASES + RUN_CASES


def _drop_nones(value: Any) -> Any:
    """Case bodies use None to remove a key from a helper's dict."""
    if isinstance(value, dict):
        return {k: _drop_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nones(v) for v in value]
    return value


def _with_nones_dropped(thing: Any) -> Any:
    return _drop_nones(thing) if isinstance(thing, dict) else thing


@pytest.mark.parametrize("case", [c for c in CASES if c.id != "unknown-field-non-strict"], ids=lambda c: c.id)
def test_problem_has_path_code_and_message(case: Case) -> None:
    """The mistake gives a problem (or warning) at the expected path, with its code and a helpful message."""
    errors, warnings = outcome(_with_nones_dropped(case.make()))
    found = warnings if case.warning else errors
    matching = [p for p in found if p.path == case.path and p.code == case.code]
    assert matching, f"no {case.code} at {case.path}; got errors {errors} and warnings {warnings}"
    assert any(re.search(case.message, p.message) for p in matching), matching
    if case.alone:
        if case.warning:
            assert errors == []
            assert [p for p in warnings if p.code == case.code] == matching
        else:
            assert errors == matching


def test_non_strict_unknown_field_is_a_warning() -> None:
    """With strict=False an unknown key is a warning with its path, and the body keeps the key."""
    data = body(new_top_field={"x": 1})
    spec = RunSpec.from_dict(data, strict=False)
    case = next(c for c in CASES if c.id == "unknown-field-non-strict")
    [warning] = [w for w in spec.warnings if w.code == case.code]
    assert warning.path == case.path
    assert re.search(case.message, warning.message)
    assert spec.to_dict() == data


def _codes_in(path: Path) -> set[str]:
    """The problem codes a source file can report: string constants passed as a problem's code."""
    positions = {"error": 1, "warn": 1, "problem": 1, "Problem": 1, "_exactly_one": 4}
    codes: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        index = positions.get(name or "")
        if index is None or len(node.args) <= index:
            continue
        arg = node.args[index]
        if isinstance(arg, ast.Name):  # a code picked earlier in the function: collect its string values
            codes |= {
                c.value
                for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == arg.id for t in n.targets)
                for c in ast.walk(n.value)
                if isinstance(c, ast.Constant)
                and isinstance(c.value, str)
                and re.fullmatch(r"[a-z]+(-[a-z]+)*", c.value)
            }
        for c in ast.walk(arg):
            if isinstance(c, ast.Constant) and isinstance(c.value, str) and re.fullmatch(r"[a-z]+(-[a-z]+)*", c.value):
                codes.add(c.value)
    return codes


#: The job converter's modules: their codes are exercised by tests/test_jobs*.py (see test_jobs.py).
JOB_CONVERTER = {
    "spec/jobs.py",
    "spec/job_conversion/_job_to_run.py",
    "spec/job_conversion/_job_parameters.py",
    "spec/job_conversion/_run_to_job.py",
}
SOURCES = sorted(
    name
    for folder in ("spec", "build")
    for path in (PACKAGE / folder).rglob("*.py")
    if (name := str(path.relative_to(PACKAGE))) not in JOB_CONVERTER
)


def test_every_code_in_the_source_has_a_case() -> None:
    """Each problem code the spec layer and builder can report is exercised by a case above."""
    in_source = set().union(*(_codes_in(PACKAGE / name) for name in SOURCES))
    assert {"dependency-cycle", "unknown-field", "library-kind", "unknown-cluster"} <= in_source  # the scan works
    assert in_source - {c.code for c in CASES} == set()


def test_several_problems_are_reported_at_once_in_a_stable_order() -> None:
    """One SpecError lists every problem: load problems first, then checks in body order."""
    data = {
        "run_name": "many",
        "idempotency_token": "t" * 70,
        "tasks": [
            {"task_key": "a b", "notebook_task": {"notebook_path": "/a"}, "existing_cluster_id": ALL_PURPOSE},
            {"task_key": "b", "depends_on": [{"task_key": "zzz"}], "pipeline_task": {"pipeline_id": "p"}},
            {"task_key": "c", "spark_python_task": {"python_file": "/c.py", "parmeters": ["x"]}},
        ],
    }
    with pytest.raises(SpecError) as first:
        RunSpec.from_dict(data)
    with pytest.raises(SpecError) as second:
        RunSpec.from_dict(copy.deepcopy(data))
    expected = [
        ("$.tasks[2].spark_python_task.parmeters", "unknown-field"),
        ("$.idempotency_token", "too-long"),
        ("$.tasks[0].task_key", "invalid-task-key"),
        ("$.tasks[1].depends_on[0].task_key", "unknown-dependency"),
        ("$.tasks[2]", "missing-compute"),
    ]
    assert [(p.path, p.code) for p in first.value.problems] == expected
    assert first.value.problems == second.value.problems
    assert first.value.codes == tuple(code for _, code in expected)


def test_spec_error_text_lists_one_problem_per_line() -> None:
    """str(SpecError) is a count line, then one line per problem with its path, message and code."""
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(body(nb("a"), nb("a"), idempotency_token=""))
    lines = str(info.value).splitlines()
    assert lines[0] == "2 problems in the request body:"
    assert len(lines) == 3
    assert lines[1] == "  $.idempotency_token: " + info.value.problems[0].message + " [invalid-value]"
    assert lines[2].startswith("  $.tasks[1].task_key: task key 'a' is already used")
    assert lines[2].endswith("[duplicate-task-key]")


def test_spec_error_is_a_value_error_and_carries_warnings() -> None:
    """SpecError is a ValueError, and keeps the warnings found alongside the problems."""
    data = body(nb("a"), nb("a"), email_notifications={"no_alert_for_skipped_runs": True})
    with pytest.raises(ValueError) as info:
        RunSpec.from_dict(data)
    assert isinstance(info.value, SpecError)
    assert [w.code for w in info.value.warnings] == ["deprecated"]


def test_problem_is_a_read_only_value() -> None:
    """Problems compare by value, hash, show their fields, and cannot be changed."""
    p = Problem("$.tasks", "no-tasks", "a run needs at least one task")
    assert p == Problem("$.tasks", "no-tasks", "a run needs at least one task")
    assert len({p, Problem("$.tasks", "no-tasks", "a run needs at least one task")}) == 1
    assert str(p) == "$.tasks: a run needs at least one task [no-tasks]"
    assert p.to_dict() == {"path": "$.tasks", "code": "no-tasks", "message": "a run needs at least one task"}
    with pytest.raises(AttributeError):
        p.code = "other"


def test_compile_and_check_report_the_same_problems() -> None:
    """Run.check() returns the problems compile() raises, and nothing for a valid run."""
    bad = Run("x").task(SparkPythonTask("/a.py")).task(NotebookTask("/b"), depends_on=["nope"])
    with pytest.raises(SpecError) as info:
        bad.compile()
    assert bad.check() == info.value.problems
    assert [(p.path, p.code) for p in bad.check()] == [
        ("$.tasks[0]", "missing-compute"),
        ("$.tasks[1].depends_on[0].task_key", "unknown-dependency"),
    ]
    assert Run("x").task(PipelineTask("p")).check() == ()


def test_class_built_run_is_checked_like_a_loaded_one() -> None:
    """RunSpec(...) built from classes runs the same checks as from_dict, with the same paths."""
    with pytest.raises(SpecError) as built:
        RunSpec(tasks=[SubmitTask("a", spark_python_task=SparkPythonTask("/a.py"))])
    with pytest.raises(SpecError) as loaded:
        RunSpec.from_dict({"tasks": [{"task_key": "a", "spark_python_task": {"python_file": "/a.py"}}]})
    assert [(p.path, p.code) for p in built.value.problems] == [(p.path, p.code) for p in loaded.value.problems]
    assert built.value.codes == ("missing-compute",)


def test_builder_load_defers_whole_run_checks() -> None:
    """Run.from_dict loads a body with a cycle (to mend it); compile() then reports the cycle."""
    data = body(nb("a", depends_on=[{"task_key": "b"}]), nb("b", depends_on=[{"task_key": "a"}]))
    run = Run.from_dict(data)
    with pytest.raises(SpecError) as info:
        run.compile()
    assert info.value.codes == ("dependency-cycle",)
    mended = run.update_task("a", depends_on=None).compile().to_dict()
    assert "depends_on" not in mended["tasks"][0]


def test_body_over_ten_megabytes_is_too_large() -> None:
    """A request body over the API's 10 MB limit is payload-too-large at $ when read from JSON and before sending."""
    blob = "x" * 1_000_000  # each notebook's parameters stay under their own 1 MB limit
    tasks = [nb(f"t{i}", notebook_task={"notebook_path": "/a", "base_parameters": {"blob": blob}}) for i in range(11)]
    text = json.dumps(body(*tasks))
    with pytest.raises(SpecError) as caught:
        RunSpec.from_json(text)
    assert [(p.path, p.code) for p in caught.value.problems] == [("$", "payload-too-large")]
    assert re.search(r"at most 10 MB", caught.value.problems[0].message)
    spec = RunSpec.from_dict(body(*tasks))  # a dict has no size until it is written out
    with pytest.raises(SpecError) as caught:
        submit(spec, host="https://adb-1.azuredatabricks.net", token="t", deadline=0)
    assert [(p.path, p.code) for p in caught.value.problems] == [("$", "payload-too-large")]


@pytest.mark.parametrize(
    "make",
    [
        lambda: RunSpec(tasks=[SubmitTask("p", pipeline_task=PipelineTask("p"))], extra={"job_clusters": []}),
        lambda: Run("x").task(PipelineTask("p"), extra={"job_cluster_key": "shared"}).compile(),
        lambda: Run("x").task(PipelineTask("p")).set(extra={"tags": {"team": "etl"}}).compile(),
    ],
    ids=["job_clusters", "job_cluster_key", "tags"],
)
def test_extra_cannot_send_a_field_the_api_rejects(make: Callable[[], Any]) -> None:
    """extra={...} cannot carry job_clusters, job_cluster_key or tags, which a loaded body may not have either."""
    with pytest.raises((TypeError, SpecError), match=r"shared job clusters|no longer part of the runs/submit body"):
        make()


def test_num_workers_zero_beside_autoscale_is_not_a_conflict() -> None:
    """Databricks' bundle tooling writes num_workers: 0 with autoscale, and the service takes it."""
    data = body(on_cluster(num_workers=0, autoscale={"min_workers": 1, "max_workers": 4}))
    assert RunSpec.from_dict(data).to_dict() == data
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(body(on_cluster(num_workers=1, autoscale={"min_workers": 1, "max_workers": 4})))
    assert [p.code for p in info.value.problems] == ["cluster-size-conflict"]


def test_notebook_parameters_are_measured_as_sent() -> None:
    """900 KB of UTF-8 (300,000 CJK characters, 1.8 MB if escaped) is under the 1 MB limit: no problem."""
    spec = RunSpec.from_dict(
        body(nb(notebook_task={"notebook_path": "/a", "base_parameters": {"text": "\u5b57" * 300_000}}))
    )
    assert len(spec.to_json().encode("utf-8")) < 1024 * 1024
    assert not [p for p in spec.warnings if p.code == "payload-too-large"]
