"""The job side of the model: jobs/create bodies load strictly, and runs/submit bodies load as before."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runspec import NewCluster, NotebookTask, RunSpec, SpecError
from runspec.spec.model._job_objects import (
    CreateJob,
    CronSchedule,
    JobCluster,
    JobForEachTask,
    JobSettings,
    JobTask,
    TriggerSettings,
)

ROOT = Path(__file__).resolve().parent.parent

# runs/submit's answer to shared clusters, as RunSpec has always reported it.
SHARED_CLUSTERS = (
    "runs/submit does not accept shared job clusters (the workspace answers 'Shared job cluster feature is not"
    " supported in runs/submit API.'); give each task a new_cluster, or use Run.cluster(name, NewCluster(...)),"
    " which copies the cluster into every task that uses it"
)

SETTINGS: dict[str, Any] = {
    "name": "nightly-etl",
    "format": "MULTI_TASK",
    "max_concurrent_runs": 1,
    "timeout_seconds": 7200,
    "tags": {"team": "data"},
    "edit_mode": "UI_LOCKED",
    "deployment": {"kind": "BUNDLE", "metadata_file_path": "/Workspace/bundle/metadata.json"},
    "schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC", "pause_status": "UNPAUSED"},
    "trigger": {"pause_status": "PAUSED", "file_arrival": {"url": "s3://landing/"}},
    "continuous": {"pause_status": "PAUSED"},
    "parameters": [{"name": "date", "default": "2026-01-01"}],
    "job_clusters": [
        {
            "job_cluster_key": "shared",
            "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 2},
        }
    ],
    "git_source": {"git_url": "https://github.com/acme/etl", "git_provider": "gitHub", "git_branch": "main"},
    "environments": [{"environment_key": "default", "spec": {"environment_version": "2", "dependencies": ["x"]}}],
    "queue": {"enabled": True},
    "email_notifications": {"on_failure": ["data@acme.example"]},
    "tasks": [
        {
            "task_key": "ingest",
            "job_cluster_key": "shared",
            "notebook_task": {"notebook_path": "etl/ingest", "base_parameters": {"day": "{{job.parameters.date}}"}},
        },
        {
            "task_key": "fan_out",
            "depends_on": [{"task_key": "ingest"}],
            "for_each_task": {
                "inputs": "[1, 2, 3]",
                "task": {
                    "task_key": "fan_out_item",
                    "job_cluster_key": "shared",
                    "spark_python_task": {"python_file": "etl/item.py", "parameters": ["{{input}}"]},
                },
            },
        },
        {
            "task_key": "report",
            "depends_on": [{"task_key": "fan_out"}],
            "environment_key": "default",
            "python_wheel_task": {"package_name": "etl", "entry_point": "report"},
        },
    ],
}


def test_job_settings_load_into_job_classes_and_back_unchanged() -> None:
    settings = JobSettings.from_dict(SETTINGS)
    assert settings.to_dict() == SETTINGS
    assert isinstance(settings.schedule, CronSchedule)
    assert isinstance(settings.trigger, TriggerSettings)
    assert isinstance(settings.job_clusters[0], JobCluster)
    assert isinstance(settings.job_clusters[0].new_cluster, NewCluster)
    first, fan_out, _ = settings.tasks
    assert isinstance(first, JobTask) and first.job_cluster_key == "shared"
    assert isinstance(first.notebook_task, NotebookTask)  # shared types are the runs/submit classes
    assert isinstance(fan_out.for_each_task, JobForEachTask)
    assert isinstance(fan_out.for_each_task.task, JobTask)
    assert fan_out.for_each_task.task.job_cluster_key == "shared"


def test_create_job_is_the_settings_and_an_access_control_list() -> None:
    body = {**SETTINGS, "access_control_list": [{"user_name": "a@acme.example", "permission_level": "CAN_VIEW"}]}
    assert CreateJob.from_dict(body).to_dict() == body
    with pytest.raises(SpecError) as caught:
        JobSettings.from_dict(body)
    assert [(p.path, p.code) for p in caught.value.problems] == [("$.access_control_list", "unknown-field")]


def test_misspelt_job_keys_are_problems_naming_the_closest_field() -> None:
    body = copy.deepcopy(SETTINGS)
    body["max_concurent_runs"] = 2
    body["tasks"][0]["job_cluster_kee"] = body["tasks"][0].pop("job_cluster_key")
    body["schedule"]["timezone"] = body["schedule"].pop("timezone_id")
    with pytest.raises(SpecError) as caught:
        JobSettings.from_dict(body)
    found = {(p.path, p.code): p.message for p in caught.value.problems}
    assert found[("$.max_concurent_runs", "unknown-field")].endswith(
        "did you mean 'max_concurrent_runs'? (extra={...} or strict=False passes it through)"
    )
    assert "did you mean 'job_cluster_key'?" in found[("$.tasks[0].job_cluster_kee", "unknown-field")]
    assert ("$.schedule.timezone_id", "missing-field") in found
    assert "did you mean 'timezone_id'?" in found[("$.schedule.timezone", "unknown-field")]


def test_wrong_json_types_in_job_settings_are_problems() -> None:
    body = {**SETTINGS, "max_concurrent_runs": "one", "job_clusters": {"shared": {}}}
    with pytest.raises(SpecError) as caught:
        JobSettings.from_dict(body)
    assert {(p.path, p.code) for p in caught.value.problems} == {
        ("$.max_concurrent_runs", "wrong-type"),
        ("$.job_clusters", "wrong-type"),
    }


def test_non_strict_job_settings_keep_unknown_fields_as_warnings() -> None:
    body = {**SETTINGS, "future_field": {"x": 1}}
    settings = JobSettings.from_dict(body, strict=False)
    assert settings.to_dict() == body


def test_runs_submit_still_refuses_shared_clusters_with_the_same_messages() -> None:
    body = {
        "run_name": "r",
        "job_clusters": [{"job_cluster_key": "shared", "new_cluster": {"spark_version": "15.4.x-scala2.12"}}],
        "tasks": [
            {"task_key": "a", "job_cluster_key": "shared", "notebook_task": {"notebook_path": "/n"}},
            {
                "task_key": "b",
                "existing_cluster_id": "0101-abc",
                "for_each_task": {
                    "inputs": "[1]",
                    "task": {"task_key": "b_i", "job_cluster_key": "shared", "notebook_task": {"notebook_path": "/n"}},
                },
            },
        ],
    }
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(body)
    shared = [(p.path, p.message) for p in caught.value.problems if p.code == "shared-cluster-unsupported"]
    assert shared == [
        ("$.job_clusters", SHARED_CLUSTERS),
        ("$.tasks[0].job_cluster_key", SHARED_CLUSTERS),
        ("$.tasks[1].for_each_task.task.job_cluster_key", SHARED_CLUSTERS),
    ]


def test_import_runspec_does_not_load_the_job_side() -> None:
    code = "import sys, runspec, runspec.spec; print('runspec.spec.model._job_objects' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def _pinned_sdk() -> tuple[Path, dict[str, Any]]:
    pin = json.loads((ROOT / "tools" / "api" / "sources.json").read_text(encoding="utf-8"))["jobs_create_fields.json"]
    databricks = pytest.importorskip("databricks.sdk", reason="databricks-sdk is part of the test extra")
    return Path(databricks.__file__).resolve().parent.parent.parent, pin["sdk"]


def test_job_description_is_what_the_extractor_makes_from_the_pinned_sdk(tmp_path: Path) -> None:
    site, sdk = _pinned_sdk()
    installed = {name: hashlib.sha256((site / name).read_bytes()).hexdigest() for name in sdk["files"]}
    if installed != sdk["files"]:
        pytest.skip(
            f"the installed databricks-sdk is not the pinned {sdk['version']}: "
            "tools/api/jobs_create_fields.json cannot be remade from it (see docs/api-model.md to refresh it)"
        )
    out = tmp_path / "jobs_create_fields.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "extract_sdk_jobs.py"), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == (ROOT / "tools" / "api" / "jobs_create_fields.json").read_bytes(), (
        "tools/api/jobs_create_fields.json differs from what tools/extract_sdk_jobs.py makes from the pinned SDK"
    )
