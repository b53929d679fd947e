"""Saved jobs and one-time runs: RunSpec.from_job_settings / from_bundle / to_job_settings, Run.from_job_settings."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from runspec import NewCluster, NotebookTask, Run, RunSpec, SparkPythonTask, SpecError, submit
from runspec.testing import Emulator, ManualClock, Outcome

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2}
SMALL = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
TOKEN = "jobs-e2e-token"

# A job with every kind of task the issue names: a condition, a for_each (whose task runs on a shared job
# cluster), a run_job task, a serverless task with an environment, sources in Git, job parameters in
# task fields, and job-only fields.
WORKFLOW: dict[str, Any] = {
    "name": "orders-nightly",
    "git_source": {"git_url": "https://github.com/acme/etl", "git_provider": "gitHub", "git_branch": "main"},
    "parameters": [{"name": "region", "default": "emea"}, {"name": "days", "default": '["mon", "tue", "wed"]'}],
    "environments": [{"environment_key": "py", "spec": {"environment_version": "4", "dependencies": ["pandas"]}}],
    "job_clusters": [{"job_cluster_key": "etl", "new_cluster": CLUSTER}],
    "schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC"},
    "max_concurrent_runs": 1,
    "tags": {"team": "orders"},
    "tasks": [
        {
            "task_key": "check",
            "condition_task": {"op": "EQUAL_TO", "left": "{{job.parameters.region}}", "right": "emea"},
        },
        {
            "task_key": "ingest",
            "depends_on": [{"task_key": "check", "outcome": "true"}],
            "environment_key": "py",
            "spark_python_task": {
                "python_file": "jobs/ingest.py",
                "source": "GIT",
                "parameters": ["--region", "{{job.parameters.region}}"],
            },
        },
        {
            "task_key": "per_day",
            "depends_on": [{"task_key": "ingest"}],
            "for_each_task": {
                "inputs": "{{job.parameters.days}}",
                "concurrency": 2,
                "task": {
                    "task_key": "per_day_iteration",
                    "job_cluster_key": "etl",
                    "notebook_task": {
                        "notebook_path": "notebooks/day",
                        "source": "GIT",
                        "base_parameters": {"day": "{{input}}"},
                    },
                },
            },
        },
        {
            "task_key": "publish",
            "depends_on": [{"task_key": "per_day"}],
            "run_if": "ALL_DONE",
            "run_job_task": {"job_id": 4242, "job_parameters": {"region": "{{job.parameters.region}}"}},
        },
    ],
}


def workflow() -> dict[str, Any]:
    return copy.deepcopy(WORKFLOW)


def codes(problems: Any) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in problems]


# -- job -> run ------------------------------------------------------------------------------------


def test_a_workflow_becomes_a_run_with_its_parameters_and_clusters_in_place() -> None:
    spec = RunSpec.from_job_settings(workflow())
    body = spec.to_dict()
    assert body["run_name"] == "orders-nightly"
    assert body["git_source"] == WORKFLOW["git_source"]
    assert body["environments"] == WORKFLOW["environments"]
    check, ingest, per_day, publish = body["tasks"]
    assert check["condition_task"]["left"] == "emea"
    assert ingest["spark_python_task"]["parameters"] == ["--region", "emea"]
    assert ingest["environment_key"] == "py" and "new_cluster" not in ingest
    inner = per_day["for_each_task"]["task"]
    assert per_day["for_each_task"]["inputs"] == '["mon", "tue", "wed"]'
    assert inner["new_cluster"] == CLUSTER and "job_cluster_key" not in inner
    # Job parameters reach the key-value parameters of notebook and run_job tasks, as in a job run.
    assert inner["notebook_task"]["base_parameters"] == {
        "day": "{{input}}",
        "region": "emea",
        "days": '["mon", "tue", "wed"]',
    }
    assert publish["run_job_task"]["job_parameters"] == {"region": "emea", "days": '["mon", "tue", "wed"]'}
    assert codes(spec.warnings) == [
        ("$.schedule", "job-field-dropped"),
        ("$.max_concurrent_runs", "job-field-dropped"),
        ("$.tags", "job-field-dropped"),
        ("$.job_clusters[0]", "cluster-per-task"),
        ("$.parameters", "job-parameters-inlined"),
    ]
    messages = {w.code: w.message for w in spec.warnings}
    assert "separate cluster for each iteration" in messages["cluster-per-task"]
    assert "region='emea' (default)" in messages["job-parameters-inlined"]
    assert "tasks 'per_day', 'publish'" in messages["job-parameters-inlined"]


def test_parameters_given_replace_the_defaults() -> None:
    spec = RunSpec.from_job_settings(workflow(), parameters={"region": "apac"}, run_name="orders-apac")
    body = spec.to_dict()
    assert body["run_name"] == "orders-apac"
    assert body["tasks"][0]["condition_task"]["left"] == "apac"
    assert body["tasks"][3]["run_job_task"]["job_parameters"]["region"] == "apac"
    [inlined] = [w for w in spec.warnings if w.code == "job-parameters-inlined"]
    assert "region='apac' (given)" in inlined.message


def test_a_parameter_the_job_does_not_define_is_a_problem() -> None:
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(workflow(), parameters={"regoin": "apac"})
    [problem] = info.value.problems
    assert (problem.path, problem.code) == ("$.parameters", "unknown-job-parameter")
    assert "did you mean 'region'?" in problem.message


def test_references_without_a_value_or_definition_are_problems_with_paths() -> None:
    job = workflow()
    job["parameters"] = [{"name": "region"}]  # no default
    job["tasks"][3]["run_job_task"]["job_parameters"]["when"] = "{{job.parameters.date}}"
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    assert codes(info.value.problems) == [
        ("$.parameters[0].default", "missing-field"),  # the API requires a default
        ("$.tasks[0].condition_task.left", "missing-job-parameter"),
        ("$.tasks[1].spark_python_task.parameters[1]", "missing-job-parameter"),
        ("$.tasks[2].for_each_task.inputs", "unknown-job-parameter"),
        ("$.tasks[3].run_job_task.job_parameters.region", "missing-job-parameter"),
        ("$.tasks[3].run_job_task.job_parameters.when", "unknown-job-parameter"),
    ]
    # With every parameter defined, and values given, it converts.
    spec = RunSpec.from_job_settings(
        job | {"parameters": [{"name": n, "default": ""} for n in ("region", "days", "date")]},
        parameters={"region": "us", "days": '["thu"]', "date": "2026-12-01"},
    )
    assert spec.to_dict()["tasks"][3]["run_job_task"]["job_parameters"]["when"] == "2026-12-01"


def test_parameter_names_in_backticks_and_spaces_inside_braces() -> None:
    job = {
        "name": "ticks",
        "parameters": [{"name": "run-date", "default": "2026-12-02"}, {"name": "x", "default": "1"}],
        "tasks": [
            {
                "task_key": "t",
                "existing_cluster_id": "1201-123456-abcdefgh",
                "spark_python_task": {
                    "python_file": "/x.py",
                    "parameters": ["{{job.parameters.`run-date`}}", "{{ job.parameters.x }}"],
                },
            }
        ],
    }
    body = RunSpec.from_job_settings(job).to_dict()
    assert body["tasks"][0]["spark_python_task"]["parameters"] == ["2026-12-02", "1"]


def test_a_task_naming_an_undefined_job_cluster_is_a_problem() -> None:
    job = workflow()
    job["tasks"][2]["for_each_task"]["task"]["job_cluster_key"] = "elt"
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    [problem] = [p for p in info.value.problems if p.code == "unknown-job-cluster"]
    assert problem.path == "$.tasks[2].for_each_task.task.job_cluster_key"
    assert "did you mean 'etl'?" in problem.message


def test_a_job_cluster_and_a_cluster_of_its_own_are_a_problem() -> None:
    job = {
        "job_clusters": [{"job_cluster_key": "c", "new_cluster": CLUSTER}],
        "tasks": [
            {
                "task_key": "a",
                "job_cluster_key": "c",
                "existing_cluster_id": "x",
                "notebook_task": {"notebook_path": "/a"},
            }
        ],
    }
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    assert codes(info.value.problems) == [("$.tasks[0]", "multiple-compute")]


def test_job_cluster_problems_are_reported_once_where_the_cluster_is_defined() -> None:
    job = {
        "job_clusters": [
            {"job_cluster_key": "c", "new_cluster": {**CLUSTER, "num_wrokers": 3}},
            {"job_cluster_key": "c", "new_cluster": CLUSTER},
            {"job_cluster_key": "sl", "serverless_compute": {}},
            {"job_cluster_key": "x", "new_cluster": CLUSTER, "labels": {}},
        ],
        "tasks": [
            {"task_key": "a", "job_cluster_key": "c", "notebook_task": {"notebook_path": "/a"}},
            {"task_key": "b", "job_cluster_key": "c", "notebook_task": {"notebook_path": "/b"}},
        ],
    }
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    assert codes(info.value.problems) == [
        ("$.job_clusters[0].new_cluster.num_wrokers", "unknown-field"),
        ("$.job_clusters[3].labels", "unknown-field"),
        ("$.job_clusters[1].job_cluster_key", "duplicate-job-cluster"),
        ("$.job_clusters[2]", "job-cluster-not-convertible"),
    ]
    assert info.value.problems[0].message == "ClusterSpec has no field 'num_wrokers'; did you mean 'num_workers'?"


def test_misspelt_job_fields_get_the_closest_name() -> None:
    job = workflow() | {"schedul": {}, "max_concurent_runs": 2}
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    assert codes(info.value.problems) == [("$.schedul", "unknown-field"), ("$.max_concurent_runs", "unknown-field")]
    assert "did you mean 'schedule'?" in info.value.problems[0].message
    assert "did you mean 'max_concurrent_runs'?" in info.value.problems[1].message


def test_a_jobs_get_response_is_read_from_settings_with_paths_there() -> None:
    response = {"job_id": 7, "creator_user_name": "a@b.c", "created_time": 1, "settings": workflow()}
    spec = RunSpec.from_job_settings(response)
    assert spec.to_dict() == RunSpec.from_job_settings(workflow()).to_dict()
    assert spec.warnings[0].path == "$.settings.schedule"
    response["settings"]["tasks"][0]["task_kye"] = "x"
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(response)
    assert codes(info.value.problems) == [("$.settings.tasks[0].task_kye", "unknown-field")]


def test_a_paged_jobs_get_response_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings({"job_id": 7, "has_more": True, "settings": workflow()})
    assert codes(info.value.problems) == [("$.has_more", "job-settings-paged")]


def test_unused_job_clusters_are_dropped_with_a_warning() -> None:
    job = workflow()
    job["job_clusters"].append({"job_cluster_key": "spare", "new_cluster": SMALL})
    spec = RunSpec.from_job_settings(job)
    assert ("$.job_clusters[1]", "job-field-dropped") in codes(spec.warnings)


def test_wrong_python_types_raise_type_error() -> None:
    with pytest.raises(TypeError, match="takes a dict"):
        RunSpec.from_job_settings([])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'parameters' must map str to str"):
        RunSpec.from_job_settings(workflow(), parameters={"region": 1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="'name' must be str"):
        RunSpec.from_job_settings(workflow()).to_job_settings(name=3)  # type: ignore[arg-type]


# -- bundles ---------------------------------------------------------------------------------------


def bundle(**jobs: Any) -> dict[str, Any]:
    return {"bundle": {"name": "b", "target": "dev"}, "resources": {"jobs": jobs}}


def test_a_bundle_job_with_permissions_becomes_a_run_with_an_access_control_list() -> None:
    job = workflow() | {
        "permissions": [{"level": "CAN_MANAGE_RUN", "group_name": "etl"}],
        "deployment": {"kind": "BUNDLE", "metadata_file_path": "/x"},
        "edit_mode": "UI_LOCKED",
    }
    spec = RunSpec.from_bundle(bundle(nightly=job, other={"name": "o"}), "nightly")
    assert spec.to_dict()["access_control_list"] == [{"permission_level": "CAN_MANAGE_RUN", "group_name": "etl"}]
    assert ("$.resources.jobs.nightly.deployment", "job-field-dropped") in codes(spec.warnings)
    assert ("$.resources.jobs.nightly.edit_mode", "job-field-dropped") in codes(spec.warnings)


def test_an_unknown_bundle_job_names_the_closest_one() -> None:
    with pytest.raises(SpecError) as info:
        RunSpec.from_bundle(bundle(nightly=workflow()), "nighty")
    assert codes(info.value.problems) == [("$.resources.jobs", "unknown-job")]
    assert "did you mean 'nightly'?" in info.value.problems[0].message


def test_unresolved_bundle_references_are_problems() -> None:
    job = workflow()
    job["tasks"][3]["run_job_task"]["job_id"] = "${resources.jobs.publisher.id}"
    with pytest.raises(SpecError) as info:
        RunSpec.from_bundle(bundle(nightly=job), "nightly")
    paths = codes(info.value.problems)
    assert ("$.resources.jobs.nightly.tasks[3].run_job_task.job_id", "unresolved-reference") in paths


def test_permissions_and_an_access_control_list_together_are_a_problem() -> None:
    job = workflow() | {"permissions": [], "access_control_list": []}
    with pytest.raises(SpecError) as info:
        RunSpec.from_bundle(bundle(j=job), "j")
    assert codes(info.value.problems) == [("$.resources.jobs.j.permissions", "conflicting-fields")]


# -- run -> job ------------------------------------------------------------------------------------


def test_a_compiled_run_becomes_a_job_with_its_named_clusters_shared() -> None:
    run = (
        Run("etl")
        .cluster("big", NewCluster(**CLUSTER))
        .task(NotebookTask("/a"), key="a", cluster="big")
        .task(NotebookTask("/b"), key="b", depends_on=["a"], cluster="big")
        .task(SparkPythonTask("/c.py"), key="c", new_cluster=NewCluster(**SMALL))
        .task(SparkPythonTask("/d.py"), key="d", new_cluster=NewCluster(**SMALL))
        .task(SparkPythonTask("/e.py"), key="e", new_cluster=NewCluster(**SMALL, spark_env_vars={"E": "1"}))
        .idempotency_token("nightly-2026-12-02")
    )
    job = run.to_job_settings()
    assert job["name"] == "etl"
    assert "idempotency_token" not in job
    assert [t.get("job_cluster_key") for t in job["tasks"]] == ["big", "big", "c_cluster", "c_cluster", None]
    assert job["job_clusters"] == [
        {"job_cluster_key": "big", "new_cluster": CLUSTER},
        {"job_cluster_key": "c_cluster", "new_cluster": SMALL},
    ]
    assert job["tasks"][4]["new_cluster"] == {**SMALL, "spark_env_vars": {"E": "1"}}
    assert run.to_job_settings(name="renamed")["name"] == "renamed"
    # The compiled RunSpec holds only the body: its clusters are keyed after their first task, unless the
    # names are given.
    spec = run.compile()
    assert [t.get("job_cluster_key") for t in spec.to_job_settings()["tasks"]][:2] == ["a_cluster", "a_cluster"]
    named = spec.to_job_settings(cluster_names={"a": "big", "b": "big"})
    assert named == job


def test_a_loaded_run_shares_identical_clusters_under_a_readable_key() -> None:
    body = {
        "run_name": "loaded",
        "tasks": [
            {"task_key": "first", "new_cluster": CLUSTER, "notebook_task": {"notebook_path": "/a"}},
            {"task_key": "second", "new_cluster": CLUSTER, "notebook_task": {"notebook_path": "/b"}},
        ],
    }
    job = RunSpec.from_dict(body).to_job_settings()
    assert job["job_clusters"] == [{"job_cluster_key": "first_cluster", "new_cluster": CLUSTER}]
    assert [t["job_cluster_key"] for t in job["tasks"]] == ["first_cluster", "first_cluster"]
    # The job converts back to the same run.
    assert RunSpec.from_job_settings(job).to_dict() == body


def test_the_workflow_goes_to_a_run_and_back_to_the_same_job_up_to_the_dropped_fields() -> None:
    job = Run.from_job_settings(workflow()).to_job_settings()
    assert job["job_clusters"] == WORKFLOW["job_clusters"]
    assert job["tasks"][2]["for_each_task"]["task"]["job_cluster_key"] == "etl"
    for field in ("schedule", "max_concurrent_runs", "tags", "parameters"):
        assert field not in job
    assert job["git_source"] == WORKFLOW["git_source"] and job["environments"] == WORKFLOW["environments"]


def test_run_from_job_settings_is_a_builder_that_takes_more_tasks() -> None:
    run = Run.from_job_settings(workflow(), parameters={"region": "us"}).task(
        NotebookTask("/notify"), key="notify", depends_on=["publish"], environment_key="py"
    )
    spec = run.compile()
    assert spec.task_keys == ("check", "ingest", "per_day", "publish", "notify")
    assert spec.to_dict()["tasks"][0]["condition_task"]["left"] == "us"
    assert [w.code for w in spec.warnings][:3] == ["job-field-dropped"] * 3


# -- end to end on the emulator --------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock) -> Iterator[Emulator]:
    with Emulator(token=TOKEN, clock=clock) as emulator:
        yield emulator


def test_the_workflow_runs_to_its_end_on_the_emulator(emu: Emulator, clock: ManualClock) -> None:
    emu.script("ingest", Outcome.success(result="12 files"))
    spec = RunSpec.from_job_settings(workflow())
    handle = submit(spec, host=emu.url, token=TOKEN, sleep=clock.advance, clock=clock.now)
    handle.wait()
    got = emu.run(handle.run_id)
    assert got["state"]["result_state"] == "SUCCESS"
    states = {t["task_key"]: t["state"].get("result_state") for t in got["tasks"]}
    assert states["check"] == "SUCCESS" and states["ingest"] == "SUCCESS"
    assert states["per_day"] == "SUCCESS" and states["publish"] == "SUCCESS"
    [sent] = emu.requests_to("runs/submit")
    assert sent.body["tasks"][2]["for_each_task"]["task"]["new_cluster"] == CLUSTER
    assert "job_clusters" not in sent.body and "parameters" not in sent.body


def test_other_parameters_take_the_other_branch_on_the_emulator(emu: Emulator, clock: ManualClock) -> None:
    spec = RunSpec.from_job_settings(workflow(), parameters={"region": "apac"})
    handle = submit(spec, host=emu.url, token=TOKEN, sleep=clock.advance, clock=clock.now)
    handle.wait()
    got = emu.run(handle.run_id)
    assert got["state"]["result_state"] == "SUCCESS"
    states = {t["task_key"]: t["state"].get("result_state") for t in got["tasks"]}
    # The condition is false for apac: its "true" branch and what follows it do not run.
    assert states == {"check": "SUCCESS", "ingest": "EXCLUDED", "per_day": "EXCLUDED", "publish": "EXCLUDED"}


def test_the_input_is_not_changed() -> None:
    job = workflow()
    response = {"job_id": 1, "settings": job}
    RunSpec.from_job_settings(response, parameters={"region": "us"})
    assert job == WORKFLOW


def test_pushdown_reaches_only_tasks_that_take_key_value_parameters() -> None:
    job = {
        "parameters": [{"name": "env", "default": "prod"}],
        "environments": [{"environment_key": "py", "spec": {"environment_version": "4"}}],
        "tasks": [
            {
                "task_key": "kw",
                "environment_key": "py",
                "python_wheel_task": {
                    "package_name": "p",
                    "entry_point": "m",
                    "named_parameters": {"env": "dev", "n": "1"},
                },
            },
            {
                "task_key": "pos",
                "environment_key": "py",
                "python_wheel_task": {"package_name": "p", "entry_point": "m", "parameters": ["a"]},
            },
            {"task_key": "legacy", "run_job_task": {"job_id": 1, "notebook_params": {"a": "b"}}},
            {"task_key": "query", "sql_task": {"warehouse_id": "w", "query": {"query_id": "q"}}},
            {"task_key": "alert", "sql_task": {"warehouse_id": "w", "alert": {"alert_id": "a"}}},
        ],
    }
    spec = RunSpec.from_job_settings(job)
    kw, pos, legacy, query, alert = spec.to_dict()["tasks"]
    assert kw["python_wheel_task"]["named_parameters"] == {"env": "prod", "n": "1"}  # the job parameter wins
    assert pos["python_wheel_task"] == {"package_name": "p", "entry_point": "m", "parameters": ["a"]}
    assert "job_parameters" not in legacy["run_job_task"]
    assert query["sql_task"]["parameters"] == {"env": "prod"}
    assert "parameters" not in alert["sql_task"]
    [inlined] = [w for w in spec.warnings if w.code == "job-parameters-inlined"]
    assert "tasks 'kw', 'query'" in inlined.message


def test_every_job_field_is_carried_dropped_with_a_warning_or_converted() -> None:
    """No field of JobSettings can vanish silently: the converter knows what becomes of each."""
    from runspec.spec.jobs import CARRIED_FIELDS, JOB_ONLY_FIELDS
    from runspec.spec.schema._schema import schema_fields

    converted = {"name", "job_clusters", "parameters"}
    assert set(schema_fields("JobSettings")) <= {*CARRIED_FIELDS, *JOB_ONLY_FIELDS, *converted}
    assert set(CARRIED_FIELDS) <= set(RunSpec._fields)


def test_carried_fields_are_the_job_fields_runs_submit_takes() -> None:
    """The carried fields come from the schema: the same fields as ever, in the order a run body lists them."""
    from runspec.spec.job_conversion._job_to_run import carried_fields
    from runspec.spec.jobs import CARRIED_FIELDS
    from runspec.spec.schema._schema import FieldInfo, schema_fields

    assert set(CARRIED_FIELDS) == {
        "tasks", "timeout_seconds", "git_source", "environments", "email_notifications", "webhook_notifications",
        "notification_settings", "health", "queue", "run_as", "access_control_list", "budget_policy_id",
        "usage_policy_id", "performance_target", "duration_target", "environment_variables",
    }  # fmt: skip
    assert list(CARRIED_FIELDS) == [f for f in RunSpec._fields if f in CARRIED_FIELDS]
    # A field jobs/create and runs/submit both gain is carried with no edit; one runs/submit refuses is not.
    job = {**schema_fields("CreateJob"), "quantum_budget": schema_fields("CreateJob")["budget_policy_id"]}
    run = {**schema_fields("RunsSubmitRequest"), "quantum_budget": schema_fields("RunsSubmitRequest")["run_name"]}
    assert carried_fields(job, run) == (*carried_fields(schema_fields("CreateJob"), schema_fields("RunsSubmitRequest")),
                                        "quantum_budget")  # fmt: skip
    refused = FieldInfo(name="quantum_budget", desc=("string",), required=False, enum=None, rejected="gone")
    assert "quantum_budget" not in carried_fields(job, {**run, "quantum_budget": refused})


def test_job_only_fields_are_loaded_strictly_too() -> None:
    job = workflow()
    job["schedule"] = {"quartz_cron_expresion": "0 0 2 * * ?", "timezone_id": "UTC"}
    job["trigger"] = {"periodic": {"interval": "1", "unit": "DAYS"}}
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    assert codes(info.value.problems) == [
        ("$.schedule.quartz_cron_expresion", "unknown-field"),
        ("$.schedule.quartz_cron_expression", "missing-field"),
    ]


def test_references_outside_the_tasks_get_their_values_too() -> None:
    job = workflow()
    job["git_source"]["git_branch"] = "{{job.parameters.region}}-release"
    job["job_clusters"][0]["new_cluster"] = {**CLUSTER, "spark_env_vars": {"REGION": "{{job.parameters.region}}"}}
    body = RunSpec.from_job_settings(job, parameters={"region": "us"}).to_dict()
    assert body["git_source"]["git_branch"] == "us-release"
    assert body["tasks"][2]["for_each_task"]["task"]["new_cluster"]["spark_env_vars"] == {"REGION": "us"}
    job["job_clusters"][0]["new_cluster"]["spark_env_vars"]["ZONE"] = "{{job.parameters.zone}}"
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    assert codes(info.value.problems) == [
        ("$.job_clusters[0].new_cluster.spark_env_vars.ZONE", "unknown-job-parameter")
    ]


def test_settings_that_contain_themselves_are_a_problem_not_a_crash() -> None:
    job = workflow()
    job["tasks"][1]["spark_python_task"]["loop"] = job
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings(job)
    assert ("$", "too-deep") in codes(info.value.problems)


def test_every_code_of_the_converter_is_exercised() -> None:
    """Each problem or warning code the job converter can report is asserted by a test or a fixture."""
    from pathlib import Path

    try:
        from tests.test_validation import JOB_CONVERTER, PACKAGE, _codes_in
    except ImportError:  # tests/ run as a plain directory
        from test_validation import JOB_CONVERTER, PACKAGE, _codes_in  # type: ignore[no-redef]

    codes = set().union(*(_codes_in(PACKAGE / name) for name in JOB_CONVERTER))
    assert {"job-field-dropped", "unknown-job-cluster"} <= codes  # the scan works
    here = Path(__file__).parent
    tested = "".join(p.read_text() for p in here.glob("test_jobs*.py")) + "".join(
        p.read_text() for p in (here / "golden" / "jobs").glob("*.json")
    )
    assert sorted(c for c in codes if f'"{c}"' not in tested) == []


def test_settings_of_the_wrong_shape_are_wrong_type_problems_at_their_path() -> None:
    with pytest.raises(SpecError) as info:
        RunSpec.from_job_settings({"settings": ["not", "an", "object"]})
    assert [(p.path, p.code) for p in info.value.problems] == [("$.settings", "wrong-type")]
    with pytest.raises(SpecError) as info:
        RunSpec.from_bundle({"resources": {"jobs": {"nightly": {**WORKFLOW, "permissions": "everyone"}}}}, "nightly")
    assert ("$.resources.jobs.nightly.permissions", "wrong-type") in [(p.path, p.code) for p in info.value.problems]


def test_job_clusters_keep_their_order_through_a_run_and_back() -> None:
    # A shared cluster the builder did not name (tasks a and c) is used before the named one (task b): the
    # job lists its clusters in the order the tasks use them, and reading that job back into a run, where
    # every cluster now has a name, gives the same job again.
    small = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=1)
    big = NewCluster(spark_version="15.4.x-scala2.12", node_type_id="i3.xlarge", num_workers=8)
    run = (
        Run("order")
        .cluster("big", big)
        .task(NotebookTask("/a"), key="a", new_cluster=small)
        .task(NotebookTask("/b"), key="b", cluster="big")
        .task(NotebookTask("/c"), key="c", new_cluster=small)
    )
    job = run.to_job_settings()
    assert [entry["job_cluster_key"] for entry in job["job_clusters"]] == ["a_cluster", "big"]
    assert Run.from_job_settings(job).to_job_settings() == job
