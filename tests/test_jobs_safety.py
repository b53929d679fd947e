"""
Converting a saved job changes nothing quietly: parameter defaults that refer to other parameters get
their values (or a loop is a problem with its path), references in map keys are replaced (or a clash is
a problem), and a parameter defined twice is a problem instead of the last one winning.
"""

from __future__ import annotations

from typing import Any

import pytest

from runspec import RunSpec, SpecError


def job(parameters: list[dict[str, Any]], base_parameters: dict[str, str], *, path: str = "/n") -> dict[str, Any]:
    return {
        "name": "nightly",
        "parameters": parameters,
        "tasks": [
            {
                "task_key": "t",
                "existing_cluster_id": "0101-abc",
                "notebook_task": {"notebook_path": path, "base_parameters": base_parameters},
            }
        ],
    }


def notebook(spec: RunSpec) -> dict[str, Any]:
    task: dict[str, Any] = spec.to_dict()["tasks"][0]["notebook_task"]
    return task


def problems(settings: dict[str, Any], **given: str) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(settings, parameters=given or None)
    return [(p.path, p.code) for p in info.value.problems]


def test_defaults_that_refer_to_other_parameters_are_resolved_through_every_step() -> None:
    settings = job(
        [
            {"name": "table", "default": "{{job.parameters.schema}}.orders"},
            {"name": "schema", "default": "{{job.parameters.env}}_sales"},
            {"name": "env", "default": "dev"},
        ],
        {"target": "{{job.parameters.table}}"},
        path="/etl/{{job.parameters.schema}}",
    )
    spec = RunSpec.from_job_settings(settings)
    assert notebook(spec) == {
        "notebook_path": "/etl/dev_sales",
        "base_parameters": {
            "target": "dev_sales.orders",
            "table": "dev_sales.orders",
            "schema": "dev_sales",
            "env": "dev",
        },
    }
    given = RunSpec.from_job_settings(settings, parameters={"env": "prod"})
    assert notebook(given)["base_parameters"]["target"] == "prod_sales.orders"


def test_parameters_that_refer_to_each_other_in_a_loop_are_one_problem_with_the_path() -> None:
    settings = job(
        [
            {"name": "a", "default": "{{job.parameters.b}}"},
            {"name": "b", "default": "x-{{job.parameters.a}}"},
            {"name": "self", "default": "{{job.parameters.self}}"},
        ],
        {"v": "{{job.parameters.a}}"},
    )
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(settings)
    found = [(p.path, p.code) for p in info.value.problems]
    assert found == [
        ("$.parameters[0].default", "job-parameter-cycle"),
        ("$.parameters[2].default", "job-parameter-cycle"),
    ]
    assert "'a' -> 'b' -> 'a'" in info.value.problems[0].message


def test_a_default_that_refers_to_a_parameter_without_a_value_is_a_problem_at_the_default() -> None:
    settings = job([{"name": "a", "default": "{{job.parameters.b}}"}, {"name": "b", "default": ""}], {})
    settings["parameters"][1].pop("default")
    assert ("$.parameters[0].default", "missing-job-parameter") in problems(settings)


def test_references_in_map_keys_are_replaced() -> None:
    settings = job([{"name": "region", "default": "emea"}], {"out_{{job.parameters.region}}": "1"})
    assert notebook(RunSpec.from_job_settings(settings))["base_parameters"] == {"out_emea": "1", "region": "emea"}


def test_a_map_key_that_becomes_another_key_is_a_problem() -> None:
    settings = job([{"name": "k", "default": "day"}], {"day": "1", "{{job.parameters.k}}": "2"})
    assert problems(settings) == [
        ("$.tasks[0].notebook_task.base_parameters['{{job.parameters.k}}']", "job-parameter-key-clash")
    ]


def test_a_parameter_defined_twice_is_a_problem() -> None:
    settings = job(
        [{"name": "env", "default": "dev"}, {"name": "env", "default": "prod"}], {"e": "{{job.parameters.env}}"}
    )
    assert problems(settings) == [("$.parameters[1].name", "duplicate-job-parameter")]
