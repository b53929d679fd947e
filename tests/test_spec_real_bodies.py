"""
Bodies real clients send, read as the service reads them.

Airflow's ``DatabricksSubmitRunOperator`` turns every number into a string and, given named arguments,
posts the Jobs API 2.0 single-task form (the task's fields at the top level). Its examples write
``git_provider`` in lower case, which the service accepts. A ``new_cluster`` needs ``num_workers`` or
``autoscale`` (single node is ``num_workers: 0``), unless a cluster policy may size it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from runspec import NewCluster, NotebookTask, Run, RunSpec, SpecError
from runspec.spec import GitSource

CLUSTER: dict[str, Any] = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": "2"}

#: DatabricksSubmitRunOperator(notebook_task=..., new_cluster=..., libraries=..., timeout_seconds=3600)
AIRFLOW_SINGLE_TASK: dict[str, Any] = {
    "run_name": "airflow-ingest",
    "notebook_task": {"notebook_path": "/Users/etl/ingest", "base_parameters": {"day": "2024-01-01"}},
    "new_cluster": CLUSTER,
    "libraries": [{"pypi": {"package": "pandas==2.2.2"}}],
    "timeout_seconds": "3600",
    "max_retries": "1",
}

#: DatabricksSubmitRunOperator(tasks=[...], git_source={...}) after Airflow's normalisation.
AIRFLOW_TASKS: dict[str, Any] = {
    "run_name": "airflow-dbt",
    "git_source": {"git_url": "https://github.com/org/repo", "git_provider": "github", "git_branch": "main"},
    "tasks": [
        {
            "task_key": "dbt",
            "dbt_task": {"commands": ["dbt deps", "dbt run"], "project_directory": "", "source": "GIT"},
            "new_cluster": CLUSTER,
            "libraries": [{"pypi": {"package": "dbt-databricks>=1.0.0,<2.0.0"}}],
            "timeout_seconds": "0",
        }
    ],
}


def _codes(problems: Any) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in problems]


# -- git_provider ------------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["github", "GITHUB", "gitHub", "gitlab", "bitbucketcloud", "AZUREDEVOPSSERVICES"])
def test_git_provider_matches_whatever_its_case_and_stays_as_written(provider: str) -> None:
    body = copy.deepcopy(AIRFLOW_TASKS)
    body["git_source"]["git_provider"] = provider
    spec = RunSpec.from_dict(body)
    assert spec.to_dict()["git_source"]["git_provider"] == provider
    assert RunSpec.from_json(spec.to_json()) == spec
    assert GitSource("https://github.com/o/r", provider, git_branch="main").git_provider == provider  # type: ignore[arg-type]


def test_a_git_provider_that_is_no_provider_is_still_refused() -> None:
    body = copy.deepcopy(AIRFLOW_TASKS)
    body["git_source"]["git_provider"] = "gitbub"
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(body)
    assert _codes(err.value.problems) == [("$.git_source.git_provider", "invalid-enum")]
    assert "did you mean 'gitHub'" in err.value.problems[0].message


def test_the_builder_keeps_its_canonical_provider() -> None:
    spec = Run("x").git("https://github.com/o/r", branch="main").task(NotebookTask("/n"), existing_cluster_id="c")
    assert spec.compile().to_dict()["git_source"]["git_provider"] == "gitHub"


def test_airflow_normalised_tasks_body_loads_with_warnings_and_round_trips() -> None:
    spec = RunSpec.from_dict(AIRFLOW_TASKS)
    assert spec.to_dict() == AIRFLOW_TASKS
    assert {w.code for w in spec.warnings} == {"number-as-string"}


# -- the size of a new cluster ---------------------------------------------------------------------------


def _task_on(cluster: dict[str, Any]) -> dict[str, Any]:
    return {"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/n"}, "new_cluster": cluster}]}


def test_a_new_cluster_with_no_size_is_a_problem_at_the_cluster() -> None:
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(_task_on({"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge"}))
    assert _codes(err.value.problems) == [("$.tasks[0].new_cluster", "missing-cluster-size")]
    assert "num_workers" in err.value.problems[0].message


@pytest.mark.parametrize(
    "size",
    [
        {"num_workers": 0},
        {"num_workers": 3},
        {"autoscale": {"min_workers": 1, "max_workers": 4}},
        {"policy_id": "ABC123"},
        {"kind": "CLASSIC_PREVIEW", "is_single_node": True},
    ],
)
def test_a_sized_cluster_or_one_a_policy_may_size_is_fine(size: dict[str, Any]) -> None:
    spec = RunSpec.from_dict(_task_on({"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", **size}))
    assert "missing-cluster-size" not in {w.code for w in spec.warnings}


def test_the_size_rule_applies_to_named_clusters_and_to_the_task_inside_a_for_each() -> None:
    unsized = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge")
    with pytest.raises(SpecError) as err:
        Run("x").cluster("c", unsized).task(NotebookTask("/a")).task(NotebookTask("/b")).compile()
    assert _codes(err.value.problems) == [("$.tasks[0].new_cluster", "missing-cluster-size")]
    body = {
        "tasks": [
            {
                "task_key": "loop",
                "for_each_task": {
                    "inputs": "[1]",
                    "task": {"task_key": "in", "notebook_task": {"notebook_path": "/n"}, "new_cluster": {}},
                },
            }
        ]
    }
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict(body)
    assert ("$.tasks[0].for_each_task.task.new_cluster", "missing-cluster-size") in _codes(err.value.problems)


# -- the single-task form --------------------------------------------------------------------------------


def test_the_single_task_form_loads_with_a_warning_and_round_trips() -> None:
    spec = RunSpec.from_dict(AIRFLOW_SINGLE_TASK)
    assert spec.to_dict() == AIRFLOW_SINGLE_TASK
    assert json.loads(spec.to_json()) == AIRFLOW_SINGLE_TASK
    assert RunSpec.from_json(spec.to_json()) == spec
    codes = _codes(spec.warnings)
    assert ("$", "single-task-form") in codes
    assert ("$.timeout_seconds", "number-as-string") in codes
    assert ("$.new_cluster.num_workers", "number-as-string") in codes


def test_the_single_task_form_gives_its_tasks_form() -> None:
    spec = RunSpec.from_dict(AIRFLOW_SINGLE_TASK).with_tasks_form()
    body = spec.to_dict()
    assert body["run_name"] == "airflow-ingest" and body["timeout_seconds"] == "3600"
    (task,) = body["tasks"]
    assert task == {
        "task_key": "ingest",
        "notebook_task": AIRFLOW_SINGLE_TASK["notebook_task"],
        "new_cluster": CLUSTER,
        "libraries": AIRFLOW_SINGLE_TASK["libraries"],
        "max_retries": "1",
    }
    assert "single-task-form" not in {w.code for w in spec.warnings}
    assert spec.with_tasks_form() is spec


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"notebook_task": {"notebook_pth": "/x"}},
            [("$.notebook_task.notebook_pth", "unknown-field"), ("$.notebook_task.notebook_path", "missing-field")],
        ),
        ({"existing_cluster_id": "0923-164208-meows279"}, [("$", "multiple-compute")]),
        ({"new_cluster": {"spark_version": "x"}}, [("$.new_cluster", "missing-cluster-size")]),
        ({"max_retries": -5}, [("$.max_retries", "out-of-range")]),
        ({"pipeline_task": {"pipeline_id": "p"}}, [("$", "multiple-task-types")]),
    ],
)
def test_the_checks_apply_to_the_single_task_as_to_a_one_task_run(
    change: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict({**AIRFLOW_SINGLE_TASK, **change})
    assert _codes(err.value.problems) == expected


def test_a_single_task_without_compute_is_reported_as_a_one_task_run_would_be() -> None:
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict({"run_name": "x", "spark_python_task": {"python_file": "/a.py"}})
    assert _codes(err.value.problems) == [("$", "missing-compute")]


def test_a_single_task_body_through_the_builder_is_unchanged() -> None:
    assert Run.from_dict(AIRFLOW_SINGLE_TASK).compile().to_dict() == AIRFLOW_SINGLE_TASK


def test_a_body_with_tasks_and_no_task_fields_is_not_the_single_task_form() -> None:
    spec = RunSpec.from_dict(AIRFLOW_TASKS)
    assert spec.with_tasks_form() is spec
    with pytest.raises(SpecError) as err:
        RunSpec.from_dict({"run_name": "x"})
    assert _codes(err.value.problems) == [("$.tasks", "no-tasks")]
